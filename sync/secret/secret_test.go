package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		inline, file string
		required     bool
		want         string
	}{
		{"s", "", true, ""},
		{"", "/f", true, ""},
		{"", "", false, ""},
		{"", "", true, "k (or k_file) is required"},
		{"s", "/f", false, "k and k_file are both set; give only one"},
	}
	for _, tt := range tests {
		if got := Check("k", tt.inline, tt.file, tt.required); got != tt.want {
			t.Errorf("Check(%q, %q, %v) = %q, want %q", tt.inline, tt.file, tt.required, got, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "secret")
	os.WriteFile(good, []byte("  s3cret\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)

	if got, err := Resolve("k", "inline", ""); err != nil || got != "inline" {
		t.Errorf("inline: %q, %v", got, err)
	}
	if got, err := Resolve("k", "", good); err != nil || got != "s3cret" {
		t.Errorf("file: %q, %v; want the trimmed content", got, err)
	}
	if _, err := Resolve("k", "", empty); err == nil || !strings.Contains(err.Error(), "k_file") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := Resolve("k", "", filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "k_file") {
		t.Errorf("missing file: %v", err)
	}
}
