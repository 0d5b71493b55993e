package ldap

import (
	"testing"
)

func TestCanonicalDN_EqualForms(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
	}{
		{"Case", "uid=Alice,ou=People,dc=Example,dc=COM", "UID=alice,OU=people,DC=example,DC=com"},
		{"Spaces", "uid=alice , ou = people,dc=example", "uid=alice,ou=people,dc=example"},
		{"EscapedComma", `cn=Smith\, John,ou=x`, `cn=smith\2c john,ou=x`},
		{"MultiValuedRDN", "cn=a+sn=b,ou=x", "SN=B + CN=A,ou=x"},
		{"Unicode", "cn=Zoë,ou=x", `CN=ZO\C3\8B,ou=x`},
		{"UnicodeEscaped", "cn=Zoë,ou=x", `cn=Zo\c3\ab,ou=x`},
		{"HexValue", "cn=#04024869,ou=x", "cn=hi,ou=x"},
		{"Semicolon", "cn=a;ou=x", "cn=a,ou=x"},
		{"EqualsInValue", "cn=a=b,ou=x", `cn=a\=b,ou=x`},
		{"DeletedObject", `CN=User 0014\0ADEL:1f2e,CN=Deleted Objects,DC=x`, `cn=user 0014\0adel:1f2e,cn=deleted objects,dc=x`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := canonicalDN(tc.a)
			if err != nil {
				t.Fatalf("canonicalDN(%q): %v", tc.a, err)
			}
			b, err := canonicalDN(tc.b)
			if err != nil {
				t.Fatalf("canonicalDN(%q): %v", tc.b, err)
			}
			if a != b {
				t.Errorf("canonicalDN(%q) = %q, canonicalDN(%q) = %q; want them equal", tc.a, a, tc.b, b)
			}
		})
	}
}

func TestCanonicalDN_DifferentForms(t *testing.T) {
	for _, tc := range [][2]string{
		{"cn=a,ou=x", "cn=a,ou=y"},
		{"cn=a,ou=x", "cn=a,ou=x,dc=z"},
		{`cn=\ a,ou=x`, "cn=a,ou=x"}, // an escaped leading space is part of the value
		{"cn=a+sn=b,ou=x", "cn=a,sn=b,ou=x"},
	} {
		a, _ := canonicalDN(tc[0])
		b, _ := canonicalDN(tc[1])
		if a == b {
			t.Errorf("canonicalDN(%q) = canonicalDN(%q) = %q; want them different", tc[0], tc[1], a)
		}
	}
}

func TestCanonicalDN_Values(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"uid=alice,ou=people,dc=example,dc=com", "uid=alice,ou=people,dc=example,dc=com"},
		{"UID=Alice, OU=People", "uid=alice,ou=people"},
		{`cn=Smith\2C John,ou=x`, `cn=smith\, john,ou=x`},
		{`CN=User\0ADEL:x,CN=Deleted Objects`, `cn=user\0adel:x,cn=deleted objects`},
	} {
		got, err := canonicalDN(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("canonicalDN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCanonicalDN_Errors(t *testing.T) {
	for _, dn := range []string{"", "   ", "foo", "cn=a,", "cn=a,,ou=b", "=a", `cn=a\`, "cn=a,ou=b\x00"} {
		if got, err := canonicalDN(dn); err == nil {
			t.Errorf("canonicalDN(%q) = %q; want an error", dn, got)
		}
	}
}

func TestIsDeletedObject(t *testing.T) {
	for _, tc := range []struct {
		dn   string
		want bool
	}{
		{`CN=User 0014\0ADEL:4d5c7a3e-1f2e-4b5a-9c3d-2e1f0a9b8c7d,CN=Deleted Objects,DC=example,DC=test`, true},
		{"CN=Someone,CN=Deleted Objects,DC=example,DC=test", true},
		{"CN=User 0014,OU=People,DC=example,DC=test", false},
		{"CN=Deleted Objects Fan,OU=People,DC=example,DC=test", false},
	} {
		key, err := canonicalDN(tc.dn)
		if err != nil {
			t.Fatalf("canonicalDN(%q): %v", tc.dn, err)
		}
		if got := isDeletedObject(key); got != tc.want {
			t.Errorf("isDeletedObject(%q) = %v, want %v", tc.dn, got, tc.want)
		}
	}
}

// FuzzCanonicalDN checks that the fast path and ldap.ParseDN agree: for every
// DN the fast path takes, the general path gives the same text.
func FuzzCanonicalDN(f *testing.F) {
	for _, s := range []string{"uid=alice,ou=people,dc=example,dc=com", "CN = A , OU=B", "cn=a=b,ou=x", "cn=,ou=x", "a=b", " cn=x "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dn string) {
		fast, ferr := appendCanonical(nil, dn)
		slow, serr := appendParsed(nil, dn)
		if !plainDN(dn) {
			return // both ran the general path
		}
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("%q: fast path error %v, general path error %v", dn, ferr, serr)
		}
		if ferr == nil && string(fast) != string(slow) {
			t.Fatalf("%q: fast path %q, general path %q", dn, fast, slow)
		}
	})
}
