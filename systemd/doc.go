// Package systemd lets dirbridge run as a systemd service of Type=notify: it
// tells systemd when it is ready, reloading or stopping and what it is doing
// (sd_notify), and keeps the service watchdog fed.
//
// The directory also holds the unit files that install dirbridge as a
// hardened service:
//
//	dirbridge.service          the daemon (dirbridge run), Type=notify, with a watchdog
//	dirbridge-dry-run.service  a preview of what a sync would change, applying nothing
//	dirbridge-dry-run.timer    runs the preview daily
//
// unit_test.go holds both services to an exposure level of at most 1.5 in
// systemd-analyze security.
//
// Everything here is a no-op outside systemd: without $NOTIFY_SOCKET,
// Notify reports false, and without $WATCHDOG_USEC, Watchdog returns at once.
package systemd
