package ldap

import (
	"errors"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// DNs are compared by a canonical form: attribute types and values folded to
// lower case, no spaces around '=', ',' and '+', escapes decoded and written
// back in one way, and the parts of a multi-valued RDN sorted. Two DNs are the
// same entry when their canonical forms are equal.
//
// Most DNs a directory returns are plain ASCII with no escapes; appendCanonical
// handles those in one pass without allocating, and hands the rest to
// ldap.ParseDN. Both paths produce the same text for the same DN. Attribute
// types written as OIDs (2.5.4.3=...) are not mapped to their names.

// canonicalDN returns the canonical form of dn.
func canonicalDN(dn string) (string, error) {
	b, err := appendCanonical(nil, dn)
	if err != nil {
		return "", err
	}
	if string(b) == dn {
		return dn, nil
	}
	return string(b), nil
}

// appendCanonical appends the canonical form of dn to buf.
func appendCanonical[T ~string | ~[]byte](buf []byte, dn T) ([]byte, error) {
	if !plainDN(dn) {
		return appendParsed(buf, string(dn))
	}
	start := len(buf)
	for i := 0; ; {
		j := i // the RDN is dn[i:j], its type dn[i:eq]
		for j < len(dn) && dn[j] != ',' {
			j++
		}
		eq := i
		for eq < j && dn[eq] != '=' {
			eq++
		}
		ts, te := trimSpaces(dn, i, eq)
		if eq == j || ts == te {
			return appendParsed(buf[:start], string(dn)) // reports the error
		}
		if len(buf) > start {
			buf = append(buf, ',')
		}
		buf = appendLower(buf, dn, ts, te)
		buf = append(buf, '=')
		vs, ve := trimSpaces(dn, eq+1, j)
		buf = appendLower(buf, dn, vs, ve)
		if j == len(dn) {
			return buf, nil
		}
		i = j + 1
	}
}

// plainDN reports whether dn is printable ASCII without escapes, quotes,
// multi-valued RDNs, ';' separators or '#' values: the form the fast path of
// appendCanonical handles.
func plainDN[T ~string | ~[]byte](dn T) bool {
	for i := 0; i < len(dn); i++ {
		switch c := dn[i]; {
		case c < 0x20 || c > 0x7e:
			return false
		case c == '\\' || c == '"' || c == '+' || c == ';' || c == '<' || c == '>' || c == '#':
			return false
		}
	}
	return true
}

// trimSpaces returns the bounds of s[i:j] without its leading and trailing
// spaces.
func trimSpaces[T ~string | ~[]byte](s T, i, j int) (int, int) {
	for i < j && s[i] == ' ' {
		i++
	}
	for j > i && s[j-1] == ' ' {
		j--
	}
	return i, j
}

// appendLower appends s[i:j] with ASCII letters in lower case.
func appendLower[T ~string | ~[]byte](buf []byte, s T, i, j int) []byte {
	for ; i < j; i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf
}

var errEmptyDN = errors.New("empty DN")

// appendParsed is the general path of appendCanonical, through ldap.ParseDN.
func appendParsed(buf []byte, dn string) ([]byte, error) {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return buf, err
	}
	if len(parsed.RDNs) == 0 {
		return buf, errEmptyDN
	}
	var parts []string
	for i, rdn := range parsed.RDNs {
		if i > 0 {
			buf = append(buf, ',')
		}
		if len(rdn.Attributes) == 1 {
			buf = appendAttr(buf, rdn.Attributes[0])
			continue
		}
		parts = parts[:0]
		for _, a := range rdn.Attributes {
			parts = append(parts, string(appendAttr(nil, a)))
		}
		sort.Strings(parts)
		buf = append(buf, strings.Join(parts, "+")...)
	}
	return buf, nil
}

func appendAttr(buf []byte, a *ldap.AttributeTypeAndValue) []byte {
	typ := strings.TrimSpace(a.Type)
	buf = appendLower(buf, typ, 0, len(typ))
	buf = append(buf, '=')
	v := strings.ToLower(a.Value)
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' || c == ',' || c == '+' || c == '"' || c == ';' || c == '<' || c == '>',
			c == '#' && i == 0,
			c == ' ' && (i == 0 || i == len(v)-1):
			buf = append(buf, '\\', c)
		case c < 0x20 || c == 0x7f:
			buf = append(buf, '\\', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

const hexDigits = "0123456789abcdef"

// isDeletedObject reports whether the canonical DN names an Active Directory
// deleted object: one whose RDN carries the "\0ADEL:<guid>" mangling, or one
// under CN=Deleted Objects. The groups of a domain with the Recycle Bin on keep
// such member values.
func isDeletedObject(canonical string) bool {
	return strings.Contains(canonical, `\0adel:`) || strings.Contains(","+canonical+",", ",cn=deleted objects,")
}
