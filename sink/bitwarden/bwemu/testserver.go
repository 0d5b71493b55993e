package bwemu

import (
	"net/http/httptest"
	"testing"
)

// StartTestServer starts an emulator configured by opt on a loopback port,
// closed when the test ends, and returns it with its base URL: the token
// endpoint is base+"/identity/connect/token" and the Public API is under
// base+"/api/public".
func StartTestServer(tb testing.TB, opt Options) (*Server, string) {
	tb.Helper()
	s := New(opt)
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	return s, ts.URL
}
