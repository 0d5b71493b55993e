package ldap

import (
	"fmt"
	"strings"
)

// guidString converts an Active Directory objectGUID to its canonical
// lower-case text form. AD sends 16 raw bytes in the Microsoft layout, whose
// first three fields are little-endian: bytes 0-3, 4-5 and 6-7 are swapped.
// A value that is already a GUID string (as some proxies send it) is
// lower-cased.
func guidString(b []byte) (string, error) {
	if len(b) == 36 && b[8] == '-' && b[13] == '-' && b[18] == '-' && b[23] == '-' {
		return strings.ToLower(string(b)), nil
	}
	if len(b) != 16 {
		return "", fmt.Errorf("objectGUID has %d bytes, want 16", len(b))
	}
	order := [16]byte{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
	var out [36]byte
	j := 0
	for i, k := range order {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j] = hexDigits[b[k]>>4]
		out[j+1] = hexDigits[b[k]&0xf]
		j += 2
	}
	return string(out[:]), nil
}
