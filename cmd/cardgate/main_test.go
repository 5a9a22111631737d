package main_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cardgate/cardgate/postgres/pgtest"
)

const (
	alice  = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	orders = "com.contoso.orders"
)

// bin is the cardgate binary the tests run, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // the tests skip: they need the binary
	}
	dir, err := os.MkdirTemp("", "cardgate-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "cardgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needBinary skips in -short mode, where the binary is not built.
func needBinary(t *testing.T) {
	t.Helper()
	if bin == "" {
		t.Skip("-short: the binary is not built")
	}
}

// TestBinary builds cardgate and drives it as an operator would: the CLI
// registers a user, a package and a host; `cardgate issuer` serves on a free
// loopback port; the host mints over HTTP and a service reads
// /v1/users/me with Kaizala's header; the CLI revokes and rotates keys
// while the server runs; SIGTERM stops it cleanly. It runs on SQLite and
// on PostgreSQL.
func TestBinary(t *testing.T) {
	needBinary(t)
	t.Run("sqlite", func(t *testing.T) { testBinary(t, "") })
	t.Run("postgres", func(t *testing.T) { testBinary(t, pgtest.URL(t)) })
}

func testBinary(t *testing.T, store string) {
	data := t.TempDir()
	storeArgs := []string{"--data", data}
	if store != "" {
		storeArgs = append(storeArgs, "--store", store)
	}
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, storeArgs...)...)
		cmd.Env = append(os.Environ(), "CARDGATE_MASTER_KEY=", "CARDGATE_STORE=", "CARDGATE_DATA=", "CARDGATE_CONFIG=")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("cardgate %s: %v %s", strings.Join(args, " "), err, stderrOf(err))
		}
		return string(out)
	}
	cli("init")
	cli("users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101", "--picture", "https://pics.example/a.png")
	cli("packages", "add", "--id", orders, "--name", "Order products")
	var host struct{ APIKey string }
	json.Unmarshal([]byte(cli("hosts", "add", "web", "--json")), &host)

	srv := exec.Command(bin, append([]string{"issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0"}, storeArgs...)...)
	srv.Env = append(os.Environ(), "CARDGATE_MASTER_KEY=", "CARDGATE_CONFIG=")
	stdout, _ := srv.StdoutPipe()
	srv.Stderr = io.Discard
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	t.Cleanup(func() { srv.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on http://127.0.0.1:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	mint := func() string {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/v1/tokens", strings.NewReader(`{"userId":"`+alice+`","actionPackageId":"`+orders+`"}`))
		req.Header.Set("Authorization", "Bearer "+host.APIKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m struct {
			Token     string
			ExpiresIn int
		}
		json.NewDecoder(res.Body).Decode(&m)
		if res.StatusCode != 201 || m.ExpiresIn != 1800 {
			t.Fatalf("mint: %d %+v", res.StatusCode, m)
		}
		return m.Token
	}
	me := func(tok string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/v1/users/me", nil)
		req.Header.Set("accessToken", tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}

	tok := mint()
	status, body := me(tok)
	want := map[string]any{"id": alice, "name": "Alice", "phoneNumber": "+14155550101",
		"pictureUrl": "https://pics.example/a.png", "actionPackageId": orders}
	if status != 200 || len(body) != 5 {
		t.Fatalf("/v1/users/me: %d %v", status, body)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %v, want %v", k, body[k], v)
		}
	}

	// An immediate rotation by the CLI in another process: the old token
	// keeps working, and a token signed by the new key (minted by the CLI)
	// is accepted by the running server, which loads the new key on first
	// sight of its kid. (A default rotation publishes the key minutes
	// before it signs, so no server ever meets it unannounced.)
	cli("keys", "rotate", "--now")
	if status, _ := me(tok); status != 200 {
		t.Errorf("old token after rotation: %d", status)
	}
	fresh := strings.TrimSpace(cli("token", "--user", alice, "--package", orders, "--issuer-url", base))
	if status, _ := me(fresh); status != 200 {
		t.Errorf("token of the new key: %d", status)
	}

	// Revocation by the CLI reaches the running server within its state
	// cache TTL (1 s).
	cli("revoke", "--user", alice)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if status, _ := me(tok); status == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("revocation by the CLI not seen by the server within 5 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	srv.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit within 5 s of SIGTERM")
	}
}

// install is one installation's data directory, driven through the binary
// as an operator would, with none of this machine's CARDGATE_* settings.
type install struct {
	t    *testing.T
	data string
	env  []string
}

func newInstall(t *testing.T) *install {
	in := &install{t: t, data: t.TempDir(),
		env: append(os.Environ(), "CARDGATE_MASTER_KEY=", "CARDGATE_STORE=", "CARDGATE_DATA=", "CARDGATE_CONFIG=")}
	in.run("", "init")
	return in
}

// run runs one command to its end, stdin on its standard input, and
// returns what it printed; a failure ends the test.
func (in *install) run(stdin string, args ...string) string {
	in.t.Helper()
	cmd := exec.Command(bin, append(args, "--data", in.data)...)
	cmd.Env, cmd.Stdin = in.env, strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		in.t.Fatalf("cardgate %s: %v %s", strings.Join(args, " "), err, stderrOf(err))
	}
	return string(out)
}

// start starts a server command, with extraEnv besides the installation's
// environment, and returns it and the first line it printed ("listening
// on …"). The server is killed when the test ends.
func (in *install) start(extraEnv []string, args ...string) (*exec.Cmd, string) {
	in.t.Helper()
	cmd := exec.Command(bin, append(args, "--data", in.data)...)
	cmd.Env = append(in.env[:len(in.env):len(in.env)], extraEnv...)
	out, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	in.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		in.t.Fatalf("%s: no first line (%v): %s", args[0], err, stderr.String())
	}
	go io.Copy(io.Discard, out)
	return cmd, line
}

// startIssuer starts `cardgate issuer` on free loopback ports, with
// extraEnv besides the installation's environment, and returns it and the
// base URL it listens on.
func (in *install) startIssuer(extraEnv []string) (*exec.Cmd, string) {
	in.t.Helper()
	cmd, line := in.start(extraEnv, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0")
	return cmd, strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// TestExitStatus checks what a script sees: 0 for success and --help, 2 for
// a mistake in the command line, 1 for anything else, with a message on
// stderr that names the problem.
func TestExitStatus(t *testing.T) {
	needBinary(t)
	data := t.TempDir()
	init := exec.Command(bin, "init", "--data", data)
	init.Env = append(os.Environ(), "CARDGATE_MASTER_KEY=", "CARDGATE_STORE=", "CARDGATE_DATA=", "CARDGATE_CONFIG=")
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("cardgate init: %v %s", err, out)
	}
	tests := []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"--help"}, 0, ""},
		{[]string{"users", "add", "--help"}, 0, ""},
		{[]string{}, 2, "no command given"},
		{[]string{"frobnicate"}, 2, `cardgate: unknown command "frobnicate"`},
		{[]string{"users", "add", "--nmae", "x"}, 2, "cardgate: users add: unknown flag -nmae; see cardgate users add --help\n"},
		{[]string{"users", "add", "--name", "A", "--data", data}, 2, "cardgate: users add: --phone is required"},
		{[]string{"revoke", "--data", data}, 2, "exactly one of --jti, --user, --package"},
		{[]string{"users", "add", "--name", "A", "--phone", "12345", "--data", data}, 1, "cardgate: --phone: must be a real phone number"},
		{[]string{"users", "add", "--name", "A", "--phone", "12345", "--data", data, "--json"}, 1,
			`{"error":{"code":"InvalidRequest","message":"--phone: must be a real phone number`},
		{[]string{"users", "list", "--bogus", "--json"}, 2, `{"error":{"code":"Usage","message":"users list: unknown flag -bogus`},
		{[]string{"packages", "add", "--id", "orders", "--name", "A", "--data", data}, 1, "cardgate: --id: must be in reverse-DNS form"},
	}
	for _, tt := range tests {
		cmd := exec.Command(bin, tt.args...)
		cmd.Env = append(os.Environ(), "CARDGATE_MASTER_KEY=", "CARDGATE_DATA="+data)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		status := 0
		if ee, ok := err.(*exec.ExitError); ok {
			status = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if status != tt.status || !strings.Contains(stderr.String(), tt.stderr) {
			t.Errorf("cardgate %s: status %d, want %d; stderr:\n%s\nwant it to contain %q",
				strings.Join(tt.args, " "), status, tt.status, stderr.String(), tt.stderr)
		}
		if strings.Contains(stderr.String(), "cardgate: cardgate:") {
			t.Errorf("cardgate %s: doubled prefix: %s", strings.Join(tt.args, " "), stderr.String())
		}
		// A mistake is reported once, in one line.
		if status != 0 && len(tt.args) > 0 && strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("cardgate %s: want one line on stderr, got:\n%s", strings.Join(tt.args, " "), stderr.String())
		}
	}
}

// A built binary tells its version, the commit it was built from and its
// Go version, from the build information the Go toolchain embeds. Built
// with VCS stamping (go build in a git checkout: -buildvcs=true, or the
// default auto with git at hand) it knows the commit, and the version is
// the module's as Go derives it from the checkout: the tag when built at
// one, else a pseudo-version naming the commit
// (v0.0.0-20261205165621-ae001674ad19), with "+dirty" and "(modified)" when
// the tree had uncommitted changes. Without stamping (-buildvcs=false, go
// run) it says "(devel)" and no commit. The binary the other tests run is
// checked as the environment's GOFLAGS built it, then one of each is built.
func TestVersionBinary(t *testing.T) {
	needBinary(t)
	t.Run("as built", func(t *testing.T) { checkVersion(t, bin, "") })
	t.Run("buildvcs=false", func(t *testing.T) { checkVersion(t, buildWith(t, "-buildvcs=false"), "(devel)") })
	t.Run("buildvcs=true", func(t *testing.T) {
		head, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			absent(t, fmt.Sprintf("git rev-parse HEAD: %v: the stamped build needs git and a git checkout", err))
		}
		checkVersion(t, buildWith(t, "-buildvcs=true"), strings.TrimSpace(string(head)))
	})
}

// buildWith builds cardgate from this checkout with the given build flag,
// which beats the same flag in GOFLAGS.
func buildWith(t *testing.T, flag string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cardgate")
	if b, err := exec.Command("go", "build", flag, "-o", out, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", flag, err, b)
	}
	return out
}

var (
	// A module version: a tag, or a pseudo-version, "+dirty" for a tree
	// with uncommitted changes.
	moduleVersion = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+dirty)?$`)
	// A pseudo-version's last two parts: the commit's time and its hash.
	pseudoVersion = regexp.MustCompile(`-\d{14}-([0-9a-f]{12})(\+dirty)?$`)
	goVersion     = regexp.MustCompile(`^go1\.\d+`)
)

// checkVersion runs `version`, `--version` and `version --json` of binary.
// want is the commit it must name, "(devel)" for a build without VCS
// stamping, or "" for either.
func checkVersion(t *testing.T, binary, want string) {
	t.Helper()
	out, err := exec.Command(binary, "version", "--json").Output()
	var v struct {
		Version, Commit, Go string
		Modified            bool
	}
	if err != nil || json.Unmarshal(out, &v) != nil {
		t.Fatalf("cardgate version --json: %q %v", out, err)
	}
	if !goVersion.MatchString(v.Go) {
		t.Errorf("version --json: go %q", v.Go)
	}
	switch {
	case want == "(devel)" || want == "" && v.Commit == "":
		if v.Version != "(devel)" || v.Commit != "" || v.Modified {
			t.Errorf("a build without VCS stamping: %s, want version (devel) and no commit", out)
		}
	default:
		if want != "" && v.Commit != want {
			t.Errorf("version --json: commit %q, want %s, the checkout's HEAD", v.Commit, want)
		}
		if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(v.Commit) || !moduleVersion.MatchString(v.Version) {
			t.Errorf("a stamped build: %s, want a module version and a commit", out)
		}
		if m := pseudoVersion.FindStringSubmatch(v.Version); m != nil && !strings.HasPrefix(v.Commit, m[1]) {
			t.Errorf("pseudo-version %s names another commit than %s", v.Version, v.Commit)
		}
		if strings.HasSuffix(v.Version, "+dirty") != v.Modified {
			t.Errorf("version %s, modified %v: +dirty and modified disagree", v.Version, v.Modified)
		}
	}
	// The line says the same: cardgate VERSION [commit COMMIT [(modified)]] GO.
	line := "cardgate " + v.Version
	if v.Commit != "" {
		line += " commit " + v.Commit
		if v.Modified {
			line += " (modified)"
		}
	}
	line += " " + v.Go + "\n"
	for _, args := range []string{"version", "--version"} {
		if out, err := exec.Command(binary, args).Output(); err != nil || string(out) != line {
			t.Errorf("cardgate %s: %q %v, want %q", args, out, err, line)
		}
	}
}
