package sync_test

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dirbridge/dirbridge/sync"
)

func TestNormalize(t *testing.T) {
	long := strings.Repeat("Very Long Group Name ", 8)
	shortLong, _ := sync.ShortenGroupName(strings.TrimSpace(long))
	tests := []struct {
		name      string
		in        sync.Snapshot
		want      sync.Snapshot
		wantNotes []string
	}{
		{
			name: "TrimsAndLowerCasesEmails",
			in:   sync.Snapshot{Users: []sync.User{{ExternalID: " u1 ", Email: "  Alice@Example.COM "}}},
			want: sync.Snapshot{Users: []sync.User{{ExternalID: "u1", Email: "alice@example.com"}}},
		},
		{
			name:      "LeavesOutUsersWithoutValidEmail",
			in:        sync.Snapshot{Users: []sync.User{{ExternalID: "u1", Source: "uid=a"}, {ExternalID: "u2", Email: "not-an-email"}, {ExternalID: "u3", Email: "b@example.com"}}},
			want:      sync.Snapshot{Users: []sync.User{{ExternalID: "u3", Email: "b@example.com"}}, Held: []string{"u1", "u2"}},
			wantNotes: []string{"invalid_email", "invalid_email"},
		},
		{
			name:      "LeavesOutSecondUserWithSameEmail",
			in:        sync.Snapshot{Users: []sync.User{{ExternalID: "u1", Email: "a@example.com"}, {ExternalID: "u2", Email: "A@example.com"}}},
			want:      sync.Snapshot{Users: []sync.User{{ExternalID: "u1", Email: "a@example.com"}}, Held: []string{"u2"}},
			wantNotes: []string{"duplicate_email"},
		},
		{
			name:      "KeepsEnabledUserOverDisabledDuplicate",
			in:        sync.Snapshot{Users: []sync.User{{ExternalID: "u1", Email: "a@example.com", Disabled: true}, {ExternalID: "u2", Email: "a@example.com"}}},
			want:      sync.Snapshot{Users: []sync.User{{ExternalID: "u2", Email: "a@example.com"}}, Held: []string{"u1"}},
			wantNotes: []string{"duplicate_email"},
		},
		{
			name:      "LeavesOutUsersWithoutOrWithDuplicateID",
			in:        sync.Snapshot{Users: []sync.User{{Email: "a@example.com"}, {ExternalID: "u1", Email: "b@example.com"}, {ExternalID: "u1", Email: "c@example.com"}}},
			want:      sync.Snapshot{Users: []sync.User{{ExternalID: "u1", Email: "b@example.com"}}},
			wantNotes: []string{"missing_id", "duplicate_id"},
		},
		{
			name:      "ShortensLongGroupNames",
			in:        sync.Snapshot{Groups: []sync.Group{{ExternalID: "g1", Name: long}}},
			want:      sync.Snapshot{Groups: []sync.Group{{ExternalID: "g1", Name: shortLong, Members: []string{}}}},
			wantNotes: []string{"long_group_name"},
		},
		{
			name: "DropsUnknownAndDuplicateMembers",
			in: sync.Snapshot{
				Users:  []sync.User{{ExternalID: "u1", Email: "a@example.com"}},
				Groups: []sync.Group{{ExternalID: "g1", Name: "G", Members: []string{"u1", "u1", "ghost"}}},
			},
			want: sync.Snapshot{
				Users:  []sync.User{{ExternalID: "u1", Email: "a@example.com"}},
				Groups: []sync.Group{{ExternalID: "g1", Name: "G", Members: []string{"u1"}}},
			},
			wantNotes: []string{"unknown_member"},
		},
		{
			name:      "NamesUnnamedGroupByItsID",
			in:        sync.Snapshot{Groups: []sync.Group{{ExternalID: "g1"}, {Name: "no id"}}},
			want:      sync.Snapshot{Groups: []sync.Group{{ExternalID: "g1", Name: "g1", Members: []string{}}}},
			wantNotes: []string{"missing_name", "missing_id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, notes := sync.Normalize(tt.in)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("snapshot (-want +got):\n%s", diff)
			}
			var kinds []string
			for _, n := range notes {
				kinds = append(kinds, n.Kind)
				if n.Subject == "" || n.Message == "" {
					t.Errorf("note %+v does not name its entry", n)
				}
			}
			if diff := cmp.Diff(tt.wantNotes, kinds, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShortenGroupName(t *testing.T) {
	a := strings.Repeat("x", 95) + "-engineering-alpha"
	b := strings.Repeat("x", 95) + "-engineering-beta"
	emoji := strings.Repeat("😀", 60)
	for _, name := range []string{a, b, emoji} {
		got, ok := sync.ShortenGroupName(name)
		if !ok {
			t.Fatalf("ShortenGroupName(%q) did not shorten", name)
		}
		if n := len(utf16.Encode([]rune(got))); n > sync.MaxGroupNameLen {
			t.Errorf("ShortenGroupName(%q) = %q, %d UTF-16 units; want at most %d", name, got, n, sync.MaxGroupNameLen)
		}
		if again, _ := sync.ShortenGroupName(name); again != got {
			t.Errorf("ShortenGroupName is not deterministic: %q then %q", got, again)
		}
	}
	sa, _ := sync.ShortenGroupName(a)
	sb, _ := sync.ShortenGroupName(b)
	if sa == sb {
		t.Errorf("two long names sharing a prefix shortened to the same %q", sa)
	}
	if got, ok := sync.ShortenGroupName("Short"); ok || got != "Short" {
		t.Errorf("ShortenGroupName(Short) = %q, %v", got, ok)
	}
}

func TestValidEmail(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"alice@example.com", true},
		{"a.b+tag@sub.example.co.uk", true},
		{"josé@exämple.com", true},
		{"", false},
		{"alice", false},
		{"alice@", false},
		{"@example.com", false},
		{"alice@localhost", false},
		{"al ice@example.com", false},
		{"alice@exa mple.com", false},
		{"alice@@example.com", false},
		{".alice@example.com", false},
		{"al..ice@example.com", false},
		{"alice@-example.com", false},
		{"alice@example..com", false},
		{"<alice@example.com>", false},
		{strings.Repeat("a", 60) + "@" + strings.Repeat("b", 200) + ".com", false},
	} {
		if got := sync.ValidEmail(tt.in); got != tt.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
