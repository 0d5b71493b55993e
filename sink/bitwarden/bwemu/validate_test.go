package bwemu

import "testing"

func TestIsStrictEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"a@example.com", true},
		{"first.last+tag@sub.example.co", true},
		{"o'brien@example.ie", true},
		{"a@exämple.com", true},
		{"a@example.ελ", true},
		{"", false},
		{"plain", false},
		{"a@localhost", false},
		{"a@example.c0m", false},
		{"jösé@example.com", false},
		{"Alice <a@example.com>", false},
		{"a b@example.com", false},
		{"a@@example.com", false},
		{"a@b@example.com", false},
		{".a@example.com", false},
		{"a..b@example.com", false},
		{"a@example..com", false},
		{"a@example.com ", false},
		{"a(comment)@example.com", false},
	}
	for _, tt := range tests {
		if got := isStrictEmail(tt.in); got != tt.want {
			t.Errorf("isStrictEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsLaxEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"a@b", true},
		{"a b@c d", true},
		{"@b", false},
		{"a@", false},
		{"a@b@c", false},
		{"a@b\n", false},
	}
	for _, tt := range tests {
		if got := isLaxEmail(tt.in); got != tt.want {
			t.Errorf("isLaxEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseGUID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"A0000000-0000-4000-8000-00000000000F", "a0000000-0000-4000-8000-00000000000f", true},
		{"a0000000000040008000000000000001", "", false},
		{"{a0000000-0000-4000-8000-000000000001}", "", false},
		{"g0000000-0000-4000-8000-000000000001", "", false},
	}
	for _, tt := range tests {
		got, ok := parseGUID(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseGUID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := parseGUID(newGUID()); !ok {
		t.Error("newGUID does not parse")
	}
}
