package ldap

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/dirbridge/dirbridge/sources/sourcetest"
	"github.com/dirbridge/dirbridge/sync"
)

// fixtureLDIF writes f as inetOrgPerson users (uid=<key>) under ou=people and
// groupOfNames groups under ou=groups of ou; disabled people carry
// employeeType: disabled. An empty group gets a member DN outside the
// directory, since groupOfNames requires one.
func fixtureLDIF(ou string, f sourcetest.Fixture) string {
	var b strings.Builder
	for _, p := range f.People {
		fmt.Fprintf(&b, "dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\ndisplayName: %s\nmail: %s\n",
			p.Key, ou, p.Key, p.Name, p.Key, p.Name, p.Email)
		if p.Disabled {
			b.WriteString("employeeType: disabled\n")
		}
		b.WriteString("\n")
	}
	for _, team := range f.Teams {
		fmt.Fprintf(&b, "dn: cn=%s,ou=groups,%s\nobjectClass: groupOfNames\ncn: %s\n", team.Name, ou, team.Name)
		for _, m := range team.Members {
			fmt.Fprintf(&b, "member: uid=%s,ou=people,%s\n", m, ou)
		}
		if len(team.Members) == 0 {
			fmt.Fprintf(&b, "member: cn=nobody,%s\n", ou)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		New: func(t *testing.T, f sourcetest.Fixture) sync.Source {
			srv := sharedServer(t)
			ou := srv.newOU(t)
			srv.add(t, fixtureLDIF(ou, f))
			cfg := srv.config("plain", ou)
			cfg.PageSize = 40
			return newSource(t, cfg)
		},
		Broken: func(t *testing.T, f sourcetest.Fixture) sync.Source {
			srv := sharedServer(t)
			ou := srv.newOU(t)
			srv.add(t, fixtureLDIF(ou, f))
			// The proxy lets the bind and the first pages through, then
			// drops the connection as a dying server would.
			p := newProxy(t, hostPort(t, srv.URL), proxyOptions{CutAfter: 12000})
			cfg := srv.config("plain", ou)
			cfg.URL = p.url()
			cfg.PageSize = 40
			return newSource(t, cfg)
		},
		Stalled: func(t *testing.T, f sourcetest.Fixture) (sync.Source, <-chan struct{}) {
			srv := sharedServer(t)
			ou := srv.newOU(t)
			srv.add(t, fixtureLDIF(ou, f))
			// Message 1 is the bind; the proxy swallows the first search.
			p := newProxy(t, hostPort(t, srv.URL), proxyOptions{StallAt: 2})
			cfg := srv.config("plain", ou)
			cfg.URL = p.url()
			return newSource(t, cfg), p.started
		},
	})
}

func newSource(t testing.TB, cfg Config) *Source {
	t.Helper()
	src, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

func hostPort(t testing.TB, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}
