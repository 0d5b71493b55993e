// Command dirbridge keeps a Bitwarden organization's members and groups in
// step with a company directory. See the README for its commands.
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
