package jumpcloud

import (
	"context"
	"testing"

	"github.com/dirbridge/dirbridge/sources/jumpcloud/jctest"
	"github.com/dirbridge/dirbridge/sync"
)

func TestMapping_User(t *testing.T) {
	active := apiUser{ID: "u1", Email: "Ann@Example.com", Username: "ann", DisplayName: "Ann A", State: "ACTIVATED", Activated: true}
	with := func(edit func(*apiUser)) apiUser {
		u := active
		edit(&u)
		return u
	}
	def := mapping{staged: StagedSkip}
	tests := []struct {
		name         string
		m            mapping
		in           apiUser
		wantDisabled bool
		wantName     string
		wantSkipped  bool
	}{
		{name: "Active", m: def, in: active, wantName: "Ann A"},
		{name: "Suspended", m: def, in: with(func(u *apiUser) { u.Suspended, u.State = true, "SUSPENDED" }), wantDisabled: true, wantName: "Ann A"},
		{name: "SuspendedFlagOnly", m: def, in: with(func(u *apiUser) { u.Suspended = true }), wantDisabled: true, wantName: "Ann A"},
		{name: "SuspendedStateOnly", m: def, in: with(func(u *apiUser) { u.State = "suspended" }), wantDisabled: true, wantName: "Ann A"},
		{name: "PasswordExpired", m: def, in: with(func(u *apiUser) { u.PasswordExpired = true }), wantDisabled: true, wantName: "Ann A"},
		{name: "LockedIgnoredByDefault", m: def, in: with(func(u *apiUser) { u.AccountLocked = true }), wantName: "Ann A"},
		{name: "LockedDisabled", m: mapping{staged: StagedSkip, lockedDisabled: true}, in: with(func(u *apiUser) { u.AccountLocked = true }), wantDisabled: true, wantName: "Ann A"},
		{name: "NotActivatedYetIsActive", m: def, in: with(func(u *apiUser) { u.Activated = false }), wantName: "Ann A"},
		{name: "NoStateField", m: def, in: with(func(u *apiUser) { u.State = "" }), wantName: "Ann A"},
		{name: "StagedSkipped", m: def, in: with(func(u *apiUser) { u.State = "STAGED" }), wantSkipped: true},
		{name: "StagedDisabled", m: mapping{staged: StagedDisabled}, in: with(func(u *apiUser) { u.State = "STAGED" }), wantDisabled: true, wantName: "Ann A"},
		{name: "StagedActive", m: mapping{staged: StagedActive}, in: with(func(u *apiUser) { u.State = "STAGED" }), wantName: "Ann A"},
		{name: "StagedActiveButExpired", m: mapping{staged: StagedActive}, in: with(func(u *apiUser) { u.State, u.PasswordExpired = "STAGED", true }), wantDisabled: true, wantName: "Ann A"},
		{name: "NameFromFirstAndLast", m: def, in: with(func(u *apiUser) { u.DisplayName, u.FirstName, u.LastName = " ", "Ann", "Archer" }), wantName: "Ann Archer"},
		{name: "NameFromFirstOnly", m: def, in: with(func(u *apiUser) { u.DisplayName, u.FirstName = "", " Ann " }), wantName: "Ann"},
		{name: "NameFromLastOnly", m: def, in: with(func(u *apiUser) { u.DisplayName, u.LastName = "", "Archer" }), wantName: "Archer"},
		{name: "NameFromUsername", m: def, in: with(func(u *apiUser) { u.DisplayName = "" }), wantName: "ann"},
		{name: "NoName", m: def, in: with(func(u *apiUser) { u.DisplayName, u.Username = "", "" }), wantName: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.m.user(tt.in)
			if ok == tt.wantSkipped {
				t.Fatalf("kept = %v, want %v", ok, !tt.wantSkipped)
			}
			if tt.wantSkipped {
				return
			}
			if got.Disabled != tt.wantDisabled || got.Name != tt.wantName {
				t.Errorf("got disabled %v, name %q; want disabled %v, name %q", got.Disabled, got.Name, tt.wantDisabled, tt.wantName)
			}
			// The email is passed on as read: Normalize lower-cases it.
			if got.ExternalID != tt.in.ID || got.Email != tt.in.Email {
				t.Errorf("got id %q, email %q; want %q, %q", got.ExternalID, got.Email, tt.in.ID, tt.in.Email)
			}
		})
	}
}

func TestSnapshot_StagedUsers(t *testing.T) {
	users := []jctest.User{
		{ID: jctest.UserID(1), Email: "active@example.com", DisplayName: "Active", State: "ACTIVATED", Activated: true},
		{ID: jctest.UserID(2), Email: "staged@example.com", DisplayName: "Staged", State: "STAGED"},
		{ID: jctest.UserID(3), Email: "locked@example.com", DisplayName: "Locked", State: "ACTIVATED", AccountLocked: true},
	}
	groups := []jctest.Group{{ID: jctest.GroupID(1), Name: "All", Members: []string{jctest.UserID(1), jctest.UserID(2), jctest.UserID(3), jctest.UserID(9)}}}
	srv := startServer(t, jctest.Options{Users: users, Groups: groups})
	u1 := sync.User{ExternalID: jctest.UserID(1), Email: "active@example.com", Name: "Active"}
	u2 := sync.User{ExternalID: jctest.UserID(2), Email: "staged@example.com", Name: "Staged"}
	u3 := sync.User{ExternalID: jctest.UserID(3), Email: "locked@example.com", Name: "Locked"}
	disabled := func(u sync.User) sync.User { u.Disabled = true; return u }
	group := func(ids ...string) []sync.Group {
		return []sync.Group{{ExternalID: jctest.GroupID(1), Name: "All", Members: ids}}
	}
	tests := []struct {
		name string
		edit func(*Config)
		want sync.Snapshot
	}{
		{
			name: "SkippedByDefault",
			edit: func(*Config) {},
			want: sync.Snapshot{Users: []sync.User{u1, u3}, Groups: group(u1.ExternalID, u3.ExternalID)},
		},
		{
			name: "Disabled",
			edit: func(c *Config) { c.Staged = StagedDisabled },
			want: sync.Snapshot{Users: []sync.User{u1, disabled(u2), u3}, Groups: group(u1.ExternalID, u2.ExternalID, u3.ExternalID)},
		},
		{
			name: "ActiveAndLockedDisabled",
			edit: func(c *Config) { c.Staged, c.LockedDisabled = StagedActive, true },
			want: sync.Snapshot{Users: []sync.User{u1, u2, disabled(u3)}, Groups: group(u1.ExternalID, u2.ExternalID, u3.ExternalID)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := newTestSource(t, srv, tt.edit).Snapshot(context.Background())
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			if d := diffSnapshots(tt.want, snap); d != "" {
				t.Errorf("snapshot (-want +got):\n%s", d)
			}
		})
	}
}
