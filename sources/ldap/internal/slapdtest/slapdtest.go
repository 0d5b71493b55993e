// Package slapdtest runs a private OpenLDAP server (Debian's slapd) on
// 127.0.0.1 for the LDAP source's tests and benchmark: its own cn=config in a
// directory of the caller's, the memberof, refint and syncprov overlays,
// plain LDAP (with StartTLS) and LDAPS on free ports, and the suffix
// dc=example,dc=com with two service accounts. The recipe is the appendix of
// specs/test-servers.md.
package slapdtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"text/template"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// The directory every server holds.
const (
	Suffix    = "dc=example,dc=com"
	AdminDN   = "cn=admin,dc=example,dc=com"
	AdminPW   = "secret"
	ReaderDN  = "cn=reader,dc=example,dc=com" // reads everything, without size limits
	ReaderPW  = "readerpw"
	LimitedDN = "cn=limited,dc=example,dc=com" // subject to the frontend's olcSizeLimit of 500
	LimitedPW = "limitedpw"
)

// Tool returns the path of an OpenLDAP or Samba program, looking in PATH and
// then in /usr/sbin and /sbin, where Debian puts daemons outside a normal
// user's PATH.
func Tool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed", name)
}

// Options tunes a server.
type Options struct {
	// TLSDir holds ca.crt, server.crt and server.key; "" serves no TLS.
	TLSDir string
	// VerifyClient is olcTLSVerifyClient: "" (never), allow or demand.
	VerifyClient string
	// Seed is LDIF bulk-loaded with slapadd before the server starts, after
	// the base entries; SeedFile is the same in a file.
	Seed     string
	SeedFile string
	// Log receives slapd's output; nil discards it.
	Log *os.File
}

// Server is one running slapd.
type Server struct {
	Dir      string
	URL      string // ldap://127.0.0.1:port
	LDAPSURL string // ldaps://127.0.0.1:port, when TLS is on
	cmd      *exec.Cmd
	done     chan struct{}
}

// Start writes a cn=config under dir, loads it and the seed with slapadd, and
// starts slapd in the foreground on free loopback ports. The server dies with
// the calling process.
func Start(dir string, opt Options) (*Server, error) {
	for _, sub := range []string{"slapd.d", "db", "run", "tls"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	if opt.TLSDir != "" {
		for _, f := range []string{"ca.crt", "server.crt", "server.key"} {
			b, err := os.ReadFile(filepath.Join(opt.TLSDir, f))
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, "tls", f), b, 0o600); err != nil {
				return nil, err
			}
		}
	}
	var cfg bytes.Buffer
	if err := configTemplate.Execute(&cfg, map[string]any{"Dir": dir, "TLS": opt.TLSDir != "", "VerifyClient": opt.VerifyClient}); err != nil {
		return nil, err
	}
	if err := slapadd(dir, "config.ldif", cfg.String(), "-n0"); err != nil {
		return nil, err
	}
	// Not -w: with -q it makes Debian's slapadd 2.5.13 abort ("double free or
	// corruption") on some seeds with large groups; nothing here needs the
	// contextCSN it writes.
	if err := slapadd(dir, "base.ldif", baseLDIF+opt.Seed, "-q", "-b", Suffix); err != nil {
		return nil, err
	}
	if opt.SeedFile != "" {
		if err := slapadd(dir, opt.SeedFile, "", "-q", "-b", Suffix); err != nil {
			return nil, err
		}
	}
	var lastErr error
	for range 3 { // a free port can be taken between the probe and slapd's bind
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		s := &Server{Dir: dir, URL: fmt.Sprintf("ldap://127.0.0.1:%d", ports[0])}
		listen := s.URL + "/"
		if opt.TLSDir != "" {
			s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", ports[1])
			listen += " " + s.LDAPSURL + "/"
		}
		if lastErr = s.start(listen, opt.Log); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// slapadd loads an LDIF file into the server's configuration; with text it
// first writes text to the file (relative to dir).
func slapadd(dir, file, text string, args ...string) error {
	if !filepath.IsAbs(file) {
		file = filepath.Join(dir, file)
	}
	if text != "" {
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			return err
		}
	}
	args = append(args, "-F", filepath.Join(dir, "slapd.d"), "-l", file)
	bin, err := Tool("slapadd")
	if err != nil {
		return err
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("slapadd %s: %v: %s", filepath.Base(file), err, out)
	}
	return nil
}

func (s *Server) start(listen string, log *os.File) error {
	bin, err := Tool("slapd")
	if err != nil {
		return err
	}
	s.cmd = exec.Command(bin, "-d", "0", "-h", listen, "-F", filepath.Join(s.Dir, "slapd.d"))
	var out bytes.Buffer
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if log != nil {
		s.cmd.Stdout, s.cmd.Stderr = log, log
	}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	const wait = 15 * time.Second
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); {
		select {
		case <-s.done:
			return fmt.Errorf("slapd exited: %s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if c, err := ldap.DialURL(s.URL); err == nil {
			_, err = c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
			c.Close()
			if err == nil {
				return nil
			}
		}
	}
	s.Stop()
	return fmt.Errorf("slapd did not answer on %s within %s", s.URL, wait)
}

// Stop ends the server: SIGTERM, then SIGKILL after 5 s.
func (s *Server) Stop() {
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

// Kill ends the server at once, as a crash would.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	<-s.done
}

func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

var configTemplate = template.Must(template.New("config").Parse(`dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {{.Dir}}/run/slapd.pid
olcArgsFile: {{.Dir}}/run/slapd.args
olcLogLevel: none
{{if .TLS}}olcTLSCACertificateFile: {{.Dir}}/tls/ca.crt
olcTLSCertificateFile: {{.Dir}}/tls/server.crt
olcTLSCertificateKeyFile: {{.Dir}}/tls/server.key
{{end}}{{if .VerifyClient}}olcTLSVerifyClient: {{.VerifyClient}}
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

// baseLDIF is the suffix and the two service accounts.
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
