package ldap

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirbridge/dirbridge/sync"
)

// TestActiveDirectory runs the Active Directory cases against the Samba DC.
// The subtests share the DC and run in order; the last one adds a user and a
// group of its own and deletes the user into the Recycle Bin.
func TestActiveDirectory(t *testing.T) {
	dc := sambaServer(t)
	var base sync.Snapshot
	t.Run("Mapping", func(t *testing.T) {
		base = snapshot(t, newSource(t, dc.config("ldaps")))
		checkADMapping(t, dc, base)
	})
	t.Run("Transports", func(t *testing.T) {
		for _, mode := range []string{"plain", "start_tls"} {
			got := snapshot(t, newSource(t, dc.config(mode)))
			if len(got.Users) != len(base.Users) || len(got.Groups) != len(base.Groups) {
				t.Errorf("%s: got %d users and %d groups, want %d and %d", mode, len(got.Users), len(got.Groups), len(base.Users), len(base.Groups))
			}
		}
	})
	t.Run("DirectoryConnectorIDs", func(t *testing.T) {
		cfg := dc.config("ldaps")
		cfg.Compat = CompatDirectoryConnector
		got := snapshot(t, newSource(t, cfg))
		for i := range got.Users {
			if got.Users[i].ExternalID != base.Users[i].ExternalID {
				t.Fatalf("user %s: compat id %q, want the objectGUID %q", got.Users[i].Source, got.Users[i].ExternalID, base.Users[i].ExternalID)
			}
		}
	})
	t.Run("EmailSuffix", func(t *testing.T) {
		cfg := dc.config("ldaps")
		cfg.Users.EmailSuffix = "@corp.example"
		got := snapshot(t, newSource(t, cfg))
		if u := userBySource(t, got, adUserDN(11)); u.Email != "u0011@corp.example" {
			t.Errorf("u0011 email = %q, want sAMAccountName + suffix", u.Email)
		}
	})
	t.Run("Check", func(t *testing.T) {
		summary, err := newSource(t, dc.config("ldaps")).Check(context.Background())
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		if !strings.Contains(summary, "bound as "+adReader+" over ldaps") || !strings.Contains(summary, "groups under "+adGroups) {
			t.Errorf("summary:\n%s", summary)
		}
	})
	t.Run("RecycleBinDeletedMemberIgnored", func(t *testing.T) {
		// A user and a group of this test's own, so that the seed stays as
		// it was for the next run in the same domain (-count).
		c := dc.admin(t)
		n := time.Now().UnixNano()
		userDN := fmt.Sprintf("CN=Recycled %d,%s", n, adPeople)
		groupDN := fmt.Sprintf("CN=grp-recycle-%d,%s", n, adGroups)
		add := ldap.NewAddRequest(userDN, nil)
		add.Attribute("objectClass", []string{"user"})
		add.Attribute("sAMAccountName", []string{fmt.Sprintf("rc%d", n%1e9)})
		add.Attribute("mail", []string{fmt.Sprintf("recycled%d@example.test", n)})
		if err := c.Add(add); err != nil {
			t.Fatalf("add the user: %v", err)
		}
		group := ldap.NewAddRequest(groupDN, nil)
		group.Attribute("objectClass", []string{"group"})
		group.Attribute("member", []string{userDN, adUserDN(1991)})
		if err := c.Add(group); err != nil {
			t.Fatalf("add the group: %v", err)
		}
		t.Cleanup(func() { c.Del(ldap.NewDelRequest(groupDN, nil)) })
		if err := c.Del(ldap.NewDelRequest(userDN, nil)); err != nil {
			t.Fatalf("delete the user: %v", err)
		}
		res, err := c.Search(ldap.NewSearchRequest(groupDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"member"}, nil))
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("read the group: %v", err)
		}
		if vals := res.Entries[0].GetAttributeValues("member"); len(vals) != 2 || !strings.Contains(strings.Join(vals, "|"), `\0ADEL:`) {
			t.Fatalf("group members = %q; want the deleted user's \\0ADEL: DN still listed (Recycle Bin on)", vals)
		}
		var logs bytes.Buffer
		src, err := New(dc.config("ldaps"), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatal(err)
		}
		got := snapshot(t, src)
		if len(got.Users) != len(base.Users) {
			t.Errorf("got %d users, want %d", len(got.Users), len(base.Users))
		}
		recycled := groupByName(t, got, fmt.Sprintf("grp-recycle-%d", n))
		if want := []string{userBySource(t, got, adUserDN(1991)).ExternalID}; !equalStrings(recycled.Members, want) {
			t.Errorf("group members = %v, want %v", recycled.Members, want)
		}
		if !strings.Contains(logs.String(), "member is a deleted object") {
			t.Errorf("no debug line about the deleted member:\n%s", logs.String())
		}
	})
}

// checkADMapping checks the read of the seeded domain.
func checkADMapping(t *testing.T, dc *samba, snap sync.Snapshot) {
	t.Helper()
	if len(snap.Users) != adUsers {
		t.Fatalf("got %d users, want %d", len(snap.Users), adUsers)
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	disabled := 0
	for _, u := range snap.Users {
		if !guid.MatchString(u.ExternalID) {
			t.Fatalf("user %s: id %q is not a GUID", u.Source, u.ExternalID)
		}
		if u.Disabled {
			disabled++
		}
	}
	if disabled != adDisabled {
		t.Errorf("%d users disabled, want %d (userAccountControl 514)", disabled, adDisabled)
	}
	// The id is the canonical GUID: AD finds the entry by it.
	u42 := userBySource(t, snap, adUserDN(42))
	res, err := dc.admin(t).Search(ldap.NewSearchRequest("<GUID="+u42.ExternalID+">", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
	if err != nil || len(res.Entries) != 1 || !strings.EqualFold(res.Entries[0].DN, adUserDN(42)) {
		t.Errorf("search <GUID=%s> = %v, %v; want %s", u42.ExternalID, res, err, adUserDN(42))
	}
	for _, tc := range []struct {
		n           int
		email, name string
		disabled    bool
	}{
		{1, "u0001@example.test", "User 0001", true},
		{10, "u0010@example.test", "User 0010", false}, // no mail: the userPrincipalName
		{11, "", "User 0011", false},                   // neither: left empty for Normalize to drop
		{12, "U0012.Mixed@Example.TEST", "User 0012", false},
		{13, "u0013@example.test", "Zoë Ångström 山田", false},
	} {
		u := userBySource(t, snap, adUserDN(tc.n))
		if u.Email != tc.email || u.Name != tc.name || u.Disabled != tc.disabled {
			t.Errorf("user %d = %+v, want email %q name %q disabled %v", tc.n, u, tc.email, tc.name, tc.disabled)
		}
	}
	ids := func(ns ...int) []string {
		var out []string
		for _, n := range ns {
			out = append(out, userBySource(t, snap, adUserDN(n)).ExternalID)
		}
		sort.Strings(out)
		return out
	}
	if all := groupByName(t, snap, "grp-all"); len(all.Members) != adUsers {
		t.Errorf("grp-all has %d members, want %d (ranged retrieval)", len(all.Members), adUsers)
	}
	for name, want := range map[string][]string{
		"nest-3": ids(101, 102, 103),
		"nest-2": ids(101, 102, 103, 104, 105),
		"nest-1": ids(101, 102, 103, 104, 105, 106, 1), // the outsider is ignored
	} {
		if got := groupByName(t, snap, name); !equalStrings(got.Members, want) {
			t.Errorf("%s members = %v, want %v", name, got.Members, want)
		}
	}
}

func userBySource(t testing.TB, s sync.Snapshot, dn string) sync.User {
	t.Helper()
	for _, u := range s.Users {
		if strings.EqualFold(u.Source, dn) {
			return u
		}
	}
	t.Fatalf("no user %s", dn)
	return sync.User{}
}

func groupByName(t testing.TB, s sync.Snapshot, name string) sync.Group {
	t.Helper()
	for _, g := range s.Groups {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no group %s", name)
	return sync.Group{}
}

func equalStrings(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// admin returns a go-ldap connection bound as the domain administrator.
func (s *samba) admin(t testing.TB) *ldap.Conn {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(tlsDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	c, err := ldap.DialURL("ldaps://127.0.0.1:636", ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	if err != nil {
		t.Fatalf("dial the DC: %v", err)
	}
	if err := c.Bind(adAdmin, adAdminPW); err != nil {
		c.Close()
		t.Fatalf("bind as the administrator: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
