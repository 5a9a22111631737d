// Command cardgate runs the cardgate servers and administers them; see
// `cardgate --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cardgate/cardgate/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		// Domain errors already say "cardgate: ".
		msg := err.Error()
		if !strings.HasPrefix(msg, "cardgate: ") {
			msg = "cardgate: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		var usage *cli.UsageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
