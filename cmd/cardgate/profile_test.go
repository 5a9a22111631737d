package main_test

import (
	"compress/gzip"
	"debug/buildinfo"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestBuiltWithProfile: a plain `go build` of cardgate is optimized with
// the profile in cmd/cardgate/default.pgo (docs/BENCHMARKS.md, PGO).
func TestBuiltWithProfile(t *testing.T) {
	needBinary(t)
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range info.Settings {
		if s.Key == "-pgo" {
			if filepath.Base(s.Value) != "default.pgo" || filepath.Base(filepath.Dir(s.Value)) != "cardgate" {
				t.Errorf("built with -pgo=%s, want cmd/cardgate/default.pgo", s.Value)
			}
			return
		}
	}
	t.Error("built without a profile: cmd/cardgate/default.pgo is missing")
}

// TestCPUProfile: CARDGATE_CPUPROFILE makes a server write its CPU profile
// to the name given plus its PID when it stops, and a name that cannot be
// written is refused at once.
func TestCPUProfile(t *testing.T) {
	needBinary(t)
	in := newInstall(t)
	prefix := filepath.Join(t.TempDir(), "cpu")
	cmd, base := in.startIssuer([]string{"CARDGATE_CPUPROFILE=" + prefix})
	for range 50 {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("issuer after SIGTERM: %v", err)
	}
	f, err := os.Open(prefix + "." + strconv.Itoa(cmd.Process.Pid))
	if err != nil {
		t.Fatalf("no profile: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f) // a pprof profile is gzipped protobuf
	if err != nil {
		t.Fatalf("profile: %v", err)
	}
	if b, err := io.ReadAll(zr); err != nil || len(b) == 0 {
		t.Fatalf("profile: %d bytes, %v", len(b), err)
	}

	bad := exec.Command(bin, "--help")
	bad.Env = append(os.Environ(), "CARDGATE_CPUPROFILE="+filepath.Join(t.TempDir(), "missing", "cpu"))
	out, err := bad.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "CARDGATE_CPUPROFILE") {
		t.Errorf("unwritable CARDGATE_CPUPROFILE: %v, %q; want exit 1 and a message naming it", err, out)
	}
}
