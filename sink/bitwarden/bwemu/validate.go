package bwemu

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// validator collects DataAnnotations failures under their C# property paths
// (PascalCase: "Email", "Members[0].Email", "Collections[1].Id").
type validator struct {
	errs map[string][]string
}

func (v *validator) add(key, msg string) {
	if v.errs == nil {
		v.errs = map[string][]string{}
	}
	v.errs[key] = append(v.errs[key], msg)
}

// result returns the model-state error, or nil when nothing failed.
func (v *validator) result() *apiError {
	if len(v.errs) == 0 {
		return nil
	}
	return modelState(v.errs)
}

// required checks [Required] on a string: null, empty and whitespace fail.
// It reports whether the value passed, so that other checks can be skipped.
func (v *validator) requiredString(key, field string, s *string) bool {
	if s == nil || isBlank(*s) {
		v.add(key, fmt.Sprintf("The %s field is required.", field))
		return false
	}
	return true
}

// requiredValue checks [Required] on a nullable value type.
func (v *validator) requiredValue(key, field string, present bool) bool {
	if !present {
		v.add(key, fmt.Sprintf("The %s field is required.", field))
	}
	return present
}

// maxLength checks [StringLength(n)], counting UTF-16 code units like .NET.
func (v *validator) maxLength(key, field, s string, n int) {
	if len(utf16.Encode([]rune(s))) > n {
		v.add(key, fmt.Sprintf("The field %s must be a string with a maximum length of %d.", field, n))
	}
}

// memberType checks [EnumDataType(typeof(OrganizationUserType))]: 3
// (Manager) is gone, so only 0, 1, 2 and 4 pass.
func (v *validator) memberType(key, field string, t int) bool {
	switch t {
	case TypeOwner, TypeAdmin, TypeUser, TypeCustom:
		return true
	}
	v.add(key, fmt.Sprintf("The field %s is invalid.", field))
	return false
}

// strictEmail checks StrictEmailAddressAttribute.
func (v *validator) strictEmail(key, field, s string) {
	if !isStrictEmail(s) {
		v.add(key, fmt.Sprintf("The %s field is not a supported e-mail address format.", field))
	}
}

// laxEmail checks [EmailAddress].
func (v *validator) laxEmail(key, field, s string) {
	if !isLaxEmail(s) {
		v.add(key, fmt.Sprintf("The %s field is not a valid e-mail address.", field))
	}
}

// isLaxEmail is .NET's EmailAddressAttribute: exactly one '@', neither first
// nor last, and no line breaks.
func isLaxEmail(s string) bool {
	if strings.ContainsAny(s, "\r\n") {
		return false
	}
	at := strings.IndexByte(s, '@')
	return at > 0 && at == strings.LastIndexByte(s, '@') && at != len(s)-1
}

// strictTail is the regular expression of StrictEmailAddressAttribute: an
// ASCII local part, an '@', and a domain with a dot and a letters-only TLD.
var strictTail = regexp.MustCompile(`^[\x00-\x7F]+@.+\.\pL+$`)

// isStrictEmail is StrictEmailAddressAttribute: the address must parse as a
// bare mailbox (no display name, comments or angle brackets; MimeKit), match
// strictTail, and pass EmailAddressAttribute.
func isStrictEmail(s string) bool {
	if !isLaxEmail(s) || !strictTail.MatchString(s) {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	return isDotAtom(local, isAtext) && isDotAtom(domain, isDomainChar)
}

// isDotAtom reports whether s is non-empty runs of ok characters joined by
// single dots.
func isDotAtom(s string, ok func(rune) bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if r != '.' && !ok(r) {
			return false
		}
	}
	return true
}

// isAtext is RFC 5322 atext.
func isAtext(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
}

// isDomainChar accepts what MimeKit accepts in a domain: letters (also
// non-ASCII), digits and hyphens.
func isDomainChar(r rune) bool {
	if r > 127 {
		return r != 0xA0 && !strings.ContainsRune("\u2028\u2029\uFEFF", r)
	}
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_'
}

func itoa(i int) string { return strconv.Itoa(i) }
