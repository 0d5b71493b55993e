package bitwarden

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
)

func TestSCIMEnabled(t *testing.T) {
	tests := []struct {
		name     string
		opt      bwemu.Options
		scim     func(base, org string) SCIMConfig
		fault    *bwemu.Fault
		want     bool
		wantErr  string
		wantLog  string
		wantAsks int
	}{
		{
			name: "AssertedWithoutAsking",
			scim: func(base, org string) SCIMConfig {
				return SCIMConfig{Enabled: true, URL: base + "/scim/v2/" + org, APIKey: "scim-secret"}
			},
			want: true,
		},
		{
			name: "NotConfigured",
			scim: func(base, org string) SCIMConfig { return SCIMConfig{} },
		},
		{
			name: "On",
			opt:  bwemu.Options{SCIMEnabled: true},
			scim: func(base, org string) SCIMConfig {
				return SCIMConfig{URL: base + "/scim/v2/" + org + "/", APIKey: "scim-secret"}
			},
			want: true, wantAsks: 1,
		},
		{
			name: "Off",
			scim: func(base, org string) SCIMConfig {
				return SCIMConfig{URL: base + "/scim/v2/" + org, APIKey: "scim-secret"}
			},
			wantLog: "SCIM answered 401", wantAsks: 1,
		},
		{
			name: "StaleKey",
			opt:  bwemu.Options{SCIMEnabled: true},
			scim: func(base, org string) SCIMConfig {
				return SCIMConfig{URL: base + "/scim/v2/" + org, APIKey: "old-key"}
			},
			wantLog: "SCIM answered 401", wantAsks: 1,
		},
		{
			name: "ServerErrorFailsClosed",
			opt:  bwemu.Options{SCIMEnabled: true},
			scim: func(base, org string) SCIMConfig {
				return SCIMConfig{URL: base + "/scim/v2/" + org, APIKey: "scim-secret"}
			},
			fault:   &bwemu.Fault{Path: "/scim/", Status: 500, Body: `{"detail":"boom","status":500}`},
			wantErr: "whether it is on: 500 boom", wantAsks: 7,
		},
		{
			name: "NotFoundFailsClosed",
			opt:  bwemu.Options{SCIMEnabled: true},
			scim: func(base, org string) SCIMConfig {
				return SCIMConfig{URL: base + "/scim/v2/" + org + "/nope", APIKey: "scim-secret"}
			},
			wantErr: "whether it is on: 404", wantAsks: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opt, nil)
			cfg := e.sink.cfg
			cfg.SCIM = tt.scim(e.base, e.emu.OrgID())
			s := newFastSink(t, cfg, e.logs)
			if tt.fault != nil {
				e.emu.AddFault(*tt.fault)
			}
			got, err := s.SCIMEnabled(context.Background())
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SCIMEnabled() error = %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("SCIMEnabled() error = %v", err)
			case got != tt.want:
				t.Errorf("SCIMEnabled() = %v, want %v", got, tt.want)
			}
			if tt.wantLog != "" && !strings.Contains(e.logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, e.logs.String())
			}
			asks := 0
			for _, r := range e.emu.Requests() {
				if strings.HasPrefix(r.Path, "/scim/") {
					asks++
					if r.Query != "startIndex=1&count=1" {
						t.Errorf("SCIM query = %q", r.Query)
					}
				}
			}
			if asks != tt.wantAsks {
				t.Errorf("SCIM requests = %d, want %d", asks, tt.wantAsks)
			}
		})
	}
}

func TestSCIMEnabled_NoAnswerFailsClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := validConfig()
	cfg.SCIM = SCIMConfig{URL: "http://" + addr + "/scim/v2/" + testOrg, APIKey: "k"}
	s := newFastSink(t, cfg, &syncBuffer{})
	_, err = s.SCIMEnabled(context.Background())
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("SCIMEnabled() error = %v, want a connection error", err)
	}
}

func TestSCIMEnabled_SendsTheKey(t *testing.T) {
	var auth string
	e := newEnvWrapped(t, bwemu.Options{SCIMEnabled: true}, nil, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/scim/") {
				auth = r.Header.Get("Authorization")
			}
			next.ServeHTTP(w, r)
		})
	})
	cfg := e.sink.cfg
	cfg.SCIM = SCIMConfig{URL: e.base + "/scim/v2/" + e.emu.OrgID(), APIKey: "scim-secret"}
	s := newFastSink(t, cfg, e.logs)
	if on, err := s.SCIMEnabled(context.Background()); err != nil || !on {
		t.Fatalf("SCIMEnabled() = %v, %v", on, err)
	}
	if auth != "Bearer scim-secret" {
		t.Errorf("Authorization = %q, want the bearer key", auth)
	}
}
