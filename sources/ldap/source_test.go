package ldap

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sources/ldap/internal/slapdtest"
	"github.com/dirbridge/dirbridge/sync"
)

// snapshot reads src and fails the test on an error.
func snapshot(t testing.TB, src *Source) sync.Snapshot {
	t.Helper()
	snap, err := src.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return sorted(snap)
}

// sorted orders users by external id, groups by name and members by id, so
// that snapshots compare with cmp.Diff.
func sorted(s sync.Snapshot) sync.Snapshot {
	sort.Slice(s.Users, func(i, j int) bool { return s.Users[i].ExternalID < s.Users[j].ExternalID })
	sort.Slice(s.Groups, func(i, j int) bool { return s.Groups[i].Name < s.Groups[j].Name })
	for _, g := range s.Groups {
		sort.Strings(g.Members)
	}
	return s
}

// attr reads one attribute of an entry as the rootdn.
func (s *slapd) attr(t testing.TB, dn, name string) string {
	t.Helper()
	res, err := s.admin(t).Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{name}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read %s of %s: %v", name, dn, err)
	}
	return res.Entries[0].GetAttributeValue(name)
}

// mappingLDIF is a small directory with the awkward cases: unicode names,
// mixed-case and missing emails, a duplicate email, a disabled user, a DN
// with an escaped comma, nested and cyclic groups, member DNs written with
// other case, spacing and escapes than the entries', and a member outside the
// searches.
func mappingLDIF(ou string) string {
	return strings.NewReplacer("$OU", ou, "$UPPER", strings.ToUpper(ou)).Replace(`dn: uid=alice,ou=people,$OU
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
displayName: Alice Liddell
mail: Alice.Liddell@Example.COM

dn: uid=bob,ou=people,$OU
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Bob
displayName: Bøb Ünïcødé 山田
mail: bob@example.com

dn: uid=carol,ou=people,$OU
objectClass: inetOrgPerson
uid: carol
cn: Carol
sn: Carol

dn: uid=dave,ou=people,$OU
objectClass: inetOrgPerson
uid: dave
cn: Dave
sn: Dave
mail: shared@example.com

dn: cn=Smith\, John,ou=people,$OU
objectClass: inetOrgPerson
uid: jsmith
cn: Smith, John
sn: Smith
mail: SHARED@example.com

dn: uid=erin,ou=people,$OU
objectClass: inetOrgPerson
uid: erin
cn: Erin
sn: Erin
mail: erin@example.com
employeeType: disabled

dn: cn=engineering,ou=groups,$OU
objectClass: groupOfNames
cn: engineering
member: uid=alice,ou=people,$OU
member: UID=Bob,OU=People,$UPPER
member: cn=platform,ou=groups,$OU

dn: cn=platform,ou=groups,$OU
objectClass: groupOfNames
cn: platform
member: uid=carol,ou=people,$OU
member: cn=Engineering,ou=groups,$OU

dn: cn=misc,ou=groups,$OU
objectClass: groupOfNames
cn: misc
member: cn=smith\2c john,ou=people,$OU
member: uid=dave,ou=people,$OU
member: uid=erin,ou=people,$OU
member: uid=zed,ou=elsewhere,$OU
`)
}

func TestSnapshot_MapsOpenLDAP(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, mappingLDIF(ou))
	id := func(dn string) string { return srv.attr(t, dn+","+ou, "entryUUID") }
	alice, bob, carol := id("uid=alice,ou=people"), id("uid=bob,ou=people"), id("uid=carol,ou=people")
	dave, smith, erin := id("uid=dave,ou=people"), id(`cn=Smith\, John,ou=people`), id("uid=erin,ou=people")
	want := sorted(sync.Snapshot{
		Users: []sync.User{
			{ExternalID: alice, Email: "Alice.Liddell@Example.COM", Name: "Alice Liddell", Source: "uid=alice,ou=people," + ou},
			{ExternalID: bob, Email: "bob@example.com", Name: "Bøb Ünïcødé 山田", Source: "uid=bob,ou=people," + ou},
			{ExternalID: carol, Email: "", Name: "Carol", Source: "uid=carol,ou=people," + ou},
			{ExternalID: dave, Email: "shared@example.com", Name: "Dave", Source: "uid=dave,ou=people," + ou},
			{ExternalID: smith, Email: "SHARED@example.com", Name: "Smith, John", Source: `cn=Smith\2C John,ou=people,` + ou}, // slapd sends the escape in hex
			{ExternalID: erin, Email: "erin@example.com", Name: "Erin", Disabled: true, Source: "uid=erin,ou=people," + ou},
		},
		Groups: []sync.Group{
			{ExternalID: id("cn=engineering,ou=groups"), Name: "engineering", Members: []string{alice, bob, carol}, Source: "cn=engineering,ou=groups," + ou},
			{ExternalID: id("cn=platform,ou=groups"), Name: "platform", Members: []string{carol, alice, bob}, Source: "cn=platform,ou=groups," + ou},
			{ExternalID: id("cn=misc,ou=groups"), Name: "misc", Members: []string{smith, dave, erin}, Source: "cn=misc,ou=groups," + ou},
		},
	})
	for _, mode := range []string{"plain", "start_tls", "ldaps"} {
		t.Run(mode, func(t *testing.T) {
			got := snapshot(t, newSource(t, srv.config(mode, ou)))
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("snapshot (-want +got):\n%s", d)
			}
		})
	}
}

func TestSnapshot_ReadsEveryMemberFormat(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, strings.ReplaceAll(`dn: uid=alice,ou=people,$OU
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: A
mail: alice@example.com

dn: uid=bob,ou=people,$OU
objectClass: inetOrgPerson
uid: Bob
cn: Bob
sn: B
mail: bob@example.com

dn: cn=unique,ou=groups,$OU
objectClass: groupOfUniqueNames
cn: unique
uniqueMember: uid=alice,ou=people,$OU#'0101'B
uniqueMember: uid=bob,ou=people,$OU

dn: cn=posix,ou=groups,$OU
objectClass: posixGroup
cn: posix
gidNumber: 1000
memberUid: ALICE
memberUid: bob
memberUid: nobody

dn: cn=names,ou=groups,$OU
objectClass: groupOfNames
cn: names
member: uid=bob,ou=people,$OU
`, "$OU", ou))
	alice, bob := srv.attr(t, "uid=alice,ou=people,"+ou, "entryUUID"), srv.attr(t, "uid=bob,ou=people,"+ou, "entryUUID")
	for _, tc := range []struct {
		name, filter, attr string
		want               []string
	}{
		{"groupOfNames", "(objectClass=groupOfNames)", "member", []string{bob}},
		{"groupOfUniqueNames", "(objectClass=groupOfUniqueNames)", "uniqueMember", []string{alice, bob}},
		{"posixGroup", "(objectClass=posixGroup)", "memberUid", []string{alice, bob}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.config("plain", ou)
			cfg.Groups.Filter, cfg.Groups.MemberAttribute = tc.filter, tc.attr
			got := snapshot(t, newSource(t, cfg))
			if len(got.Groups) != 1 {
				t.Fatalf("got %d groups, want 1", len(got.Groups))
			}
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if d := cmp.Diff(want, got.Groups[0].Members); d != "" {
				t.Errorf("members (-want +got):\n%s", d)
			}
		})
	}
}

// bulkLDIF returns n users uid=u00000... under ou=people of ou and, when
// group is set, a groupOfNames holding all of them.
func bulkLDIF(ou string, n int, group string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "dn: uid=u%05d,ou=people,%s\nobjectClass: inetOrgPerson\nuid: u%05d\ncn: User %d\nsn: %d\nmail: u%05d@example.com\n\n", i, ou, i, i, i, i)
	}
	if group != "" {
		fmt.Fprintf(&b, "dn: cn=%s,ou=groups,%s\nobjectClass: groupOfNames\ncn: %s\n", group, ou, group)
		for i := range n {
			fmt.Fprintf(&b, "member: uid=u%05d,ou=people,%s\n", i, ou)
		}
	}
	return b.String()
}

func TestSnapshot_ReadsGroupOf2000Members(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, bulkLDIF(ou, 2000, "everyone"))
	cfg := srv.config("plain", ou)
	got := snapshot(t, newSource(t, cfg))
	if len(got.Users) != 2000 || len(got.Groups) != 1 {
		t.Fatalf("got %d users and %d groups, want 2000 and 1", len(got.Users), len(got.Groups))
	}
	if n := len(got.Groups[0].Members); n != 2000 {
		t.Errorf("group has %d members, want 2000", n)
	}
}

func TestSnapshot_SizeLimitIsAnError(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, bulkLDIF(ou, 600, ""))
	cfg := srv.config("plain", ou)
	cfg.BindDN, cfg.BindPassword = limitedDN, limitedPW
	cfg.Users.DisabledFilter = ""
	snap, err := newSource(t, cfg).Snapshot(context.Background())
	var se *SearchError
	if !errors.As(err, &se) {
		t.Fatalf("Snapshot = %d users, error %v; want a SearchError", len(snap.Users), err)
	}
	if se.ResultCode() != ldap.LDAPResultSizeLimitExceeded || se.Search != "users" {
		t.Errorf("error = %v (search %q, code %d); want users with code 4", err, se.Search, se.ResultCode())
	}
	if len(snap.Users) != 0 {
		t.Errorf("Snapshot returned %d users with its error", len(snap.Users))
	}
	t.Logf("error: %v", err)
}

func TestSnapshot_FailsWhenServerDiesMidRead(t *testing.T) {
	srv := privateServer(t, slapdtest.Options{Seed: ouLDIF("ou=big,"+suffix) + bulkLDIF("ou=big,"+suffix, 3000, "")})
	p := newProxy(t, hostPort(t, srv.URL), proxyOptions{HoldAt: 20000})
	cfg := srv.config("plain", "ou=big,"+suffix)
	cfg.URL = p.url()
	cfg.PageSize = 100
	cfg.Users.DisabledFilter = ""
	done := make(chan error, 1)
	go func() {
		snap, err := newSource(t, cfg).Snapshot(context.Background())
		if err == nil {
			err = fmt.Errorf("nil error with %d users", len(snap.Users))
		} else if len(snap.Users) > 0 {
			err = fmt.Errorf("%d users returned with error %w", len(snap.Users), err)
		}
		done <- err
	}()
	<-p.started // the read is under way: some pages have been served
	srv.Kill()
	close(p.release)
	err := <-done
	var se *SearchError
	if !errors.As(err, &se) || se.Search != "users" || se.Page < 2 {
		t.Fatalf("Snapshot error = %v; want a SearchError on a later page of users", err)
	}
	t.Logf("error: %v", err)
}

func TestSnapshot_TimeoutIsAnError(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, bulkLDIF(ou, 3, ""))
	p := newProxy(t, hostPort(t, srv.URL), proxyOptions{StallAt: 2})
	cfg := srv.config("plain", ou)
	cfg.URL = p.url()
	cfg.Timeout = 300 * time.Millisecond
	_, err := newSource(t, cfg).Snapshot(context.Background())
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Snapshot error = %v; want ErrTimeout", err)
	}
}

func TestSnapshot_RenameKeepsExternalID(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, mappingLDIF(ou))
	src := newSource(t, srv.config("plain", ou))
	before := snapshot(t, src)
	c := srv.admin(t)
	srv.add(t, fmt.Sprintf("dn: ou=moved,ou=people,%s\nobjectClass: organizationalUnit\n", ou))
	req := ldap.NewModifyDNRequest("uid=alice,ou=people,"+ou, "uid=alice.liddell", true, "ou=moved,ou=people,"+ou)
	if err := c.ModifyDN(req); err != nil {
		t.Fatalf("modrdn: %v", err)
	}
	after := snapshot(t, src)
	find := func(s sync.Snapshot, email string) sync.User {
		for _, u := range s.Users {
			if u.Email == email {
				return u
			}
		}
		t.Fatalf("no user %s", email)
		return sync.User{}
	}
	b, a := find(before, "Alice.Liddell@Example.COM"), find(after, "Alice.Liddell@Example.COM")
	if a.ExternalID != b.ExternalID {
		t.Errorf("external id after rename = %q, want %q", a.ExternalID, b.ExternalID)
	}
	if want := "uid=alice.liddell,ou=moved,ou=people," + ou; a.Source != want {
		t.Errorf("source after rename = %q, want %q", a.Source, want)
	}
	// refint rewrote the group's member value, so alice stays in engineering.
	for _, g := range after.Groups {
		if g.Name == "engineering" && !contains(g.Members, a.ExternalID) {
			t.Errorf("engineering lost alice after the rename: %v", g.Members)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestSnapshot_WrongCAIsATLSError(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	for _, mode := range []string{"start_tls", "ldaps"} {
		t.Run(mode, func(t *testing.T) {
			cfg := srv.config(mode, ou)
			cfg.CAFile = filepath.Join(tlsDir, "other-ca.crt")
			_, err := newSource(t, cfg).Snapshot(context.Background())
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Fatalf("Snapshot error = %v; want an x509.UnknownAuthorityError", err)
			}
			if !strings.Contains(err.Error(), "tls handshake") || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
}

func TestSnapshot_ClientCertificate(t *testing.T) {
	srv := privateServer(t, slapdtest.Options{VerifyClient: "demand", Seed: ouLDIF("ou=t,"+suffix) + bulkLDIF("ou=t,"+suffix, 2, "")})
	cfg := srv.config("ldaps", "ou=t,"+suffix)
	if _, err := newSource(t, cfg).Snapshot(context.Background()); err == nil {
		t.Errorf("Snapshot without a client certificate succeeded; want an error")
	}
	cfg.ClientCertFile, cfg.ClientKeyFile = filepath.Join(tlsDir, "client.crt"), filepath.Join(tlsDir, "client.key")
	if got := snapshot(t, newSource(t, cfg)); len(got.Users) != 2 {
		t.Errorf("got %d users, want 2", len(got.Users))
	}
}

func TestSnapshot_MissingIDIsAnError(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, mappingLDIF(ou))
	cfg := srv.config("plain", ou)
	cfg.Users.IDAttribute = "employeeNumber"
	_, err := newSource(t, cfg).Snapshot(context.Background())
	var ee *EntryError
	if !errors.Is(err, ErrNoID) || !errors.As(err, &ee) || !strings.Contains(err.Error(), "uid=alice,ou=people,"+ou) {
		t.Fatalf("Snapshot error = %v; want ErrNoID naming the entries", err)
	}
}

func TestSnapshot_IDFromDN(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, mappingLDIF(ou))
	lower := strings.ToLower(ou)
	for _, tc := range []struct {
		name   string
		edit   func(*Config)
		wantID string // of alice
		smith  string
	}{
		{"DNAttribute", func(c *Config) { c.Users.IDAttribute, c.Groups.IDAttribute = "dn", "dn" },
			"uid=alice,ou=people," + lower, `cn=smith\, john,ou=people,` + lower},
		{"DirectoryConnector", func(c *Config) { c.Compat = CompatDirectoryConnector },
			"uid=alice,ou=people," + ou, `cn=Smith\2C John,ou=people,` + ou}, // the DN as slapd sends it
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.config("plain", ou)
			tc.edit(&cfg)
			got := snapshot(t, newSource(t, cfg))
			ids := map[string]bool{}
			for _, u := range got.Users {
				ids[u.ExternalID] = true
			}
			if !ids[tc.wantID] || !ids[tc.smith] {
				t.Errorf("user ids = %v; want %q and %q among them", ids, tc.wantID, tc.smith)
			}
			for _, g := range got.Groups {
				if g.Name == "misc" && !contains(g.Members, tc.smith) {
					t.Errorf("misc members = %v; want %q among them", g.Members, tc.smith)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, mappingLDIF(ou))
	summary, err := newSource(t, srv.config("ldaps", ou)).Check(context.Background())
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, want := range []string{"bound as " + readerDN + " over ldaps (TLS 1.3)", "users under ou=people," + ou, "ok, 1 entry read", "groups under", "disabled users under"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	t.Logf("summary:\n%s", summary)

	cfg := srv.config("plain", ou)
	cfg.BindPassword = "wrong"
	if _, err := newSource(t, cfg).Check(context.Background()); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Errorf("Check with a wrong password = %v; want result code 49", err)
	}
	cfg = srv.config("plain", ou)
	cfg.Users.BaseDN = "ou=nowhere," + ou
	_, err = newSource(t, cfg).Check(context.Background())
	var se *SearchError
	if !errors.As(err, &se) || se.ResultCode() != ldap.LDAPResultNoSuchObject {
		t.Errorf("Check with a missing base = %v; want a SearchError with code 32", err)
	}
}

func TestSnapshot_EmailFromPrefixAndSuffix(t *testing.T) {
	srv := sharedServer(t)
	ou := srv.newOU(t)
	srv.add(t, mappingLDIF(ou))
	cfg := srv.config("plain", ou)
	cfg.Users.EmailPrefixAttribute, cfg.Users.EmailSuffix = "uid", "@corp.example"
	got := snapshot(t, newSource(t, cfg))
	emails := map[string]string{}
	for _, u := range got.Users {
		emails[u.Name] = u.Email
	}
	// carol has no mail: uid + suffix; the others keep their mail.
	if emails["Carol"] != "carol@corp.example" || emails["Dave"] != "shared@example.com" {
		t.Errorf("emails = %v", emails)
	}
}
