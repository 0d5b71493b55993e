package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHandler_Routes(t *testing.T) {
	h := New("test").Handler(time.Hour, nil)
	tests := []struct {
		method, target string
		wantCode       int
		wantType       string // prefix
		wantBody       string // contained
	}{
		{"GET", "/", 200, "text/html", `<a href="metrics">`},
		{"GET", "/metrics", 200, "text/plain", "# TYPE dirbridge_runs_total counter"},
		{"GET", "/healthz", 200, "text/plain", "starting: no successful sync yet"},
		{"HEAD", "/healthz", 200, "text/plain", ""},
		{"POST", "/healthz", 405, "", ""},
		{"GET", "/nothing", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+strings.ReplaceAll(tt.target, "/", "_"), func(t *testing.T) {
			code, ctype, body := do(t, h, tt.method, tt.target)
			if code != tt.wantCode || !strings.HasPrefix(ctype, tt.wantType) || !strings.Contains(body, tt.wantBody) {
				t.Errorf("%s %s = %d %q %.80q, want %d %q …%q…", tt.method, tt.target, code, ctype, body,
					tt.wantCode, tt.wantType, tt.wantBody)
			}
		})
	}
}

// httpGet fetches url and returns the status code and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return res.StatusCode, string(b)
}

// TestServe_RealListener serves on a real port, then shuts down when its
// context ends, letting a request in flight finish.
func TestServe_RealListener(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", New("v9").Handler(time.Hour, nil))
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, mux, slog.New(slog.NewTextHandler(&logs, nil))) }()

	if code, body := httpGet(t, "http://"+addr+"/metrics"); code != 200 || !strings.Contains(body, `dirbridge_build_info{version="v9"} 1`) {
		t.Errorf("GET /metrics = %d, build_info missing:\n%.300s", code, body)
	}
	if code, body := httpGet(t, "http://"+addr+"/healthz"); code != 200 || !strings.HasPrefix(body, "starting: ") {
		t.Errorf("GET /healthz = %d %q", code, body)
	}

	slow := make(chan string, 1)
	go func() { // no t.Fatal off the test's goroutine
		res, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		slow <- string(b)
	}()
	<-entered
	cancel()
	// Shutdown closes the listener first; wait for that.
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		_ = c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with a request in flight", err)
	default:
	}
	close(release)
	if body := <-slow; body != "finished" {
		t.Errorf("request in flight during shutdown got %q, want finished", body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after cancel = %v, want nil", err)
	}
	if !strings.Contains(logs.String(), "addr="+addr) {
		t.Errorf("log does not name the address %s:\n%s", addr, logs.String())
	}
}

func TestListen_PortInUse(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	ln2, err := Listen(addr)
	if err == nil {
		ln2.Close()
		t.Fatalf("Listen(%s) on a port in use: no error", addr)
	}
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.HasPrefix(err.Error(), "metrics: listen on "+addr+": ") {
		t.Errorf("Listen(%s) = %v, want metrics: listen on ...: EADDRINUSE", addr, err)
	}
}

func TestServe_ListenerFails(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = ln.Close()
	err = Serve(t.Context(), ln, http.NotFoundHandler(), nil)
	if err == nil || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve on a closed listener = %v, want an error wrapping net.ErrClosed", err)
	}
}
