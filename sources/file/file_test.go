package file_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dirbridge/dirbridge/sources/file"
	"github.com/dirbridge/dirbridge/sources/sourcetest"
	"github.com/dirbridge/dirbridge/sync"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func newSource(t *testing.T, path string) *file.Source {
	t.Helper()
	src, err := file.New(file.Config{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// fixtureYAML renders a conformance fixture in the YAML shape.
func fixtureYAML(f sourcetest.Fixture) string {
	var b strings.Builder
	b.WriteString("users:\n")
	for _, p := range f.People {
		fmt.Fprintf(&b, "  - {id: %s, email: %q, name: %q, disabled: %v}\n", p.Key, p.Email, p.Name, p.Disabled)
	}
	b.WriteString("groups:\n")
	for _, t := range f.Teams {
		fmt.Fprintf(&b, "  - {id: %s, name: %q, members: [%s]}\n", t.Key, t.Name, strings.Join(t.Members, ", "))
	}
	return b.String()
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		New: func(t *testing.T, f sourcetest.Fixture) sync.Source {
			return newSource(t, write(t, "dir.yaml", fixtureYAML(f)))
		},
		Broken: func(t *testing.T, f sourcetest.Fixture) sync.Source {
			// A file cut off in the middle of a record.
			full := fixtureYAML(f)
			return newSource(t, write(t, "dir.yaml", full[:len(full)/2]+"  - {id: u999, email: [\n"))
		},
		Stalled: func(t *testing.T, f sourcetest.Fixture) (sync.Source, <-chan struct{}) {
			// A named pipe whose writer never writes: reading blocks.
			path := filepath.Join(t.TempDir(), "dir.yaml")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			started := make(chan struct{})
			go func() {
				w, err := os.OpenFile(path, os.O_WRONLY, 0) // returns once the source opens the pipe
				close(started)
				if err == nil {
					t.Cleanup(func() { w.Close() })
				}
			}()
			return newSource(t, path), started
		},
	})
}

func TestSnapshot_Formats(t *testing.T) {
	want := sync.Snapshot{
		Users: []sync.User{
			{ExternalID: "u1", Email: "Alice@Example.com", Name: "Alice Liddell"},
			{ExternalID: "u2", Email: "bob@example.com", Name: "Bob", Disabled: true},
		},
		Groups: []sync.Group{{ExternalID: "g1", Name: "Engineering", Members: []string{"u1", "u2"}}},
	}
	tests := []struct {
		name, file, content string
		wantGroupID         string
	}{
		{"YAML", "d.yaml", `users:
  - {id: u1, email: Alice@Example.com, name: Alice Liddell}
  - {id: u2, email: bob@example.com, name: Bob, disabled: true}
groups:
  - {id: g1, name: Engineering, members: [u1, u2]}
`, "g1"},
		{"JSON", "d.json", `{"users": [{"id": "u1", "email": "Alice@Example.com", "name": "Alice Liddell"},
  {"id": "u2", "email": "bob@example.com", "name": "Bob", "disabled": true}],
 "groups": [{"id": "g1", "name": "Engineering", "members": ["u1", "u2"]}]}`, "g1"},
		{"CSV", "d.csv", "\ufeffid,email,name,disabled,groups\nu1,Alice@Example.com,Alice Liddell,,Engineering\nu2,bob@example.com,Bob,yes,Engineering\n", "Engineering"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newSource(t, write(t, tt.file, tt.content)).Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := want
			want.Groups = []sync.Group{{ExternalID: tt.wantGroupID, Name: "Engineering", Members: []string{"u1", "u2"}}}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(sync.User{}, "Source"), cmpopts.IgnoreFields(sync.Group{}, "Source")); diff != "" {
				t.Errorf("snapshot (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSnapshot_BadInputNamesTheRecord(t *testing.T) {
	tests := []struct {
		name, file, content string
		wantAll             []string
	}{
		{"UnknownKey", "d.yaml", "users:\n  - {id: u1, email: a@example.com, mail: x}\n", []string{"line 2", "mail"}},
		{"WrongType", "d.yaml", "users:\n  - {id: u1, email: a@example.com, disabled: maybe}\n", []string{"line 2", "bool"}},
		{"MissingAndDuplicateIDs", "d.yaml", "users:\n  - {email: a@example.com}\n  - {id: u1, email: b@example.com}\n  - {id: u1, email: c@example.com}\n",
			[]string{"users[0] (line 2): id is required", `users[2] (line 4): id "u1" is already used by users[1] (line 3)`}},
		{"UnknownTopLevelKey", "d.yaml", "people: []\n", []string{"people"}},
		{"Empty", "d.yaml", "", []string{"empty"}},
		{"CSVUnknownColumn", "d.csv", "id,email,mail\n", []string{`unknown column "mail"`}},
		{"CSVMissingColumn", "d.csv", "id,name\n", []string{`column "email" is required`}},
		{"CSVBadBool", "d.csv", "id,email,disabled\nu1,a@example.com,perhaps\n", []string{"line 2: disabled"}},
		{"CSVTooManyFields", "d.csv", "id,email\nu1,a@example.com,extra\n", []string{"line 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newSource(t, write(t, tt.file, tt.content)).Snapshot(context.Background())
			if err == nil {
				t.Fatal("Snapshot succeeded on bad input")
			}
			for _, want := range tt.wantAll {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		cfg  file.Config
		want []string
	}{
		{file.Config{Path: "d.yaml"}, nil},
		{file.Config{Path: "d.txt", Format: "csv"}, nil},
		{file.Config{}, []string{"path: is required"}},
		{file.Config{Path: "d.txt"}, []string{`format: cannot tell the format of "d.txt" from its extension; set yaml, json or csv`}},
		{file.Config{Path: "d.yaml", Format: "xml"}, []string{`format: "xml" is not one of yaml, json, csv`}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.cfg.Validate()); diff != "" {
			t.Errorf("Validate(%+v) (-want +got):\n%s", tt.cfg, diff)
		}
	}
}
