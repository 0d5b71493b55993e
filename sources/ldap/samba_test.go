package ldap

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"text/template"
	"time"
	"unicode/utf16"

	"github.com/dirbridge/dirbridge/sources/ldap/internal/slapdtest"
)

// The Samba harness: a real Active Directory domain controller (Samba AD DC,
// specs/samba-ad.md) provisioned in a temporary directory and seeded offline
// with ldbadd, serving LDAP on 127.0.0.1. Samba's LDAP ports are fixed
// (389/636), so one DC serves the whole package run: it is provisioned on
// first use (30-60 s) and stopped, with its process tree, when the tests end.

const (
	adRealm    = "EXAMPLE.TEST"
	adBase     = "DC=example,DC=test"
	adAdmin    = "Administrator@EXAMPLE.TEST"
	adAdminPW  = "Passw0rd!Adm1n"
	adReader   = "svc-reader@example.test" // an ordinary account
	adReaderPW = "Svc!Passw0rd1"
	adPeople   = "OU=People,OU=SyncTest," + adBase
	adGroups   = "OU=Groups,OU=SyncTest," + adBase
	adUsers    = 2000
	// adDisabled are u0001..u0005; u0010 has no mail (its UPN stands in);
	// u0011 has neither mail nor UPN; u0012 has a mixed-case mail; u0013 a
	// unicode name.
	adDisabled = 5
)

var (
	sambaOnce stdsync.Once
	sambaDC   *samba
	sambaErr  error
)

// samba is the running domain controller.
type samba struct {
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// sambaServer returns the package's domain controller, provisioning it on
// first use. A missing Samba skips the test locally and fails it on CI.
func sambaServer(t testing.TB) *samba {
	t.Helper()
	for _, tool := range []string{"samba", "samba-tool", "ldbadd", "ldbmodify"} {
		need(t, tool)
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the Samba AD tests need root (CI=true)")
		}
		t.Skip("the Samba AD tests need root")
	}
	sambaOnce.Do(func() {
		for _, port := range []string{"389", "636"} {
			ln, err := net.Listen("tcp", "127.0.0.1:"+port)
			if err != nil {
				sambaErr = fmt.Errorf("port %s is taken, and Samba's LDAP ports are fixed: %w", port, err)
				return
			}
			ln.Close()
		}
		dir, err := os.MkdirTemp("", "dirbridge-samba-")
		if err != nil {
			sambaErr = err
			return
		}
		start := time.Now()
		sambaDC, sambaErr = startSamba(dir)
		atExit(func() {
			if sambaDC != nil {
				sambaDC.stop()
			}
			os.RemoveAll(dir)
		})
		if sambaErr == nil {
			fmt.Fprintf(os.Stderr, "samba AD DC provisioned, seeded and started in %s\n", time.Since(start).Round(time.Second))
		}
	})
	if sambaErr != nil {
		t.Fatalf("start the Samba AD DC: %v", sambaErr)
	}
	return sambaDC
}

func startSamba(dir string) (*samba, error) {
	for _, sub := range []string{"etc", "private", "state", "cache", "bind-dns", "run", "log", "tls"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"ca.crt", "server.crt", "server.key"} {
		b, err := os.ReadFile(filepath.Join(tlsDir, f))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "tls", f), b, 0o600); err != nil { // Samba wants the key 0600
			return nil, err
		}
	}
	conf := filepath.Join(dir, "etc", "smb.conf")
	var b bytes.Buffer
	if err := smbConf.Execute(&b, dir); err != nil {
		return nil, err
	}
	if err := os.WriteFile(conf, b.Bytes(), 0o600); err != nil {
		return nil, err
	}
	run := func(name string, args ...string) error {
		bin, err := slapdtest.Tool(name)
		if err != nil {
			return err
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args[:min(2, len(args))], " "), err, out)
		}
		return nil
	}
	if err := run("samba-tool", "domain", "provision", "-s", conf, "--realm="+adRealm, "--domain=EXAMPLE",
		"--server-role=dc", "--dns-backend=NONE", "--use-rfc2307", "--host-name=dc1", "--adminpass="+adAdminPW); err != nil {
		return nil, err
	}
	sam := filepath.Join(dir, "private", "sam.ldb")
	recycle := filepath.Join(dir, "recycle-bin.ldif")
	// Enabling the Recycle Bin needs a system session, so it is done locally.
	if err := os.WriteFile(recycle, []byte("dn:\nchangetype: modify\nadd: enableOptionalFeature\nenableOptionalFeature: CN=Partitions,CN=Configuration,"+adBase+":766ddcd8-acd0-445e-f3b9-a7f9b6744f2a\n"), 0o600); err != nil {
		return nil, err
	}
	if err := run("ldbmodify", "--configfile="+conf, "-H", sam, recycle); err != nil {
		return nil, err
	}
	seed := filepath.Join(dir, "seed.ldif")
	if err := os.WriteFile(seed, []byte(adSeed()), 0o600); err != nil {
		return nil, err
	}
	if err := run("ldbadd", "--configfile="+conf, "--nosync", "-H", sam, seed); err != nil {
		return nil, err
	}
	s := &samba{dir: dir}
	logf, err := os.Create(filepath.Join(dir, "log", "stdout.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// --maximum-runtime makes a DC that outlives a killed test run end itself.
	bin, err := slapdtest.Tool("samba")
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "-s", conf, "-F", "--debug-stdout", "-d", "1", "--maximum-runtime=3600")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady waits until an LDAPS bind as the administrator works.
func (s *samba) waitReady() error {
	cfg := s.config("ldaps")
	src, err := New(cfg, nil)
	if err != nil {
		return err
	}
	var last error
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		select {
		case <-s.done:
			out, _ := os.ReadFile(filepath.Join(s.dir, "log", "stdout.log"))
			return fmt.Errorf("samba exited: %s", out)
		case <-time.After(200 * time.Millisecond):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, last = src.Check(ctx)
		cancel()
		if last == nil {
			return nil
		}
	}
	return fmt.Errorf("samba did not answer: %w", last)
}

// stop ends the DC by the pid in its pidfile, and then every process left of
// its tree, by pid.
func (s *samba) stop() {
	pid := s.cmd.Process.Pid
	if b, err := os.ReadFile(filepath.Join(s.dir, "run", "samba.pid")); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 1 {
			pid = p
		}
	}
	tree := processTree(pid)
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
	for _, p := range tree {
		syscall.Kill(p, syscall.SIGKILL) // only survivors are still there
	}
	s.cmd.Process.Kill()
	<-s.done
}

// processTree returns root and its descendants, from /proc.
func processTree(root int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 {
			if ppid, err := strconv.Atoi(fields[1]); err == nil {
				parent[pid] = ppid
			}
		}
	}
	in := map[int]bool{root: true}
	tree := []int{root}
	for changed := true; changed; {
		changed = false
		for pid, ppid := range parent {
			if in[ppid] && !in[pid] {
				in[pid] = true
				tree = append(tree, pid)
				changed = true
			}
		}
	}
	return tree
}

// config returns an active_directory source configuration for the DC over
// plain LDAP, StartTLS or LDAPS, bound as the ordinary reader account.
func (s *samba) config(mode string) Config {
	c := DefaultConfig()
	c.Preset = PresetActiveDirectory
	c.URL = "ldap://127.0.0.1:389"
	switch mode {
	case "start_tls":
		c.StartTLS = true
	case "ldaps":
		c.URL = "ldaps://127.0.0.1:636"
	}
	if mode != "plain" {
		c.CAFile = filepath.Join(tlsDir, "ca.crt")
	}
	c.BindDN, c.BindPassword = adReader, adReaderPW
	c.BaseDN = adBase
	c.Users.BaseDN = adPeople
	c.Groups.BaseDN = adGroups
	c.Timeout = time.Minute
	return c
}

// adSeed is the seed LDIF: the SyncTest OUs, 2,000 users (and one outside
// the user search), groups (one of all 2,000 users, a chain of nested groups,
// a group whose member is deleted during the tests) and the reader account.
func adSeed() string {
	var b strings.Builder
	for _, ou := range []string{"OU=SyncTest," + adBase, adPeople, adGroups, "OU=Elsewhere,OU=SyncTest," + adBase} {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: organizationalUnit\n\n", ou)
	}
	user := func(dn, sam, mail, upn, display string, uac int) {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: user\nsAMAccountName: %s\nuserAccountControl: %d\n", dn, sam, uac)
		if mail != "" {
			fmt.Fprintf(&b, "mail: %s\n", mail)
		}
		if upn != "" {
			fmt.Fprintf(&b, "userPrincipalName: %s\n", upn)
		}
		if display != "" {
			fmt.Fprintf(&b, "displayName:: %s\n", base64.StdEncoding.EncodeToString([]byte(display)))
		}
		b.WriteString("\n")
	}
	for i := 1; i <= adUsers; i++ {
		sam := fmt.Sprintf("u%04d", i)
		mail, upn, display, uac := sam+"@example.test", sam+"@example.test", fmt.Sprintf("User %04d", i), 512
		switch {
		case i <= adDisabled:
			uac = 514
		case i == 10:
			mail = ""
		case i == 11:
			mail, upn = "", ""
		case i == 12:
			mail = "U0012.Mixed@Example.TEST"
		case i == 13:
			display = "Zoë Ångström 山田"
		}
		user(adUserDN(i), sam, mail, upn, display, uac)
	}
	user("CN=Outsider,OU=Elsewhere,OU=SyncTest,"+adBase, "outsider", "outsider@example.test", "", "Outsider", 512)
	group := func(name string, members ...string) {
		fmt.Fprintf(&b, "dn: CN=%s,%s\nobjectClass: group\nsAMAccountName: %s\n", name, adGroups, name)
		for _, m := range members {
			fmt.Fprintf(&b, "member: %s\n", m)
		}
		b.WriteString("\n")
	}
	all := make([]string, 0, adUsers)
	for i := 1; i <= adUsers; i++ {
		all = append(all, adUserDN(i))
	}
	group("grp-all", all...)
	group("nest-3", adUserDN(101), adUserDN(102), adUserDN(103))
	group("nest-2", adUserDN(104), adUserDN(105), "CN=nest-3,"+adGroups)
	group("nest-1", adUserDN(106), adUserDN(1), "CN=nest-2,"+adGroups, "CN=Outsider,OU=Elsewhere,OU=SyncTest,"+adBase)
	group("grp-doomed", adUserDN(1990), adUserDN(1991))
	pw := utf16.Encode([]rune(`"` + adReaderPW + `"`))
	raw := make([]byte, 2*len(pw))
	for i, c := range pw {
		raw[2*i], raw[2*i+1] = byte(c), byte(c>>8)
	}
	fmt.Fprintf(&b, "dn: CN=svc-reader,CN=Users,%s\nobjectClass: user\nsAMAccountName: svc-reader\nuserPrincipalName: %s\n"+
		"userAccountControl: 66048\nunicodePwd:: %s\n\n", adBase, adReader, base64.StdEncoding.EncodeToString(raw))
	return b.String()
}

func adUserDN(i int) string { return fmt.Sprintf("CN=User %04d,%s", i, adPeople) }

var smbConf = template.Must(template.New("smb.conf").Parse(`[global]
	netbios name = DC1
	realm = EXAMPLE.TEST
	workgroup = EXAMPLE
	server role = active directory domain controller
	private dir = {{.}}/private
	lock directory = {{.}}
	state directory = {{.}}/state
	cache directory = {{.}}/cache
	binddns dir = {{.}}/bind-dns
	pid directory = {{.}}/run
	ncalrpc dir = {{.}}/run/ncalrpc
	winbindd socket directory = {{.}}/run/winbindd
	ntp signd socket directory = {{.}}/run/ntp_signd
	log file = {{.}}/log/samba.log
	interfaces = 127.0.0.1
	bind interfaces only = yes
	server services = ldap
	ldap server require strong auth = no
	tls enabled = yes
	tls keyfile = {{.}}/tls/server.key
	tls certfile = {{.}}/tls/server.crt
	tls cafile = {{.}}/tls/ca.crt
	idmap_ldb:use rfc2307 = yes
[sysvol]
	path = {{.}}/state/sysvol
	read only = No
[netlogon]
	path = {{.}}/state/sysvol/example.test/scripts
	read only = No
`))
