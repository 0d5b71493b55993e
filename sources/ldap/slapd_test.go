package ldap

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dirbridge/dirbridge/sources/ldap/internal/slapdtest"
)

// The slapd harness: a private OpenLDAP server on 127.0.0.1 (package
// slapdtest) with plain LDAP, StartTLS and LDAPS. One instance is shared by
// the tests of a package run, each test using its own OU; tests that need
// special server settings start their own.

const (
	suffix    = slapdtest.Suffix
	readerDN  = slapdtest.ReaderDN
	readerPW  = slapdtest.ReaderPW
	limitedDN = slapdtest.LimitedDN
	limitedPW = slapdtest.LimitedPW
	tlsDir    = "testdata/tls"
)

// need returns the path of tool, or skips the test when it is missing; with
// CI=true a missing tool fails the test instead, so that a skip never turns
// CI green.
func need(t testing.TB, tool string) string {
	t.Helper()
	path, err := slapdtest.Tool(tool)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v (CI=true: install slapd ldap-utils samba-ad-dc samba-ad-provision ldb-tools)", err)
	}
	t.Skip(err)
	return ""
}

// slapd is one running private server.
type slapd struct {
	*slapdtest.Server
}

var (
	sharedSlapdOnce stdsync.Once
	sharedSlapd     *slapd
	sharedSlapdErr  error
	cleanups        []func()
	cleanupsMu      stdsync.Mutex
)

// atExit registers f to run when the package's tests are done.
func atExit(f func()) {
	cleanupsMu.Lock()
	defer cleanupsMu.Unlock()
	cleanups = append(cleanups, f)
}

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupsMu.Lock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanupsMu.Unlock()
	os.Exit(code)
}

// sharedServer returns the slapd shared by the package's tests, starting it
// on first use.
func sharedServer(t testing.TB) *slapd {
	t.Helper()
	need(t, "slapd")
	need(t, "slapadd")
	sharedSlapdOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dirbridge-slapd-")
		if err != nil {
			sharedSlapdErr = err
			return
		}
		var s *slapdtest.Server
		s, sharedSlapdErr = slapdtest.Start(dir, slapdtest.Options{TLSDir: tlsDir})
		if s != nil {
			sharedSlapd = &slapd{s}
		}
		atExit(func() {
			if s != nil {
				s.Stop()
			}
			os.RemoveAll(dir)
		})
	})
	if sharedSlapdErr != nil {
		t.Fatalf("start slapd: %v", sharedSlapdErr)
	}
	return sharedSlapd
}

// privateServer starts a slapd of the test's own, stopped at its end.
func privateServer(t testing.TB, opt slapdtest.Options) *slapd {
	t.Helper()
	need(t, "slapd")
	need(t, "slapadd")
	opt.TLSDir = tlsDir
	s, err := slapdtest.Start(t.TempDir(), opt)
	if err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	t.Cleanup(s.Stop)
	return &slapd{s}
}

// admin returns a connection bound as the rootdn.
func (s *slapd) admin(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatalf("dial %s: %v", s.URL, err)
	}
	if err := c.Bind(slapdtest.AdminDN, slapdtest.AdminPW); err != nil {
		c.Close()
		t.Fatalf("bind as admin: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var ouCount struct {
	stdsync.Mutex
	n int
}

// newOU creates an OU of the test's own under the suffix, with ou=people and
// ou=groups below it, and returns its DN.
func (s *slapd) newOU(t testing.TB) string {
	t.Helper()
	ouCount.Lock()
	ouCount.n++
	n := ouCount.n
	ouCount.Unlock()
	name := regexp.MustCompile(`[^A-Za-z0-9-]+`).ReplaceAllString(t.Name(), "-")
	ou := fmt.Sprintf("ou=%s-%d,%s", name, n, suffix)
	s.add(t, ouLDIF(ou))
	return ou
}

// ouLDIF is the LDIF of an OU with ou=people and ou=groups below it.
func ouLDIF(ou string) string {
	return fmt.Sprintf("dn: %s\nobjectClass: organizationalUnit\n\ndn: ou=people,%s\nobjectClass: organizationalUnit\n\n"+
		"dn: ou=groups,%s\nobjectClass: organizationalUnit\n\n", ou, ou, ou)
}

// add adds the entries of an LDIF text (dn first, attr: value and
// attr:: base64 lines, blank lines between entries) as the rootdn.
func (s *slapd) add(t testing.TB, ldif string) {
	t.Helper()
	c := s.admin(t)
	for _, e := range parseLDIF(t, ldif) {
		req := ldap.NewAddRequest(e.dn, nil)
		for _, a := range e.attrs {
			req.Attribute(a.name, a.values)
		}
		if err := c.Add(req); err != nil {
			t.Fatalf("add %s: %v", e.dn, err)
		}
	}
}

type ldifEntry struct {
	dn    string
	attrs []ldifAttr
}

type ldifAttr struct {
	name   string
	values []string
}

func parseLDIF(t testing.TB, text string) []ldifEntry {
	t.Helper()
	var entries []ldifEntry
	var cur *ldifEntry
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			cur = nil
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("ldif line %q has no ':'", line)
		}
		if strings.HasPrefix(value, ":") {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value[1:]))
			if err != nil {
				t.Fatalf("ldif line %q: %v", line, err)
			}
			value = string(b)
		} else {
			value = strings.TrimPrefix(value, " ")
		}
		if cur == nil {
			if !strings.EqualFold(name, "dn") {
				t.Fatalf("ldif entry starts with %q, want dn", line)
			}
			entries = append(entries, ldifEntry{dn: value})
			cur = &entries[len(entries)-1]
			continue
		}
		if n := len(cur.attrs); n > 0 && cur.attrs[n-1].name == name {
			cur.attrs[n-1].values = append(cur.attrs[n-1].values, value)
		} else {
			cur.attrs = append(cur.attrs, ldifAttr{name: name, values: []string{value}})
		}
	}
	return entries
}

// config returns a source configuration for the server over the given
// transport (plain, start_tls or ldaps), bound as the reader, with the
// openldap preset and base_dn set to ou.
func (s *slapd) config(mode, ou string) Config {
	c := DefaultConfig()
	c.URL = s.URL
	switch mode {
	case "start_tls":
		c.StartTLS = true
	case "ldaps":
		c.URL = s.LDAPSURL
	}
	if mode != "plain" {
		c.CAFile = filepath.Join(tlsDir, "ca.crt")
	}
	c.BindDN, c.BindPassword = readerDN, readerPW
	c.BaseDN = ou
	c.Users.BaseDN = "ou=people," + ou
	c.Groups.BaseDN = "ou=groups," + ou
	c.Users.DisabledFilter = "(employeeType=disabled)"
	c.DialTimeout = 10 * time.Second
	c.Timeout = 30 * time.Second
	return c
}
