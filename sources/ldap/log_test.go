package ldap

import (
	"log/slog"
	"testing"
)

// testLogger returns a logger that writes to the test's output at Debug level.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
