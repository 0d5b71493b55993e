package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
)

// run parses the flags, serves until ctx ends, then writes the dump.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bwemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	seedFile := fs.String("seed", "", "JSON file with the organization to start from (bwemu.Org)")
	dumpFile := fs.String("dump", "", "file to write the organization to on SIGTERM/SIGINT")
	verbose := fs.Bool("v", false, "log every request to stderr")
	var opt bwemu.Options
	fs.StringVar(&opt.OrgID, "org-id", bwemu.DefaultOrgID, "organization GUID")
	fs.StringVar(&opt.ClientSecret, "client-secret", "secret", "organization API key")
	fs.DurationVar(&opt.TokenLifetime, "token-lifetime", time.Hour, "access token lifetime")
	seats := fs.Int("seats", -1, "seat count; -1 is unlimited")
	maxAutoscale := fs.Int("max-autoscale-seats", -1, "autoscale cap; -1 is none")
	fs.BoolVar(&opt.SelfHosted, "self-hosted", false, "self-hosted server: no autoscale, import cap, subscription or rate limits")
	useGroups := fs.Bool("use-groups", true, "the plan has groups")
	useDirectory := fs.Bool("use-directory", true, "the plan has directory sync")
	fs.BoolVar(&opt.Legacy, "legacy", false, "server before v2026.2.0: no revoke/restore, continuationToken in lists")
	fs.BoolVar(&opt.RateLimit, "rate-limit", false, "apply the cloud rate limits")
	fs.BoolVar(&opt.Vaultwarden, "vaultwarden", false, "emulate Vaultwarden")
	fs.BoolVar(&opt.VaultwardenGroups, "vaultwarden-groups", false, "Vaultwarden ORG_GROUPS_ENABLED")
	fs.BoolVar(&opt.SCIMEnabled, "scim", false, "enable SCIM")
	fs.StringVar(&opt.SCIMKey, "scim-key", "scim-secret", "SCIM API key")
	fs.BoolVar(&opt.StagedFlag, "staged", false, "server flag pm-34423-staged-status")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *seats >= 0 {
		opt.Seats = seats
	}
	if *maxAutoscale >= 0 {
		opt.MaxAutoscaleSeats = maxAutoscale
	}
	opt.UseGroups, opt.UseDirectory = useGroups, useDirectory

	emu := bwemu.New(opt)
	if *seedFile != "" {
		if err := seed(emu, *seedFile); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var handler http.Handler = emu
	if *verbose {
		handler = logRequests(emu, stderr)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "bwemu listening on http://%s\n", ln.Addr())

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if *dumpFile != "" {
		return dump(emu, *dumpFile)
	}
	return nil
}

// seed loads an organization from a JSON file; unknown keys are errors so
// that a typo in a seed does not go unnoticed.
func seed(emu *bwemu.Server, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read seed: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var org bwemu.Org
	if err := dec.Decode(&org); err != nil {
		return fmt.Errorf("parse seed %s: %w", path, err)
	}
	return emu.Seed(org)
}

func dump(emu *bwemu.Server, path string) error {
	b, err := json.MarshalIndent(emu.Dump(), "", "  ")
	if err != nil {
		return fmt.Errorf("encode dump: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write dump: %w", err)
	}
	return nil
}

// logRequests writes one line per request: method, path, status.
func logRequests(next http.Handler, w io.Writer) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		fmt.Fprintf(w, "%s %s %s %d\n", time.Now().Format(time.TimeOnly), r.Method, r.URL.Path, rec.status)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets the emulator's dropped-connection faults reach the connection.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
