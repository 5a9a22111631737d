package main_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cardgate/cardgate/postgres/pgtest"
)

// guidePath is the operator's guide whose commands the tests run.
const guidePath = "../../docs/operating.md"

// guideLine is one command of a runnable (```sh) block of the guide.
type guideLine struct {
	section string // the "## " heading it is under
	no      int    // line number in the guide
	text    string
}

// readGuide returns the commands of the guide's sh blocks in order, and
// the adapter.yaml it shows (the yaml block with routes). Any other code
// block that holds a cardgate command fails the test: the guide may show
// no command that is not run.
func readGuide(t *testing.T) (lines []guideLine, adapterYAML string) {
	t.Helper()
	b, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	section, lang, inBlock := "", "", false
	var block []string
	for i, l := range strings.Split(string(b), "\n") {
		switch {
		case !inBlock && strings.HasPrefix(l, "```"):
			inBlock, lang, block = true, strings.TrimPrefix(l, "```"), nil
		case inBlock && l == "```":
			inBlock = false
			if lang == "yaml" && adapterYAML == "" && strings.Contains(strings.Join(block, "\n"), "routes:") {
				adapterYAML = strings.Join(block, "\n") + "\n"
			}
		case inBlock && lang == "sh":
			if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
				lines = append(lines, guideLine{section, i + 1, s})
			}
		case inBlock:
			block = append(block, l)
			if strings.HasPrefix(strings.TrimSpace(l), "cardgate ") {
				t.Errorf("%s:%d: a cardgate command in a %q block, which the test does not run: put it in an sh block", guidePath, i+1, lang)
			}
		case strings.HasPrefix(l, "## "):
			section = strings.TrimPrefix(l, "## ")
		}
	}
	if inBlock {
		t.Fatalf("%s: a code block is not closed", guidePath)
	}
	if len(lines) == 0 || adapterYAML == "" {
		t.Fatalf("%s: no sh blocks or no adapter.yaml found", guidePath)
	}
	return lines, adapterYAML
}

// guideRun runs the guide's commands in a directory of its own, with the
// guide's paths, loopback ports and PostgreSQL URL replaced by its own.
type guideRun struct {
	t       *testing.T
	root    string            // stands for / in the guide's paths; the working directory
	env     map[string]string // the shell's environment, with what the guide exports
	ports   map[string]string // the guide's loopback port → the test's
	store   string            // the PostgreSQL URL, made when first needed
	servers map[string]*exec.Cmd
	ran     int
}

var guideValue = regexp.MustCompile(`/var/lib/cardgate[-a-z]*|/backup\b|127\.0\.0\.1:\d+|postgres://cardgate@db\.internal:5432/cardgate\?sslmode=disable`)

func newGuideRun(t *testing.T) *guideRun {
	needTools(t, "bash", "curl", "jq", "sqlite3")
	r := &guideRun{t: t, root: t.TempDir(), env: map[string]string{},
		ports: map[string]string{}, servers: map[string]*exec.Cmd{}}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && !strings.HasPrefix(k, "CARDGATE_") {
			r.env[k] = v
		}
	}
	r.env["PATH"] = filepath.Dir(bin) + string(os.PathListSeparator) + r.env["PATH"]

	// What the guide takes as given: a package folder, the upstream's key
	// in a file, and the upstream on the guide's 127.0.0.1:9000.
	copyDir(t, "../../examples/cards/orders", filepath.Join(r.root, "orders-package"))
	os.WriteFile(filepath.Join(r.root, "erp-key.txt"), []byte("erp-key-value\n"), 0o600)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("X-Api-Key") != "erp-key-value" {
			http.Error(w, "no key", 401)
			return
		}
		io.WriteString(w, `{"products":["P-100"]}`)
	}))
	t.Cleanup(up.Close)
	r.ports["9000"] = strings.TrimPrefix(up.URL, "http://127.0.0.1:")
	return r
}

// subst replaces the guide's values by the test's.
func (r *guideRun) subst(s string) string {
	return guideValue.ReplaceAllStringFunc(s, func(v string) string {
		switch {
		case strings.HasPrefix(v, "/"):
			return filepath.Join(r.root, filepath.Base(v))
		case strings.HasPrefix(v, "postgres://"):
			if r.store == "" {
				r.store = libpqURL(r.t, pgtest.URL(r.t))
			}
			return r.store
		}
		port := strings.TrimPrefix(v, "127.0.0.1:")
		if port == "6379" || port == "5432" { // Redis and PostgreSQL are where they are
			return v
		}
		if r.ports[port] == "" {
			r.ports[port] = freePort(r.t)
		}
		return "127.0.0.1:" + r.ports[port]
	})
}

// libpqURL turns pgtest's URL, whose search_path parameter only pgx knows,
// into one that pg_dump understands too: the server applies options.
func libpqURL(t *testing.T, s string) string {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("options", "-csearch_path="+q.Get("search_path"))
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

func (r *guideRun) environ() []string {
	var env []string
	for k, v := range r.env {
		env = append(env, k+"="+v)
	}
	return env
}

// run runs one line of the guide as a shell would, in the foreground, or
// in the background for a server, waiting until it listens.
func (r *guideRun) run(l guideLine) string {
	r.t.Helper()
	line := r.subst(l.text)
	r.ran++
	if strings.HasPrefix(l.text, "pg_dump ") {
		// The test database holds the schemas of every test running at
		// once, which come and go: dump this test's only.
		needTools(r.t, "pg_dump")
		line += " --schema=" + strings.TrimPrefix(regexp.MustCompile(`search_path%3D\w+`).FindString(r.store), "search_path%3D")
	}
	if strings.Contains(l.text, "redis://127.0.0.1:6379") {
		needService(r.t, "127.0.0.1:6379", "Redis", "start it with `redis-server --daemonize yes`")
	}
	if isServer(l.text) {
		cmd := exec.Command("bash", "-c", "exec "+line)
		cmd.Dir, cmd.Env = r.root, r.environ()
		out, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			r.t.Fatal(err)
		}
		r.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		first, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || !strings.HasPrefix(first, "listening on ") {
			r.t.Fatalf("%s:%d: %s\nfirst line %q (%v); stderr:\n%s", guidePath, l.no, l.text, first, err, stderr.String())
		}
		go io.Copy(io.Discard, out)
		r.servers[line] = cmd
		return first
	}
	script := line
	name, isExport := exportName(line)
	if isExport {
		script += "\nprintf %s \"$" + name + "\""
	}
	cmd := exec.Command("bash", "-o", "pipefail", "-e", "-c", script)
	cmd.Dir, cmd.Env = r.root, r.environ()
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("%s:%d: %s\nfailed: %v\n%s%s", guidePath, l.no, l.text, err, out, stderrOf(err))
	}
	if isExport {
		if v := string(out); v == "" || v == "null" {
			r.t.Fatalf("%s:%d: %s: %s is %q", guidePath, l.no, l.text, name, v)
		} else {
			r.env[name] = v
		}
	}
	return string(out)
}

// stop ends the servers started so far with SIGTERM, as systemd would.
func (r *guideRun) stop() {
	r.t.Helper()
	for line, cmd := range r.servers {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				r.t.Errorf("%s: exit after SIGTERM: %v", line, err)
			}
		case <-time.After(5 * time.Second):
			r.t.Fatalf("%s: no exit within 5 s of SIGTERM", line)
		}
		delete(r.servers, line)
	}
}

var exportRE = regexp.MustCompile(`^export ([A-Z_]+)=`)

func exportName(line string) (string, bool) {
	m := exportRE.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// isServer says whether a line starts a server, which runs until stopped.
func isServer(line string) bool {
	return strings.HasPrefix(line, "cardgate issuer ") ||
		strings.HasPrefix(line, "cardgate adapter ") && !strings.Contains(line, "--check")
}

// needTools skips the test without the programs the guide uses, saying
// which; under CI=true it fails instead.
func needTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			absent(t, fmt.Sprintf("the guide's commands need %s: install it (Debian: apt-get install %s)", n, debianPackage(n)))
		}
	}
}

func debianPackage(tool string) string {
	if tool == "pg_dump" {
		return "postgresql-client"
	}
	return tool
}

// needService skips the test when nothing answers at addr.
func needService(t *testing.T, addr, name, how string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		absent(t, fmt.Sprintf("%s not reachable at %s (%v): %s", name, addr, err, how))
		return
	}
	c.Close()
}

func absent(t *testing.T, msg string) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strings.TrimPrefix(l.Addr().String(), "127.0.0.1:")
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// TestOperatingGuide runs every command of docs/operating.md in order, as
// an operator following it would: on SQLite, then on PostgreSQL with
// Redis for several nodes. Lines the guide shows output for are checked.
func TestOperatingGuide(t *testing.T) {
	needBinary(t)
	lines, adapterYAML := readGuide(t)
	r := newGuideRun(t)
	os.WriteFile(filepath.Join(r.root, "adapter.yaml"), []byte(r.subst(adapterYAML)), 0o600)
	want := map[string]string{ // a command's text → what its output must hold
		"cardgate version":    "cardgate ",
		"cardgate users list": "Alice",
		"cardgate conversations members list \"$CONVERSATION\"":                        "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10  Alice  admin",
		"curl -fsS http://127.0.0.1:8080/v1/users/me -H \"accessToken: $TOKEN\"":       `"name":"Alice"`,
		"curl -fsS http://127.0.0.1:8081/products -H \"Authorization: Bearer $TOKEN\"": "P-100",
		"cardgate users list --data /var/lib/cardgate-restored":                        "Alice",
	}
	for _, l := range lines {
		out := r.run(l)
		if w, ok := want[l.text]; ok && !strings.Contains(out, w) {
			t.Errorf("%s:%d: %s printed %q, want it to contain %q", guidePath, l.no, l.text, out, w)
		}
		delete(want, l.text)
	}
	for cmd := range want {
		t.Errorf("the guide no longer has %q, whose output this test checks", cmd)
	}
	if fi, err := os.Stat(filepath.Join(r.root, "backup", "cardgate.dump")); err != nil || fi.Size() == 0 {
		t.Errorf("the guide's pg_dump wrote no dump: %v", err)
	}
	if r.ran != len(lines) {
		t.Errorf("ran %d of the guide's %d commands", r.ran, len(lines))
	}
	r.stop()
}

// TestOperatingGuideRestore follows the guide from the first start to a
// minted token, takes the guide's backup of the running installation,
// stops it, restores the backup into a new directory, and starts the
// issuer there: the user and the token minted before the backup still
// work, since the master key travels with the backup.
func TestOperatingGuideRestore(t *testing.T) {
	needBinary(t)
	lines, _ := readGuide(t)
	r := newGuideRun(t)
	var issuer guideLine
	for _, l := range lines {
		switch l.section {
		case "First start", "Users", "Packages", "Hosts and tokens", "Backup and restore":
			r.run(l)
			if strings.HasPrefix(l.text, "cardgate issuer ") {
				issuer = l
			}
		}
	}
	if issuer.text == "" || r.env["TOKEN"] == "" {
		t.Fatal("the guide's first start did not start an issuer and mint a token")
	}
	// The restored directory and files are private, as the guide says.
	for name, want := range map[string]os.FileMode{"": 0o700, "cardgate.db": 0o600, "master.key": 0o600} {
		path := filepath.Join(r.root, "cardgate-restored", name)
		if fi, err := os.Stat(path); err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != want {
			t.Errorf("restored %s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	r.stop()
	// Make sure the old data directory plays no part.
	if err := os.RemoveAll(filepath.Join(r.root, "cardgate")); err != nil {
		t.Fatal(err)
	}
	restored := issuer
	restored.text += " --data /var/lib/cardgate-restored"
	first := r.run(restored)
	base := strings.TrimSpace(strings.TrimPrefix(first, "listening on "))
	req, _ := http.NewRequest("GET", base+"/v1/users/me", nil)
	req.Header.Set("accessToken", r.env["TOKEN"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"name":"Alice"`) {
		t.Fatalf("token minted before the backup, on the restored issuer: %d %s", res.StatusCode, body)
	}
	r.stop()
}

// TestOperatingGuideBuild checks the guide's release build, which the
// guide shows in a console block, with go build -n: the flags and the
// package path are right, without a second build of the binary.
func TestOperatingGuideBuild(t *testing.T) {
	needBinary(t)
	b, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^(CGO_ENABLED=0 go build) (.* -o )\\S+( \\S+)$").FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("%s: no release build line (CGO_ENABLED=0 go build … -o FILE PACKAGE)", guidePath)
	}
	line := m[1] + " -n " + m[2] + filepath.Join(t.TempDir(), "cardgate") + m[3]
	cmd := exec.Command("bash", "-c", line)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
}

// TestOperatingGuideRestorePostgres follows the guide's several nodes on
// PostgreSQL to its pg_dump, drops the schema, restores the dump with
// pg_restore as the guide says, and starts a node on it with the same
// master key: the user added before the backup is there.
func TestOperatingGuideRestorePostgres(t *testing.T) {
	needBinary(t)
	needTools(t, "psql", "pg_restore")
	lines, _ := readGuide(t)
	r := newGuideRun(t)
	var node guideLine
	for _, l := range lines {
		if strings.HasPrefix(l.section, "Several nodes") {
			r.run(l)
			if node.text == "" && strings.HasPrefix(l.text, "cardgate issuer ") {
				node = l
			}
		}
	}
	if node.text == "" || r.store == "" {
		t.Fatal("the guide's several nodes start no issuer on PostgreSQL")
	}
	r.stop()
	schema := strings.TrimPrefix(regexp.MustCompile(`search_path%3D\w+`).FindString(r.store), "search_path%3D")
	for _, script := range []string{
		`psql -q -v ON_ERROR_STOP=1 "$CARDGATE_STORE" -c 'DROP SCHEMA ` + schema + ` CASCADE'`,
		`pg_restore --exit-on-error --dbname="$CARDGATE_STORE" ` + filepath.Join(r.root, "backup", "cardgate.dump"),
	} {
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = r.environ()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	}
	if out := r.run(guideLine{"", 0, "cardgate users list"}); !strings.Contains(out, "Bob") {
		t.Errorf("users after the restore: %q", out)
	}
	r.run(node)
	r.stop()
}
