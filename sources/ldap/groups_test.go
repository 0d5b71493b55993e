package ldap

import (
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sync"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in        string
		low, high int
		ok        bool
	}{
		{";range=0-1499", 0, 1499, true},
		{";Range=1500-*", 1500, -1, true},
		{";RANGE=1990-2500", 1990, 2500, true},
		{";range=5-4", 0, 0, false},
		{";range=a-b", 0, 0, false},
		{";range=0", 0, 0, false},
		{"Of", 0, 0, false},
		{";binary", 0, 0, false},
	} {
		low, high, ok := parseRange(tc.in)
		if low != tc.low || high != tc.high || ok != tc.ok {
			t.Errorf("parseRange(%q) = %d, %d, %v; want %d, %d, %v", tc.in, low, high, ok, tc.low, tc.high, tc.ok)
		}
	}
}

func TestStripUID(t *testing.T) {
	for in, want := range map[string]string{
		"uid=a,dc=x#'0101'B": "uid=a,dc=x",
		"uid=a,dc=x":         "uid=a,dc=x",
		`cn=a\#'B,dc=x'B`:    `cn=a\#'B,dc=x'B`, // no bit string: a DN that happens to end so
		"uid=a,dc=x#''B":     "uid=a,dc=x",
		"#'01'B":             "#'01'B",
	} {
		if got := string(stripUID([]byte(in))); got != want {
			t.Errorf("stripUID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGUIDString(t *testing.T) {
	raw := []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f}
	if got, err := guidString(raw); err != nil || got != "03020100-0504-0706-0809-0a0b0c0d0e0f" {
		t.Errorf("guidString = %q, %v", got, err)
	}
	if got, err := guidString([]byte("F6AAF32F-1C2B-4D3E-8F90-A1B2C3D4E5F6")); err != nil || got != "f6aaf32f-1c2b-4d3e-8f90-a1b2c3d4e5f6" {
		t.Errorf("guidString(text) = %q, %v", got, err)
	}
	if _, err := guidString(raw[:15]); err == nil {
		t.Error("guidString of 15 bytes succeeded")
	}
}

func TestResolve_FlattensNestedAndCyclicGroups(t *testing.T) {
	users := &userReader{users: []sync.User{{ExternalID: "a"}, {ExternalID: "b"}, {ExternalID: "c"}, {ExternalID: "d"}}}
	r := &groupReader{users: users, logger: slog.New(slog.DiscardHandler)}
	group := func(name string, members []int32, nested ...string) rawGroup {
		g := rawGroup{key: "cn=" + name, users: members, nested: nested}
		g.Name = name
		return g
	}
	r.groups = []rawGroup{
		group("top", []int32{0}, "cn=mid", "cn=outside"),
		group("mid", []int32{1, 0}, "cn=leaf"),
		group("leaf", []int32{2}, "cn=top"), // a cycle back to the top
		group("self", []int32{3}, "cn=self"),
		group("empty", nil),
	}
	got := r.resolve()
	want := map[string][]string{
		"top":   {"a", "b", "c"},
		"mid":   {"b", "a", "c"},
		"leaf":  {"c", "a", "b"},
		"self":  {"d"},
		"empty": {},
	}
	for _, g := range got {
		if d := cmp.Diff(want[g.Name], g.Members); d != "" {
			t.Errorf("group %s members (-want +got):\n%s", g.Name, d)
		}
	}
}
