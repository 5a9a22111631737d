// Command cardgate runs the cardgate servers and administers them; see
// `cardgate --help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
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
	stopProfile := startCPUProfile(os.Getenv("CARDGATE_CPUPROFILE"))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	stopProfile()
	cli.Report(os.Stderr, os.Args, err)
	os.Exit(cli.ExitCode(err))
}

// startCPUProfile writes a CPU profile of the whole run to prefix.PID (the
// PID because one environment may start several cardgate processes), for
// diagnosis and for the build's profile-guided optimization
// (cmd/cardgate/default.pgo, docs/BENCHMARKS.md). An empty prefix: none.
func startCPUProfile(prefix string) (stop func()) {
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(prefix + "." + strconv.Itoa(os.Getpid()))
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cardgate: CARDGATE_CPUPROFILE:", err)
		os.Exit(1)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
