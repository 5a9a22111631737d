// Command cardgate runs the cardgate servers and administers them; see
// `cardgate --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cardgate/cardgate/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	cli.Report(os.Stderr, os.Args, err)
	os.Exit(cli.ExitCode(err))
}
