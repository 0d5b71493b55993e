package ldap

import "io"

// The BER subset LDAP uses (RFC 4511 5.1): definite lengths only, of at most
// four bytes.

// splitTLV splits the first BER element of b into its tag, its content and
// what follows it. Only definite lengths of up to 4 bytes are valid in LDAP.
func splitTLV(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, io.ErrUnexpectedEOF
	}
	tag, n, i := b[0], int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, io.ErrUnexpectedEOF
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if n < 0 || len(b)-i < n {
		return 0, nil, nil, io.ErrUnexpectedEOF
	}
	return tag, b[i : i+n : i+n], b[i+n:], nil
}

// decodeInt decodes a BER INTEGER or ENUMERATED of at most 8 bytes.
func decodeInt(b []byte) int {
	if len(b) == 0 || len(b) > 8 {
		return -1
	}
	v := int64(int8(b[0]))
	for _, c := range b[1:] {
		v = v<<8 | int64(c)
	}
	return int(v)
}

func appendLen(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	case n < 0x10000:
		return append(b, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendTLV(b []byte, tag byte, content []byte) []byte {
	b = append(b, tag)
	b = appendLen(b, len(content))
	return append(b, content...)
}

func appendStr(b []byte, tag byte, s string) []byte {
	b = append(b, tag)
	b = appendLen(b, len(s))
	return append(b, s...)
}

// appendInt appends a non-negative INTEGER or ENUMERATED in the fewest bytes.
func appendInt(b []byte, tag byte, v int) []byte {
	var buf [9]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte(v)
		v >>= 8
		if v == 0 && buf[i] < 0x80 {
			break
		}
	}
	return appendTLV(b, tag, buf[i:])
}
