// Command pgo makes cmd/cardgate/default.pgo, the CPU profile that `go
// build` uses to optimize cardgate (profile-guided optimization):
//
//	go run ./bench/pgo
//
// It builds cardgate as `go build` does, runs the bench's own loads against
// it with CARDGATE_CPUPROFILE set, so that every cardgate process writes
// its profile, and merges them with `go tool pprof -proto`. The loads:
// bench/run's adapter targets (remote and local mode, and nginx asking the
// adapter's /auth when nginx is installed) at c = 1, 16 and 64, for the
// adapter's request path; bench/memory's mints and checks, for the
// issuer's. Run it from the repository's root after a change to a hot
// path; see docs/BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/cardgate/cardgate/bench/internal/install"
)

// options: where the repository is, where the profile goes, and whether
// the loads are the short ones of the tests.
type options struct {
	root, out string
	quick     bool
}

func main() {
	o := options{root: "."}
	flag.StringVar(&o.out, "o", "cmd/cardgate/default.pgo", "where to write the merged profile")
	flag.BoolVar(&o.quick, "quick", false, "one short round of each load (a check that it works, not a profile to keep)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if _, err := os.Stat(filepath.Join(o.root, "cmd", "cardgate")); err != nil {
		return fmt.Errorf("run it from the repository's root: %w", err)
	}
	dir, err := os.MkdirTemp("", "cardgate-pgo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// With the current profile, as cardgate ships: Go's PGO is made to be
	// stable when the profile comes from an optimized build.
	bin, err := install.Build(ctx, dir)
	if err != nil {
		return err
	}
	profiles := filepath.Join(dir, "profiles")
	if err := os.Mkdir(profiles, 0o700); err != nil {
		return err
	}
	env := []string{"CARDGATE_CPUPROFILE=" + filepath.Join(profiles, "cpu")}
	targets := "adapter-remote,adapter-local"
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil { // bench/run's default -nginx
		targets += ",nginx-auth"
	}
	loads := [][]string{
		{"go", "run", "./bench/run", "-cardgate", bin, "-rounds", "2", "-duration", "3s", "-warmup", "1s",
			"-c", "1,16,64", "-targets", targets},
		{"go", "run", "./bench/memory", "-cardgate", bin, "-tokens", "20000", "-junk", "40000"},
	}
	if o.quick {
		loads = [][]string{
			{"go", "run", "./bench/run", "-cardgate", bin, "-rounds", "1", "-duration", "300ms", "-warmup", "100ms",
				"-c", "1", "-targets", "adapter-remote"},
			{"go", "run", "./bench/memory", "-cardgate", bin, "-tokens", "100", "-junk", "0"},
		}
	}
	for _, l := range loads {
		if err := command(ctx, o.root, env, l[0], l[1:]...).Run(); err != nil {
			return fmt.Errorf("%v: %w", l[:3], err)
		}
	}
	files, err := filepath.Glob(filepath.Join(profiles, "cpu.*"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no profiles written (%v)", err)
	}
	// -symbolize=none keeps the symbols the profiles carry, start lines
	// included, rather than looking them up again. Once a merged profile
	// came out without start lines, and the compiler refused it; why is
	// not known, so the result is checked before it is written.
	merge := exec.CommandContext(ctx, "go", append([]string{"tool", "pprof", "-proto", "-symbolize=none"}, files...)...)
	merge.Dir, merge.Stderr = o.root, os.Stderr
	merged, err := merge.Output()
	if err != nil {
		return fmt.Errorf("go tool pprof: %w", err)
	}
	candidate := filepath.Join(dir, "merged.pgo")
	if err := os.WriteFile(candidate, merged, 0o644); err != nil {
		return err
	}
	if err := checkProfile(ctx, o.root, candidate); err != nil {
		return err
	}
	out := o.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(o.root, out)
	}
	if err := os.WriteFile(out, merged, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s from %d profiles (%d bytes)\n", out, len(files), len(merged))
	return nil
}

// command runs name in dir with the process's environment plus env, its
// output (the loads' progress and tables) on stderr.
func command(ctx context.Context, dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd
}

// checkProfile has the compiler's own reader (go tool preprofile) read the
// profile, so that a profile go build would refuse is never written.
func checkProfile(ctx context.Context, root, path string) error {
	path, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "preprofile", "-i", path, "-o", os.DevNull)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("the compiler would refuse the merged profile: %v: %s", err, out)
	}
	return nil
}
