// Command dirbridge keeps a Bitwarden organization's members and groups in
// step with a company directory. See the README for its commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	// A run holds the directory and the organization at once and then
	// lets go of both: collect garbage at half the default growth, which
	// keeps the footprint of a 100,000-user sync near its live data.
	// GOGC, when set, still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, a second one exits at once.
		<-ctx.Done()
		stop()
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM)
		<-again
		fmt.Fprintln(os.Stderr, "dirbridge: second signal, exiting at once")
		os.Exit(130)
	}()
	os.Exit(NewMain().Run(ctx, os.Args[1:]))
}
