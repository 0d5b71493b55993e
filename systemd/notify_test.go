package systemd_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/systemd"
)

// listen opens a notify socket, as systemd does, at a path in t.TempDir()
// or, when abstract, under a random name in the abstract namespace. It
// returns the socket and the value for $NOTIFY_SOCKET.
func listen(t *testing.T, abstract bool) (*net.UnixConn, string) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "notify")
	if abstract {
		name = fmt.Sprintf("@dirbridge-test-%d-%x", os.Getpid(), rand.Uint64())
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, name
}

// receive reads the messages sent so far. It sends itself a marker first,
// so it never waits for a message that will not come.
func receive(t *testing.T, conn *net.UnixConn, socket string) []string {
	t.Helper()
	const end = "TEST_END=1"
	t.Setenv("NOTIFY_SOCKET", socket)
	if _, err := systemd.Notify(end); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var got []string
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read the notify socket: %v (so far %q)", err, got)
		}
		if msg := string(buf[:n]); msg != end {
			got = append(got, msg)
			continue
		}
		return got
	}
}

func TestNotify_SendsEachMessageAsOneDatagram(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		t.Run(map[bool]string{false: "Path", true: "Abstract"}[abstract], func(t *testing.T) {
			conn, socket := listen(t, abstract)
			t.Setenv("NOTIFY_SOCKET", socket)
			msgs := []string{"READY=1", "STATUS=next sync at 03:00; last: ok, 3 changes", "WATCHDOG=1", "READY=1\nSTATUS=idle", "STOPPING=1"}
			for _, m := range msgs {
				sent, err := systemd.Notify(m)
				if !sent || err != nil {
					t.Fatalf("Notify(%q) = %v, %v; want true, nil", m, sent, err)
				}
			}
			if diff := cmp.Diff(msgs, receive(t, conn, socket)); diff != "" {
				t.Errorf("received (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotify_WithoutSocketDoesNothing(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	os.Unsetenv("NOTIFY_SOCKET") // t.Setenv restores it afterwards
	if sent, err := systemd.Notify("READY=1"); sent || err != nil {
		t.Errorf("Notify without NOTIFY_SOCKET = %v, %v; want false, nil", sent, err)
	}
}

func TestNotify_Errors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	tests := []struct{ socket, want string }{
		{"run/notify", `NOTIFY_SOCKET "run/notify" is neither an absolute path nor an abstract socket`},
		{missing, "systemd: notify READY=1: dial unixgram " + missing + ": connect: no such file or directory"},
	}
	for _, tt := range tests {
		t.Setenv("NOTIFY_SOCKET", tt.socket)
		sent, err := systemd.Notify("READY=1\nSTATUS=x")
		if sent || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NOTIFY_SOCKET=%s: Notify = %v, %v; want false and an error containing %q", tt.socket, sent, err, tt.want)
		}
	}
}

func TestReloading(t *testing.T) {
	first := systemd.Reloading()
	second := systemd.Reloading()
	usec := func(msg string) uint64 {
		t.Helper()
		v, ok := strings.CutPrefix(msg, "RELOADING=1\nMONOTONIC_USEC=")
		if !ok {
			t.Fatalf("Reloading() = %q, want RELOADING=1 and MONOTONIC_USEC", msg)
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			t.Fatalf("MONOTONIC_USEC in %q: %v", msg, err)
		}
		return n
	}
	if a, b := usec(first), usec(second); b < a {
		t.Errorf("MONOTONIC_USEC went back: %d then %d", a, b)
	}
}

func TestWatchdogInterval(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	tests := []struct {
		name        string
		usec, wpid  string // "" leaves the variable unset
		want        time.Duration
		wantEnabled bool
	}{
		{name: "Unset"},
		{name: "On", usec: "300000000", want: 5 * time.Minute, wantEnabled: true},
		{name: "ForThisProcess", usec: "30000000", wpid: pid, want: 30 * time.Second, wantEnabled: true},
		{name: "ForAnotherProcess", usec: "30000000", wpid: "1"},
		{name: "BadPID", usec: "30000000", wpid: "main"},
		{name: "Zero", usec: "0"},
		{name: "Negative", usec: "-5"},
		{name: "NotANumber", usec: "5min"},
		{name: "Overflows", usec: "18446744073709551615"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setenv(t, "WATCHDOG_USEC", tt.usec)
			setenv(t, "WATCHDOG_PID", tt.wpid)
			got, enabled := systemd.WatchdogInterval()
			if got != tt.want || enabled != tt.wantEnabled {
				t.Errorf("WatchdogInterval() = %v, %v; want %v, %v", got, enabled, tt.want, tt.wantEnabled)
			}
		})
	}
}

// setenv sets key to v for the test, or unsets it when v is "".
func setenv(t *testing.T, key, v string) {
	t.Setenv(key, v)
	if v == "" {
		os.Unsetenv(key)
	}
}

func TestWatchdog_PingsEveryHalfInterval(t *testing.T) {
	conn, socket := listen(t, false)
	t.Setenv("NOTIFY_SOCKET", socket)
	t.Setenv("WATCHDOG_USEC", "10000000") // 10s
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { systemd.Watchdog(ctx, nil); close(done) }()
		time.Sleep(21 * time.Second) // pings at 0, 5, 10, 15 and 20s
		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("Watchdog did not return when its context ended")
		}
	})
	want := []string{"WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"}
	if diff := cmp.Diff(want, receive(t, conn, socket)); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
}

func TestWatchdog_OffReturnsAtOnce(t *testing.T) {
	conn, socket := listen(t, false)
	tests := []struct {
		name, socket, usec, wpid string
	}{
		{name: "NoWatchdog", socket: socket},
		{name: "AnotherProcessesWatchdog", socket: socket, usec: "10000000", wpid: "1"},
		{name: "NoSocket", usec: "10000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setenv(t, "NOTIFY_SOCKET", tt.socket)
			setenv(t, "WATCHDOG_USEC", tt.usec)
			setenv(t, "WATCHDOG_PID", tt.wpid)
			synctest.Test(t, func(t *testing.T) {
				done := make(chan struct{})
				go func() { systemd.Watchdog(t.Context(), nil); close(done) }()
				synctest.Wait()
				select {
				case <-done:
				default:
					t.Fatal("Watchdog is waiting, want it to return at once")
				}
			})
		})
	}
	if got := receive(t, conn, socket); len(got) > 0 {
		t.Errorf("received %q, want nothing", got)
	}
}

func TestWatchdog_LogsAFailingPingOnce(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "notify") // nobody listens yet
	t.Setenv("NOTIFY_SOCKET", socket)
	t.Setenv("WATCHDOG_USEC", "10000000")
	var logs bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go systemd.Watchdog(ctx, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey || a.Key == "err" {
					return slog.Attr{}
				}
				return a
			},
		})))
		time.Sleep(12 * time.Second) // pings at 0, 5 and 10s fail
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: socket, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		time.Sleep(10 * time.Second) // pings at 15 and 20s work
		cancel()
		synctest.Wait()
	})
	want := "level=WARN msg=\"systemd watchdog ping failed; systemd restarts dirbridge if this lasts\" component=watchdog interval=10s\n" +
		"level=INFO msg=\"systemd watchdog ping works again\" component=watchdog\n"
	if diff := cmp.Diff(want, logs.String()); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}
