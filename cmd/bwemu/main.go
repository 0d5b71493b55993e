// Command bwemu serves an emulated Bitwarden organization (package
// sink/bitwarden/bwemu) on a TCP port, for end-to-end tests, benchmarks and
// `make demo`. When ready it prints one line to stdout:
//
//	bwemu listening on http://127.0.0.1:PORT
//
// On SIGTERM or SIGINT it stops serving, writes the organization to the
// -dump file if one is given, and exits 0.
//
// Usage:
//
//	bwemu [-listen 127.0.0.1:0] [-seed org.json] [-dump out.json] [-self-hosted] [-seats 50] ...
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bwemu:", err)
		os.Exit(1)
	}
}
