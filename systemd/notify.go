package systemd

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// Notify sends one sd_notify message, such as "READY=1", "STATUS=next sync
// at 03:00", "WATCHDOG=1", "STOPPING=1" or Reloading(), as a datagram to the
// unix socket in $NOTIFY_SOCKET (a leading @ names the abstract namespace).
// Several assignments go in one message, separated by newlines. It returns
// false and no error when $NOTIFY_SOCKET is unset: the process does not run
// under systemd, or not as Type=notify.
func Notify(state string) (bool, error) {
	socket := os.Getenv("NOTIFY_SOCKET")
	if socket == "" {
		return false, nil
	}
	if !strings.HasPrefix(socket, "/") && !strings.HasPrefix(socket, "@") {
		return false, fmt.Errorf("systemd: notify: NOTIFY_SOCKET %q is neither an absolute path nor an abstract socket (@name)", socket)
	}
	// net maps a leading @ to the abstract namespace's leading NUL.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("systemd: notify %s: %w", firstLine(state), err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("systemd: notify %s: %w", firstLine(state), err)
	}
	return true, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Reloading returns the message that tells systemd a reload has begun:
// RELOADING=1 with MONOTONIC_USEC, the time on CLOCK_MONOTONIC, which
// Type=notify-reload (systemd 253 and later) requires and older versions
// ignore. Send READY=1 when the reload is done.
func Reloading() string {
	return "RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatUint(monotonicUsec(), 10)
}

// monotonicUsec reads CLOCK_MONOTONIC in microseconds, the clock systemd
// compares MONOTONIC_USEC with. Go's own monotonic readings are not
// exposed, and the syscall package has no wrapper for clock_gettime.
func monotonicUsec() uint64 {
	const clockMonotonic = 1
	var ts syscall.Timespec
	// clock_gettime cannot fail for CLOCK_MONOTONIC with a valid pointer.
	_, _, _ = syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
	return uint64(ts.Sec)*1e6 + uint64(ts.Nsec)/1e3
}

// WatchdogInterval returns $WATCHDOG_USEC as a duration, and true when
// systemd's watchdog is on for this process: $WATCHDOG_USEC is a positive
// number and $WATCHDOG_PID, when set, is this process's pid.
func WatchdogInterval() (time.Duration, bool) {
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 || usec > math.MaxInt64/int64(time.Microsecond) {
		return 0, false
	}
	if p := os.Getenv("WATCHDOG_PID"); p != "" {
		if pid, err := strconv.Atoi(p); err != nil || pid != os.Getpid() {
			return 0, false
		}
	}
	return time.Duration(usec) * time.Microsecond, true
}

// Watchdog sends WATCHDOG=1 at once and then every half interval until ctx
// ends, so that systemd restarts dirbridge only if the process hangs. It
// returns at once when the watchdog is off (see WatchdogInterval) or
// $NOTIFY_SOCKET is unset; otherwise it blocks, so run it in its own
// goroutine, apart from the syncs, which may take longer than the interval.
// A failing ping is logged once, and again when pings work again.
func Watchdog(ctx context.Context, logger *slog.Logger) {
	interval, ok := WatchdogInterval()
	if !ok || os.Getenv("NOTIFY_SOCKET") == "" {
		return
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("component", "watchdog")
	log.Debug("systemd watchdog on", "interval", interval.String())
	ticker := time.NewTicker(interval / 2)
	defer ticker.Stop()
	failing := false
	for {
		_, err := Notify("WATCHDOG=1")
		switch {
		case err != nil && !failing:
			log.Warn("systemd watchdog ping failed; systemd restarts dirbridge if this lasts", "interval", interval.String(), "err", err)
		case err == nil && failing:
			log.Info("systemd watchdog ping works again")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
