package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/cli"
	"github.com/cardgate/cardgate/internal/syncbuf"
	"github.com/cardgate/cardgate/sqlite"
)

// The version comes from the build information Go embeds. A test binary,
// like `go run`, has no module version and no commit: "(devel)". Only
// when built with -buildvcs=true (go test's default, auto, does not stamp
// test binaries) does it carry the commit, and then the module's version.
func TestVersion(t *testing.T) {
	var commit string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out := mustRun(t, nil, args...)
		want := "cardgate (devel) go1."
		if commit != "" {
			want = " commit " + commit + " "
		}
		if !strings.Contains(out, want) || !strings.HasPrefix(out, "cardgate ") || !strings.Contains(out, " go1.") {
			t.Errorf("cardgate %s = %q, want it to hold %q", args[0], out, want)
		}
	}
	var v struct{ Version, Commit, Go string }
	if err := json.Unmarshal([]byte(mustRun(t, nil, "version", "--json")), &v); err != nil || v.Commit != commit ||
		(commit == "") != (v.Version == "(devel)") || !strings.HasPrefix(v.Go, "go1.") {
		t.Errorf("version --json = %+v (%v), want commit %q", v, err, commit)
	}
}

// Every admin command prints JSON with --json, lists as arrays.
func TestJSONEverywhere(t *testing.T) {
	env := newInstall(t, "--issuer-url", "https://id.example")
	var tok struct{ JTI string }
	for _, tt := range []struct {
		args  []string
		stdin string
		array bool
	}{
		{[]string{"users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101"}, "", false},
		{[]string{"users", "list"}, "", true},
		{[]string{"users", "disable", alice}, "", false},
		{[]string{"users", "enable", alice}, "", false},
		{[]string{"conversations", "list"}, "", true},
		{[]string{"conversations", "add", "--id", "3d0c5e2a-8f6b-4a1d-9c7e-5b2a4f6d8e10", "--title", "Team"}, "", false},
		{[]string{"conversations", "members", "add", "3d0c5e2a-8f6b-4a1d-9c7e-5b2a4f6d8e10", alice}, "", false},
		{[]string{"conversations", "members", "list", "3d0c5e2a-8f6b-4a1d-9c7e-5b2a4f6d8e10"}, "", true},
		{[]string{"conversations", "members", "remove", "3d0c5e2a-8f6b-4a1d-9c7e-5b2a4f6d8e10", alice}, "", false},
		{[]string{"packages", "add", "--id", "com.contoso.orders", "--name", "Orders"}, "", false},
		{[]string{"packages", "import", "../actionpkg/testdata/orders"}, "", false},
		{[]string{"packages", "list"}, "", true},
		{[]string{"packages", "disable", "com.contoso.orders"}, "", false},
		{[]string{"packages", "enable", "com.contoso.orders"}, "", false},
		{[]string{"hosts", "add", "web"}, "", false},
		{[]string{"hosts", "list"}, "", true},
		{[]string{"clients", "add", "ops", "--role", "admin"}, "", false},
		{[]string{"clients", "list"}, "", true},
		{[]string{"token", "--user", alice, "--package", "com.contoso.orders"}, "", false},
		{[]string{"revoke", "--user", alice}, "", false},
		{[]string{"keys", "rotate"}, "", false},
		{[]string{"keys", "list"}, "", true},
		{[]string{"secrets", "set", "erp"}, "v", false},
		{[]string{"secrets", "list"}, "", true},
		{[]string{"audit", "query"}, "", true},
		{[]string{"version"}, "", false},
	} {
		out, errOut, err := runIn(t, env, tt.stdin, append(tt.args, "--json")...)
		if err != nil {
			t.Fatalf("%s: %v %s", tt.args, err, errOut)
		}
		if !json.Valid([]byte(out)) || (tt.array != strings.HasPrefix(out, "[")) || (!tt.array && !strings.HasPrefix(out, "{")) {
			t.Errorf("cardgate %s --json printed %q; want a JSON %s", strings.Join(tt.args, " "), out, map[bool]string{true: "array", false: "object"}[tt.array])
		}
		if tt.args[0] == "token" {
			json.Unmarshal([]byte(out), &tok)
		}
	}
	mustRun(t, env, "revoke", "--jti", tok.JTI)
	var list []map[string]any
	json.Unmarshal([]byte(mustRun(t, env, "hosts", "list", "--json")), &list)
	out := mustRun(t, env, "hosts", "remove", list[0]["id"].(string), "--json")
	if !json.Valid([]byte(out)) {
		t.Errorf("hosts remove --json = %q", out)
	}
}

// With --json an error is {"error":{"code","message"}}; without, one line.
func TestReportError(t *testing.T) {
	env := newInstall(t, "--issuer-url", "https://id.example")
	for _, tt := range []struct {
		args       []string
		code, want string
	}{
		{[]string{"users", "add", "--name", "A", "--phone", "12", "--json"}, cardgate.EINVALID, "--phone: must be a real phone number in international form"},
		{[]string{"users", "list", "--bogus", "--json"}, "Usage", "unknown flag -bogus"},
		{[]string{"token", "--json", "--user", alice, "--package", "com.a.b"}, cardgate.ENOTFOUND, "--user: no such user"},
	} {
		_, _, err := run(t, env, tt.args...)
		var buf bytes.Buffer
		cli.Report(&buf, append([]string{"cardgate"}, tt.args...), err)
		var body struct {
			Error struct{ Code, Message string }
		}
		if jerr := json.Unmarshal(buf.Bytes(), &body); jerr != nil || body.Error.Code != tt.code || body.Error.Message == "" ||
			!strings.Contains(body.Error.Message, tt.want) || strings.HasPrefix(body.Error.Message, "cardgate:") {
			t.Errorf("%s: reported %q, want code %s and %q", tt.args, buf.String(), tt.code, tt.want)
		}
		buf.Reset()
		cli.Report(&buf, []string{"cardgate", "users", "list"}, err)
		if !strings.HasPrefix(buf.String(), "cardgate: ") || strings.Count(buf.String(), "\n") != 1 || strings.Contains(buf.String(), "cardgate: cardgate:") {
			t.Errorf("text report = %q", buf.String())
		}
	}
	if cli.ExitCode(nil) != 0 || cli.ExitCode(errors.New("x")) != 1 {
		t.Error("exit codes")
	}

	// An adapter configuration with several problems: a line saying how
	// many, then one a line; with --json one message holding those lines,
	// code InvalidRequest, as for a bad setting.
	bad := filepath.Join(t.TempDir(), "adapter.yaml")
	os.WriteFile(bad, []byte("listen: nope\nissuer:\n  url: ftp://x\nroutes: []\n"), 0o600)
	_, _, err := run(t, env, "adapter", "--config", bad, "--check", "--json")
	var buf bytes.Buffer
	cli.Report(&buf, []string{"cardgate", "adapter", "--check"}, err)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) < 3 || !regexp.MustCompile(`^cardgate: adapter: \d+ configuration errors:$`).MatchString(lines[0]) ||
		!strings.HasPrefix(lines[1], "\t"+bad+":1: listen: ") {
		t.Errorf("adapter configuration errors reported as %q", buf.String())
	}
	buf.Reset()
	cli.Report(&buf, []string{"cardgate", "adapter", "--check", "--json"}, err)
	var body struct {
		Error struct{ Code, Message string }
	}
	if jerr := json.Unmarshal(buf.Bytes(), &body); jerr != nil || body.Error.Code != "InvalidRequest" ||
		strings.Count(body.Error.Message, "\n") != len(lines)-1 {
		t.Errorf("adapter configuration errors, --json: %q", buf.String())
	}
	_, _, err = run(t, env, "users", "list", "--store", "mysql://x")
	buf.Reset()
	cli.Report(&buf, []string{"cardgate", "users", "list", "--json"}, err)
	if !strings.HasPrefix(buf.String(), `{"error":{"code":"InvalidRequest","message":"--store, CARDGATE_STORE or config store: `) {
		t.Errorf("a bad setting, --json: %q", buf.String())
	}
}

// A jti that this installation never minted is refused, not recorded, and
// not echoed (a whole token pasted for it is a credential); one it minted
// is revoked.
func TestRevokeUnknownJTI(t *testing.T) {
	env := newInstall(t, "--issuer-url", "https://id.example")
	for _, jti := range []string{"x", "not-a-token-id", "3q2-7wQz1xYc0Yl0b9Vb7A==", "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJ4In0.c2ln"} {
		_, _, err := run(t, env, "revoke", "--jti", jti)
		if err == nil || !strings.Contains(err.Error(), "--jti: is no id of a token") || cardgate.ErrorCode(err) != cardgate.EINVALID ||
			(len(jti) > 3 && strings.Contains(err.Error(), jti)) {
			t.Errorf("revoke --jti %q: %v", jti, err)
		}
	}
	// Well-formed, but no token of this installation's: tokens are not
	// stored, their ids carry a tag only the installation can make.
	_, _, err := run(t, env, "revoke", "--jti", "3q2-7wQz1xYc0Yl0b9Vb7A")
	if err == nil || !strings.Contains(err.Error(), "--jti: no token of this installation has this id") || cardgate.ErrorCode(err) != cardgate.ENOTFOUND {
		t.Errorf("revoke --jti of an id never minted: %v", err)
	}
	mustRun(t, env, "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	mustRun(t, env, "packages", "add", "--id", "com.contoso.orders", "--name", "Orders")
	var tok struct{ JTI string }
	json.Unmarshal([]byte(mustRun(t, env, "token", "--user", alice, "--package", "com.contoso.orders", "--json")), &tok)
	// Kept as long as any issuer's token may live, 24 h, plus an hour: the
	// CLI does not know the running issuer's --token-lifetime.
	var rev struct{ ExpiresAt time.Time }
	json.Unmarshal([]byte(mustRun(t, env, "revoke", "--jti", tok.JTI, "--json")), &rev)
	if d := time.Until(rev.ExpiresAt); d < 24*time.Hour+59*time.Minute || d > 25*time.Hour {
		t.Errorf("the revocation expires in %v, want 25h", d)
	}
}

// audit tail starts at the end of the log, unless --since says where.
func TestAuditTailStartsNow(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CARDGATE_DATA": dir}
	mustRun(t, env, "init")
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "cardgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now().UTC()
	store.AppendAudit(context.Background(), []*cardgate.AuditRecord{
		{Time: now.Add(-2 * time.Hour), Route: "old", Method: "GET", Status: 200},
		{Time: now.Add(-time.Minute), Route: "recent", Method: "GET", Status: 200},
	})
	tail := func(args ...string) (*syncbuf.Buffer, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		out := new(syncbuf.Buffer)
		done := make(chan error, 1)
		go func() {
			done <- cli.Run(ctx, append([]string{"cardgate", "audit", "tail"}, args...), func(k string) string { return env[k] },
				strings.NewReader(""), out, new(syncbuf.Buffer))
		}()
		return out, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("audit tail %v: %v", args, err)
			}
		}
	}
	waitFor := func(out *syncbuf.Buffer, s string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), s); {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in:\n%s", s, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	out, stop := tail()
	waitFor(out, "TIME ") // the header: it has read where the log ends
	store.AppendAudit(context.Background(), []*cardgate.AuditRecord{{Time: time.Now().UTC(), Route: "fresh", Method: "POST", Status: 201}})
	waitFor(out, "fresh")
	stop()
	if s := out.String(); strings.Contains(s, "old") || strings.Contains(s, "recent") {
		t.Errorf("audit tail printed records from before it started:\n%s", s)
	}
	out, stop = tail("--since", "10m", "--json")
	waitFor(out, "fresh")
	stop()
	if s := out.String(); !strings.Contains(s, `"route":"recent"`) || strings.Contains(s, `"route":"old"`) || strings.Count(s, "\n") != 2 {
		t.Errorf("audit tail --since 10m --json:\n%s", s)
	}
}

// Every listener a server needs is tried before it starts, and every
// conflict is reported at once with the flag that moves it.
func TestPortConflicts(t *testing.T) {
	busy := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln.Addr().String()
	}
	a, b, c, d := busy(), busy(), busy(), busy()
	env := newInstall(t, "--issuer-url", "https://id.example")
	adapterYAML := filepath.Join(t.TempDir(), "adapter.yaml")
	os.WriteFile(adapterYAML, []byte(`issuer: {url: "http://127.0.0.1:1"}
routes:
  - {name: in, match: /in, policy: {packages: [com.contoso.orders]}, upstream: {url: "http://127.0.0.1:1"}}
`), 0o600)
	for _, tt := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"issuer", "--listen", a, "--cards-listen", b}, []string{"--listen " + a, "--cards-listen " + b}},
		{[]string{"issuer", "--listen", "127.0.0.1:0", "--cards-listen", b}, []string{"--cards-listen " + b}},
		{[]string{"demo", "--data", t.TempDir(), "--listen", a, "--adapter-listen", b, "--cards-listen", c, "--contoso-listen", d},
			[]string{"--listen " + a, "--adapter-listen " + b, "--cards-listen " + c, "--contoso-listen " + d}},
		{[]string{"adapter", "--config", adapterYAML, "--listen", a, "--ops-listen", b},
			[]string{"--listen " + a, "--ops-listen " + b}},
	} {
		_, _, err := run(t, env, tt.args...)
		if err == nil {
			t.Fatalf("%s started on busy ports", tt.args)
		}
		for _, f := range tt.flags {
			flag := strings.Fields(f)[0]
			if !strings.Contains(err.Error(), f+": ") || !strings.Contains(err.Error(), "pass "+flag+" host:port") {
				t.Errorf("%s: %v\nwant it to name %s and how to move it", tt.args[0], err, f)
			}
		}
		if strings.Contains(err.Error(), "listen tcp") {
			t.Errorf("%s: the address is repeated: %v", tt.args[0], err)
		}
	}
}
