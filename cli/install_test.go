package cli_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/postgres/pgtest"
	"github.com/cardgate/cardgate/seal"
)

// TestCLITokenPassesTheIssuerOnAnyListen: with the issuer on a listener
// other than the default, `cardgate token` makes tokens /v1/users/me
// accepts, because the issuer recorded its URL in the store and the CLI
// mints with it. (Before, the CLI signed with http://127.0.0.1:8080.)
func TestCLITokenPassesTheIssuerOnAnyListen(t *testing.T) {
	env := newInstall(t)
	mustRun(t, env, "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	mustRun(t, env, "packages", "add", "--id", "com.contoso.orders", "--name", "Orders")
	// Before any issuer ran, the CLI does not guess a URL...
	if _, _, err := run(t, env, "token", "--user", alice, "--package", "com.contoso.orders"); err == nil ||
		!strings.Contains(err.Error(), "no issuer URL yet") {
		t.Errorf("token before the issuer's first start: %v", err)
	}
	// ...but an explicit one is the operator's word: this token carries a
	// URL the issuer will not have.
	stray := strings.TrimSpace(mustRun(t, env, "token", "--user", alice, "--package", "com.contoso.orders", "--issuer-url", "http://stray.example"))

	srv := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--log-level", "debug")
	tok := strings.TrimSpace(mustRun(t, env, "token", "--user", alice, "--package", "com.contoso.orders"))
	if c := claims(t, tok); c["iss"] != srv.base {
		t.Errorf("iss = %v, want the issuer's %s", c["iss"], srv.base)
	}
	if status, body := call(t, "GET", srv.base+"/v1/users/me", map[string]string{"accessToken": tok}, ""); status != 200 {
		t.Errorf("/v1/users/me with the CLI's token: %d %s", status, body)
	}
	// A token with another iss is refused, and the debug log says which
	// claim failed and what was expected, never the token.
	if status, _ := call(t, "GET", srv.base+"/v1/users/me", map[string]string{"accessToken": stray}, ""); status != 401 {
		t.Errorf("/v1/users/me with a stray iss: %d, want 401", status)
	}
	log := srv.stderr.String()
	if !strings.Contains(log, `iss is \"http://stray.example\", want \"`+srv.base+`\"`) {
		t.Errorf("the debug log does not name the iss it got and the one it wants:\n%s", log)
	}
	if strings.Contains(log, stray) || strings.Contains(log, strings.Split(stray, ".")[2]) {
		t.Error("the log holds the token")
	}
	// Once recorded, a different explicit URL is refused, naming both.
	if _, _, err := run(t, env, "token", "--user", alice, "--package", "com.contoso.orders", "--issuer-url", "http://stray.example"); err == nil ||
		!strings.Contains(err.Error(), srv.base) || !strings.Contains(err.Error(), "http://stray.example") {
		t.Errorf("token with another --issuer-url: %v", err)
	}
}

// TestChangingTheIssuerURLIsExplicit: an issuer started again on another
// address, or with another --issuer-url, is refused with both URLs and the
// two ways forward; --change-issuer-url makes the change, logged, and the
// CLI follows it.
func TestChangingTheIssuerURLIsExplicit(t *testing.T) {
	env := newInstall(t, "--issuer-url", "http://127.0.0.1:9180")
	if out := mustRun(t, env, "init"); !strings.Contains(out, "nothing was created") || !strings.Contains(out, "Issuer URL: http://127.0.0.1:9180") {
		t.Errorf("init over an installation said %q", out)
	}
	_, _, err := run(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "http://127.0.0.1:9180") || !strings.Contains(err.Error(), "--change-issuer-url") {
		t.Fatalf("issuer on another address: %v", err)
	}
	if _, _, err := run(t, env, "init", "--issuer-url", "https://id.example"); err == nil || !strings.Contains(err.Error(), "--change-issuer-url") {
		t.Errorf("init with another --issuer-url: %v", err)
	}
	// The recorded URL on another listener: a proxy in front keeps it.
	kept := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--issuer-url", "http://127.0.0.1:9180")
	kept.stop()
	srv := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--change-issuer-url")
	if log := srv.stderr.String(); !strings.Contains(log, "changed the installation's issuer URL") ||
		!strings.Contains(log, `"from":"http://127.0.0.1:9180"`) || !strings.Contains(log, `"to":"`+srv.base+`"`) {
		t.Errorf("the change is not logged:\n%s", log)
	}
	mustRun(t, env, "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	mustRun(t, env, "packages", "add", "--id", "com.contoso.orders", "--name", "Orders")
	tok := strings.TrimSpace(mustRun(t, env, "token", "--user", alice, "--package", "com.contoso.orders"))
	if status, body := call(t, "GET", srv.base+"/v1/users/me", map[string]string{"accessToken": tok}, ""); status != 200 {
		t.Errorf("/v1/users/me after the change: %d %s", status, body)
	}
}

// TestCommandsCreateNoInstallation: run from a folder with no installation
// (a typo in --data, the wrong working directory), every command but
// issuer, demo and init fails, naming the directory it looked in, and
// creates nothing: no data directory, no master key, no database.
func TestCommandsCreateNoInstallation(t *testing.T) {
	elsewhere := t.TempDir()
	t.Chdir(elsewhere)
	adapterYAML := filepath.Join(t.TempDir(), "adapter.yaml")
	route := `issuer: {url: http://127.0.0.1:8080}
routes:
  - name: erp
    match: GET /erp
    policy: {packages: [com.contoso.orders]}
    upstream: {url: http://127.0.0.1:9}
`
	os.WriteFile(adapterYAML, []byte(route+"    credential: {type: header, header: X-Api-Key, value: store:erp-key}\n"), 0o600)
	for _, args := range [][]string{
		{"users", "list"}, {"packages", "list"}, {"hosts", "list"}, {"clients", "list"}, {"keys", "list"},
		{"secrets", "list"}, {"audit", "query"}, {"users", "add", "--name", "A", "--phone", "+14155550101"},
		{"token", "--user", alice, "--package", "com.contoso.orders"}, {"keys", "rotate"},
		{"adapter", "--config", adapterYAML, "--check"}, {"adapter", "--config", adapterYAML},
		{"users", "list", "--data", "./cardgate-dta"}, // a typo
	} {
		_, _, err := run(t, nil, args...)
		if err == nil || !strings.Contains(err.Error(), "no cardgate installation in ") || !strings.Contains(err.Error(), "cardgate init") {
			t.Errorf("%s: %v, want it to say there is no installation and how to make one", strings.Join(args, " "), err)
		}
		if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
			t.Fatalf("%s created %v", strings.Join(args, " "), entries)
		}
	}
	// A check that needs no store needs no installation.
	os.WriteFile(adapterYAML, []byte(route), 0o600)
	if out, _, err := run(t, nil, "adapter", "--config", adapterYAML, "--check"); err != nil || !strings.Contains(out, ": ok") {
		t.Errorf("adapter --check without store secrets: %q %v", out, err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Fatalf("adapter --check created %v", entries)
	}
	// init creates one, and says what it made and what to do with the key.
	out := mustRun(t, nil, "init")
	for _, want := range []string{"data directory " + filepath.Join(elsewhere, "cardgate-data"), "database " + filepath.Join(elsewhere, "cardgate-data", "cardgate.db"),
		"master key " + filepath.Join(elsewhere, "cardgate-data", "master.key"),
		"Back up the master key", "Every node that shares this store must use the same master key"} {
		if !strings.Contains(out, want) {
			t.Errorf("init said %q; want it to mention %q", out, want)
		}
	}
	mustRun(t, nil, "users", "list")
}

// TestWrongOrMissingMasterKey: a key that is not the installation's is
// refused when the store opens, naming the file or variable it came from;
// a PostgreSQL store used from another folder without its key gets no
// fresh master.key, from any command.
func TestWrongOrMissingMasterKey(t *testing.T) {
	env := newInstall(t)
	keyFile := filepath.Join(env["CARDGATE_DATA"], "master.key")
	os.WriteFile(keyFile, []byte(seal.GenerateText()+"\n"), 0o600)
	if _, _, err := run(t, env, "users", "list"); err == nil || !strings.Contains(err.Error(), "wrong master key: the key file "+keyFile) {
		t.Errorf("another key file: %v", err)
	}
	env["CARDGATE_MASTER_KEY"] = seal.GenerateText()
	if _, _, err := run(t, env, "users", "list"); err == nil || !strings.Contains(err.Error(), "wrong master key: CARDGATE_MASTER_KEY") {
		t.Errorf("another CARDGATE_MASTER_KEY: %v", err)
	}
	os.Remove(keyFile)
	delete(env, "CARDGATE_MASTER_KEY")
	for _, args := range [][]string{{"users", "list"}, {"issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0"}} {
		if _, _, err := run(t, env, args...); err == nil || !strings.Contains(err.Error(), keyFile+" does not exist") {
			t.Errorf("%s with the key file gone: %v", args[0], err)
		}
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Error("a new master.key was made over an installation's database")
	}

	// The commands docs/architecture.md gives make keys the variable takes.
	for _, gen := range []string{"head -c 32 /dev/urandom | base64", "openssl rand -base64 32"} {
		if _, err := exec.LookPath(strings.Fields(gen)[0]); err != nil {
			t.Logf("%s: not installed", gen)
			continue
		}
		key, err := exec.Command("sh", "-c", gen).Output()
		if err != nil {
			t.Fatalf("%s: %v", gen, err)
		}
		fresh := map[string]string{"CARDGATE_DATA": t.TempDir(), "CARDGATE_MASTER_KEY": strings.TrimSpace(string(key))}
		if out := mustRun(t, fresh, "init"); !strings.Contains(out, "The master key is CARDGATE_MASTER_KEY") {
			t.Errorf("init with a key from %s said %q", gen, out)
		}
		if _, err := os.Stat(filepath.Join(fresh["CARDGATE_DATA"], "master.key")); err == nil {
			t.Errorf("init wrote master.key although CARDGATE_MASTER_KEY is set")
		}
		mustRun(t, fresh, "users", "list")
	}

	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		home := map[string]string{"CARDGATE_DATA": t.TempDir(), "CARDGATE_STORE": url}
		mustRun(t, home, "init")
		key, _ := os.ReadFile(filepath.Join(home["CARDGATE_DATA"], "master.key"))
		// From another folder, without the key.
		elsewhere := t.TempDir()
		t.Chdir(elsewhere)
		for _, args := range [][]string{{"users", "list"}, {"init"}, {"issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0"}} {
			_, _, err := run(t, map[string]string{"CARDGATE_STORE": url}, args...)
			if err == nil || !strings.Contains(err.Error(), "CARDGATE_MASTER_KEY is not set and cardgate-data/master.key does not exist") ||
				strings.Contains(err.Error(), "postgres@") && strings.Contains(err.Error(), ":postgres@") {
				t.Errorf("%s: %v", args[0], err)
			}
			if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
				t.Fatalf("%s created %v", args[0], entries)
			}
		}
		// A database with no installation in it is not written to.
		empty := pgtest.URL(t)
		if _, _, err := run(t, map[string]string{"CARDGATE_STORE": empty, "CARDGATE_MASTER_KEY": seal.GenerateText()},
			"users", "add", "--name", "A", "--phone", "+14155550101"); err == nil || !strings.Contains(err.Error(), "no cardgate installation in the store") {
			t.Errorf("users add into an empty database: %v", err)
		}
		// With the key in the variable, it works from anywhere.
		mustRun(t, map[string]string{"CARDGATE_STORE": url, "CARDGATE_MASTER_KEY": strings.TrimSpace(string(key))}, "users", "list")
		if _, _, err := run(t, map[string]string{"CARDGATE_STORE": url, "CARDGATE_MASTER_KEY": seal.GenerateText()}, "users", "list"); err == nil ||
			!strings.Contains(err.Error(), "wrong master key: CARDGATE_MASTER_KEY") {
			t.Errorf("a wrong CARDGATE_MASTER_KEY: %v", err)
		}
		if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
			t.Fatalf("created %v", entries)
		}
	})
}

// TestInstallationFilesArePrivate: every file the installation writes is
// readable by its owner alone, whatever the umask: the data directory
// 0700; the master key, the SQLite database and its -wal and -shm files
// 0600; and the demo's adapter.yaml and keys.
func TestInstallationFilesArePrivate(t *testing.T) {
	private := func(t *testing.T, path string, want fs.FileMode) {
		t.Helper()
		st, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
		} else if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), st.Mode().Perm(), want)
		}
	}
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"CARDGATE_DATA": dir}
	srv := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0")
	if out := srv.stdout.String(); !strings.Contains(out, "Created a new cardgate installation") || !strings.Contains(out, "Back up the master key") {
		t.Errorf("the issuer's first start did not say what it created: %q", out)
	}
	private(t, dir, 0o700)
	for _, f := range []string{"master.key", "cardgate.db", "cardgate.db-wal", "cardgate.db-shm"} {
		private(t, filepath.Join(dir, f), 0o600)
	}
	srv.stop()

	// Files an older cardgate left readable by others are made private,
	// and the issuer says so.
	for _, f := range []string{"cardgate.db", "cardgate.db-wal", "cardgate.db-shm"} {
		os.Chmod(filepath.Join(dir, f), 0o644)
	}
	os.Chmod(dir, 0o755)
	srv = start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--issuer-url", srv.base)
	if out := srv.stdout.String(); !strings.Contains(out, "Made private, readable by others before: ") ||
		!strings.Contains(out, filepath.Join(dir, "cardgate.db")+" (-rw-r--r--, now -rw-------)") {
		t.Errorf("the issuer did not say it made the database private: %q", out)
	}
	private(t, dir, 0o700)
	for _, f := range []string{"master.key", "cardgate.db", "cardgate.db-wal", "cardgate.db-shm"} {
		private(t, filepath.Join(dir, f), 0o600)
	}
	srv.stop()

	demo := filepath.Join(t.TempDir(), "demo")
	d := start(t, nil, demoArgs(demo)...)
	private(t, demo, 0o700)
	for _, f := range []string{"master.key", "cardgate.db", "cardgate.db-wal", "cardgate.db-shm", "adapter.yaml", "demo-keys.json"} {
		private(t, filepath.Join(demo, f), 0o600)
	}
	d.stop()
}
