// Command cardgate runs the cardgate servers and administers them; see
// `cardgate --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cardgate/cardgate/cli"
	"github.com/cardgate/cardgate/internal/heapfloor"
)

func main() {
	// A GOGC the operator set is theirs; otherwise the collector lets the
	// heap reach a floor first (docs/operating.md, Memory).
	if os.Getenv("GOGC") == "" {
		heapfloor.Start(heapfloor.Default)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	cli.Report(os.Stderr, os.Args, err)
	os.Exit(cli.ExitCode(err))
}
