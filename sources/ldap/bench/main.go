// Command bench measures the LDAP source against OpenLDAP's own client on a
// large directory: it generates 100,000 inetOrgPerson users and 2,000
// groupOfNames groups (each user in 3 random groups: 300,000 memberships;
// fixed seed), loads them with slapadd into a private slapd, and then, in
// each run, times `ldapsearch -E pr=1000/noprompt` reading the users and the
// groups with the attributes the source asks for, and a child process that
// runs the source's Snapshot. It prints the wall times, their ratio and the
// child's peak RSS, and exits 1 when the targets (within 2.5x ldapsearch,
// under 150 MB) are missed.
//
//	go run ./sources/ldap/bench            # or sources/ldap/bench/run.sh
//	go run ./sources/ldap/bench -users 10000 -groups 200 -runs 1
//
// With -serve it only generates and loads the directory, starts slapd,
// prints one line "url=... suffix=... reader_dn=... reader_pw=...
// admin_dn=... admin_pw=..." and serves until its standard input closes:
// dirbridge's end-to-end benchmark (cmd/dirbridge/bench) reads the same
// directory that way, as it cannot import slapdtest.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dirbridge/dirbridge/sources/ldap"
	"github.com/dirbridge/dirbridge/sources/ldap/internal/slapdtest"
)

const (
	maxRatio = 2.5
	maxRSSMB = 150
)

func main() {
	users := flag.Int("users", 100000, "number of users")
	groups := flag.Int("groups", 2000, "number of groups")
	perUser := flag.Int("per-user", 3, "groups per user")
	seed := flag.Uint64("seed", 42, "random seed of the memberships")
	pageSize := flag.Int("page-size", 1000, "page size of both clients")
	runs := flag.Int("runs", 3, "measured runs")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	readURL := flag.String("read", "", "child mode: read the directory at this URL and report")
	cpuProfile := flag.String("cpuprofile", "", "child mode: write a CPU profile of the read to this file")
	memProfile := flag.String("memprofile", "", "child mode: write a heap profile after the read to this file")
	serveMode := flag.Bool("serve", false, "generate and serve the directory until stdin closes; print its URL")
	flag.Parse()
	if *serveMode {
		if err := serve(*users, *groups, *perUser, *seed); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
		return
	}
	if *readURL != "" {
		if err := read(*readURL, *pageSize, *cpuProfile, *memProfile); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
		return
	}
	ok, err := bench(*users, *groups, *perUser, *seed, *pageSize, *runs, *keep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// config is the source configuration of the benchmark.
func config(url string, pageSize int) ldap.Config {
	c := ldap.DefaultConfig()
	c.URL = url
	c.BindDN, c.BindPassword = slapdtest.ReaderDN, slapdtest.ReaderPW
	c.BaseDN = slapdtest.Suffix
	c.Users.BaseDN = "ou=people," + slapdtest.Suffix
	c.Groups.BaseDN = "ou=groups," + slapdtest.Suffix
	c.PageSize = pageSize
	return c
}

// read is the child: one Snapshot, reported on stdout.
func read(url string, pageSize int, cpuProfile, memProfile string) error {
	src, err := ldap.New(config(url, pageSize), slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	snap, err := src.Snapshot(context.Background())
	if err != nil {
		return err
	}
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	members := 0
	for _, g := range snap.Groups {
		members += len(g.Members)
	}
	fmt.Printf("users=%d groups=%d memberships=%d snapshot=%s\n", len(snap.Users), len(snap.Groups), members, time.Since(start).Round(time.Millisecond))
	return nil
}

// start generates the directory into dir, loads it and starts slapd,
// reporting progress on w.
func start(dir string, users, groups, perUser int, seed uint64, w io.Writer) (*slapdtest.Server, error) {
	t := time.Now()
	data := filepath.Join(dir, "data.ldif")
	f, err := os.Create(data)
	if err != nil {
		return nil, err
	}
	if err := writeLDIF(f, users, groups, perUser, seed); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "generated %d users, %d groups, %d memberships in %s\n", users, groups, users*perUser, time.Since(t).Round(time.Millisecond))
	t = time.Now()
	srv, err := slapdtest.Start(filepath.Join(dir, "slapd"), slapdtest.Options{SeedFile: data})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "slapadd and slapd start in %s (%s)\n", time.Since(t).Round(time.Millisecond), srv.URL)
	return srv, nil
}

// serve is -serve: the directory is served until stdin closes.
func serve(users, groups, perUser int, seed uint64) error {
	dir, err := os.MkdirTemp("", "dirbridge-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := start(dir, users, groups, perUser, seed, os.Stderr)
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Printf("url=%s suffix=%s reader_dn=%s reader_pw=%s admin_dn=%s admin_pw=%s\n", srv.URL, slapdtest.Suffix,
		slapdtest.ReaderDN, slapdtest.ReaderPW, slapdtest.AdminDN, slapdtest.AdminPW)
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

func bench(users, groups, perUser int, seed uint64, pageSize, runs int, keep bool) (bool, error) {
	dir, err := os.MkdirTemp("", "dirbridge-bench-")
	if err != nil {
		return false, err
	}
	if keep {
		fmt.Println("directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	srv, err := start(dir, users, groups, perUser, seed, os.Stdout)
	if err != nil {
		return false, err
	}
	defer srv.Stop()

	self, err := os.Executable()
	if err != nil {
		return false, err
	}
	var base, ours []time.Duration
	var baseRSS, ourRSS int64
	for i := range runs {
		b, brss, err := ldapsearch(srv.URL, pageSize)
		if err != nil {
			return false, err
		}
		d, rss, out, err := timed(exec.Command(self, "-read", srv.URL, "-page-size", fmt.Sprint(pageSize)), false)
		if err != nil {
			return false, fmt.Errorf("read: %w: %s", err, out)
		}
		base, ours = append(base, b), append(ours, d)
		baseRSS, ourRSS = max(baseRSS, brss), max(ourRSS, rss)
		fmt.Printf("run %d: ldapsearch %s, dirbridge %s (%s, peak RSS %.1f MB)\n", i+1, b.Round(time.Millisecond), d.Round(time.Millisecond), out, mb(rss))
	}
	b, d := median(base), median(ours)
	ratio := float64(d) / float64(b)
	ok := ratio <= maxRatio && mb(ourRSS) < maxRSSMB
	fmt.Printf("\nmedian of %d runs, page size %d:\n", runs, pageSize)
	fmt.Printf("  ldapsearch users+groups  %8s   peak RSS %6.1f MB\n", b.Round(time.Millisecond), mb(baseRSS))
	fmt.Printf("  dirbridge Snapshot       %8s   peak RSS %6.1f MB\n", d.Round(time.Millisecond), mb(ourRSS))
	fmt.Printf("  ratio %.2fx (target <= %.1fx), peak RSS %.1f MB (target < %d MB): %s\n", ratio, maxRatio, mb(ourRSS), maxRSSMB, map[bool]string{true: "PASS", false: "FAIL"}[ok])
	return ok, nil
}

// ldapsearch reads the users and the groups as the source does (same bases,
// filters and attributes; the openldap preset asks users for entryUUID, mail,
// displayName and cn, and groups for cn, entryUUID and member) and returns
// the wall time of both processes together and the larger peak RSS.
func ldapsearch(url string, pageSize int) (time.Duration, int64, error) {
	var total time.Duration
	var rss int64
	for _, s := range [][]string{
		{"ou=people," + slapdtest.Suffix, "(objectClass=inetOrgPerson)", "entryUUID", "mail", "displayName", "cn"},
		{"ou=groups," + slapdtest.Suffix, "(objectClass=groupOfNames)", "cn", "entryUUID", "member"},
	} {
		args := append([]string{"-x", "-LLL", "-H", url, "-D", slapdtest.ReaderDN, "-w", slapdtest.ReaderPW,
			"-E", fmt.Sprintf("pr=%d/noprompt", pageSize), "-b"}, s...)
		d, r, out, err := timed(exec.Command("ldapsearch", args...), true)
		if err != nil {
			return 0, 0, fmt.Errorf("ldapsearch: %w: %s", err, out)
		}
		total += d
		rss = max(rss, r)
	}
	return total, rss, nil
}

// timed runs cmd and returns its wall time, its peak RSS in KiB and its
// output: stderr, and stdout unless quiet sends stdout to /dev/null.
func timed(cmd *exec.Cmd, quiet bool) (time.Duration, int64, string, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if quiet {
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return 0, 0, "", err
		}
		defer devnull.Close()
		cmd.Stdout = devnull
	}
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, 0, out.String(), err
	}
	return d, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss, strings.TrimSpace(out.String()), nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func mb(kib int64) float64 { return float64(kib) / 1024 }
