package ldap

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// The slapd harness: a private OpenLDAP server on 127.0.0.1, with its own
// cn=config in a temporary directory, listening for plain LDAP (with
// StartTLS) and LDAPS on free ports, with the memberof, refint and syncprov
// overlays (test-servers.md, appendix). One instance is shared by the tests
// of a package run, each test using its own OU; tests that need special
// server settings start their own.

const (
	suffix     = "dc=example,dc=com"
	adminDN    = "cn=admin,dc=example,dc=com"
	adminPW    = "secret"
	readerDN   = "cn=reader,dc=example,dc=com"
	readerPW   = "readerpw"
	limitedDN  = "cn=limited,dc=example,dc=com" // subject to the frontend's olcSizeLimit 500
	limitedPW  = "limitedpw"
	tlsDir     = "testdata/tls"
	sizeLimit  = 500
	startWait  = 15 * time.Second
	readerRole = "reader"
)

// need returns the path of tool, or skips the test when it is missing; with
// CI=true a missing tool fails the test instead, so that a skip never turns
// CI green.
func need(t testing.TB, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(dir, tool); fileExists(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (CI=true: install slapd ldap-utils samba-ad-dc samba-ad-provision ldb-tools)", tool)
	}
	t.Skipf("%s is not installed", tool)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// slapd is one running private server.
type slapd struct {
	dir       string
	url       string // ldap://127.0.0.1:port
	ldapsURL  string // ldaps://127.0.0.1:port
	cmd       *exec.Cmd
	done      chan struct{}
	adminOnce stdsync.Mutex
}

// slapdOptions tunes a private server.
type slapdOptions struct {
	// VerifyClient is olcTLSVerifyClient: "" (never), allow or demand.
	VerifyClient string
	// Seed is LDIF bulk-loaded with slapadd before the server starts.
	Seed string
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
		sharedSlapd, sharedSlapdErr = startSlapd(dir, slapdOptions{})
		atExit(func() {
			if sharedSlapd != nil {
				sharedSlapd.stop()
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
func privateServer(t testing.TB, opt slapdOptions) *slapd {
	t.Helper()
	need(t, "slapd")
	need(t, "slapadd")
	s, err := startSlapd(t.TempDir(), opt)
	if err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	t.Cleanup(s.stop)
	return s
}

// startSlapd writes a cn=config to dir, loads it (and opt.Seed), and starts
// slapd in the foreground on two free loopback ports.
func startSlapd(dir string, opt slapdOptions) (*slapd, error) {
	for _, sub := range []string{"slapd.d", "db", "run", "tls"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"ca.crt", "server.crt", "server.key"} {
		b, err := os.ReadFile(filepath.Join(tlsDir, f))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "tls", f), b, 0o600); err != nil {
			return nil, err
		}
	}
	var cfg bytes.Buffer
	if err := configTemplate.Execute(&cfg, map[string]string{"Dir": dir, "VerifyClient": opt.VerifyClient}); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.ldif"), cfg.Bytes(), 0o600); err != nil {
		return nil, err
	}
	if out, err := exec.Command("slapadd", "-n0", "-F", filepath.Join(dir, "slapd.d"), "-l", filepath.Join(dir, "config.ldif")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("slapadd cn=config: %v: %s", err, out)
	}
	seed := filepath.Join(dir, "seed.ldif")
	if err := os.WriteFile(seed, []byte(baseLDIF+opt.Seed), 0o600); err != nil {
		return nil, err
	}
	if out, err := exec.Command("slapadd", "-q", "-w", "-F", filepath.Join(dir, "slapd.d"), "-b", suffix, "-l", seed).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("slapadd seed: %v: %s", err, out)
	}
	var lastErr error
	for range 3 { // a free port can be taken between the probe and the bind
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		s := &slapd{dir: dir, url: fmt.Sprintf("ldap://127.0.0.1:%d", ports[0]), ldapsURL: fmt.Sprintf("ldaps://127.0.0.1:%d", ports[1])}
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func (s *slapd) start() error {
	logf, err := os.Create(filepath.Join(s.dir, "slapd.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	s.cmd = exec.Command("slapd", "-d", "0", "-h", s.url+"/ "+s.ldapsURL+"/", "-F", filepath.Join(s.dir, "slapd.d"))
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test binary
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(startWait)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			out, _ := os.ReadFile(filepath.Join(s.dir, "slapd.log"))
			return fmt.Errorf("slapd exited: %s", out)
		case <-time.After(20 * time.Millisecond):
		}
		if c, err := ldap.DialURL(s.url); err == nil {
			_, err = c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
			c.Close()
			if err == nil {
				return nil
			}
		}
	}
	s.stop()
	return fmt.Errorf("slapd did not answer on %s within %s", s.url, startWait)
}

// stop ends the server: SIGTERM, then SIGKILL after 5 s.
func (s *slapd) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// kill ends the server at once, as a crash would.
func (s *slapd) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// admin returns a connection bound as the rootdn.
func (s *slapd) admin(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.url)
	if err != nil {
		t.Fatalf("dial %s: %v", s.url, err)
	}
	if err := c.Bind(adminDN, adminPW); err != nil {
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
	s.add(t, fmt.Sprintf("dn: %s\nobjectClass: organizationalUnit\n\ndn: ou=people,%s\nobjectClass: organizationalUnit\n\ndn: ou=groups,%s\nobjectClass: organizationalUnit\n", ou, ou, ou))
	return ou
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
	c.URL = s.url
	switch mode {
	case "start_tls":
		c.StartTLS = true
	case "ldaps":
		c.URL = s.ldapsURL
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

var configTemplate = template.Must(template.New("config").Parse(`dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {{.Dir}}/run/slapd.pid
olcArgsFile: {{.Dir}}/run/slapd.args
olcLogLevel: none
olcTLSCACertificateFile: {{.Dir}}/tls/ca.crt
olcTLSCertificateFile: {{.Dir}}/tls/server.crt
olcTLSCertificateKeyFile: {{.Dir}}/tls/server.key
{{if .VerifyClient}}olcTLSVerifyClient: {{.VerifyClient}}
{{end}}
dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: syncprov
olcModuleLoad: refint

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

# FreeIPA's ipaUniqueID and nsAccountLock (their real OIDs), so that the
# freeipa preset can be tried on slapd; the auxiliary class is ours.
dn: cn={4}ipa-test,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: {4}ipa-test
olcAttributeTypes: ( 2.16.840.1.113730.3.8.3.1 NAME 'ipaUniqueID' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
olcAttributeTypes: ( 2.16.840.1.113730.3.1.610 NAME 'nsAccountLock' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcObjectClasses: ( 1.3.6.1.4.1.32473.1.2.1 NAME 'dirbridgeTestIPAObject' AUXILIARY MAY ( ipaUniqueID $ nsAccountLock ) )

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=config
olcRootPW: secret

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: dc=example,dc=com
olcRootDN: cn=admin,dc=example,dc=com
olcRootPW: secret
olcDbDirectory: {{.Dir}}/db
olcDbMaxSize: 8589934592
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: uid,mail,cn eq
olcDbIndex: member,memberOf,uniqueMember,memberUid eq
olcDbIndex: entryCSN,entryUUID eq
olcLastMod: TRUE
olcLimits: dn.exact="cn=reader,dc=example,dc=com" size.soft=unlimited size.hard=unlimited size.pr=unlimited size.prtotal=unlimited time=unlimited
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by dn.exact="cn=reader,dc=example,dc=com" read by users read by * none

dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpCheckpoint: 100 10
olcSpSessionLog: 10000

dn: olcOverlay={1}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {1}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf
olcMemberOfDangling: ignore

dn: olcOverlay={2}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {2}refint
olcRefintAttribute: member
`))

// baseLDIF is the suffix and the two service accounts: the reader, with no
// size limit, and the limited account, which gets the frontend's 500.
const baseLDIF = `dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: cn=reader,dc=example,dc=com
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: readerpw

dn: cn=limited,dc=example,dc=com
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: limited
userPassword: limitedpw

`
