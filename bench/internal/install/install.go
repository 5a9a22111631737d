// Package install builds cardgate and sets up an installation with its
// CLI, as an operator would (docs/adapter.md), for the benchmark scripts
// bench/run and bench/memory (bench/pgo uses Build).
package install

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// User and package of the installation, and the path the route serves.
const (
	User    = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	Package = "com.contoso.orders"
	Path    = "/items/42"
)

// Env is cardgate's environment on top of the caller's: nothing from the
// caller's environment chooses another installation; only --data counts.
var Env = []string{"CARDGATE_MASTER_KEY=", "CARDGATE_STORE=", "CARDGATE_DATA=", "CARDGATE_CONFIG=", "CARDGATE_ISSUER_API_KEY="}

// Build builds ./cmd/cardgate into dir and returns the binary's path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "cardgate")
	return bin, GoBuild(ctx, bin, "cmd/cardgate", "run from inside the repository, or pass -cardgate")
}

// GoBuild builds the repository's package pkg (a path such as
// "cmd/cardgate") into bin with the build tags given; hint, in the error,
// says what to do when it fails.
func GoBuild(ctx context.Context, bin, pkg, hint string, tags ...string) error {
	args, what := []string{"build", "-o", bin}, "./"+pkg
	if len(tags) > 0 {
		t := strings.Join(tags, ",")
		args, what = append(args, "-tags", t), "-tags "+t+" "+what
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "github.com/cardgate/cardgate/"+pkg)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s (%s): %v\n%s", what, hint, err, out)
	}
	return nil
}

// CLI runs one cardgate command on the installation in data and returns
// its standard output.
func CLI(ctx context.Context, bin, data, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, append(args, "--data", data)...)
	cmd.Env = append(os.Environ(), Env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cardgate %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Keys are the API keys Setup created.
type Keys struct {
	Host           string // the card host's, which mints
	ResourceServer string // the adapter's, for local mode
}

// Setup creates an installation in data: a user, a package, a host that
// mints, a resource-server client for local mode, and the upstream's API
// key as a sealed secret (upstream-key).
func Setup(ctx context.Context, bin, data string) (Keys, error) {
	cli := func(stdin string, args ...string) (string, error) { return CLI(ctx, bin, data, stdin, args...) }
	var key, rsKey struct{ APIKey string }
	steps := []func() error{
		func() error {
			_, err := cli("", "init") // the issuer records its own URL on its first start
			return err
		},
		func() error {
			_, err := cli("", "users", "add", "--id", User, "--name", "Bench", "--phone", "+14155550101")
			return err
		},
		func() error {
			_, err := cli("", "packages", "add", "--id", Package, "--name", "Order products")
			return err
		},
		func() error {
			out, err := cli("", "hosts", "add", "bench-host", "--json")
			if err == nil {
				err = json.Unmarshal([]byte(out), &key)
			}
			return err
		},
		func() error {
			out, err := cli("", "clients", "add", "bench-adapter", "--role", "resource-server", "--json")
			if err == nil {
				err = json.Unmarshal([]byte(out), &rsKey)
			}
			return err
		},
		func() error {
			_, err := cli("upstream-api-key-for-the-benchmark\n", "secrets", "set", "upstream-key")
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return Keys{}, err
		}
	}
	return Keys{Host: key.APIKey, ResourceServer: rsKey.APIKey}, nil
}

// AdapterConfig is the adapter's configuration: a route for GET and one
// for POST on the same path (a card reads a record and posts a form), a
// credential injected from the store, every other setting at its default.
// Its arguments are the issuer's URL, the mode, the package and the
// upstream's URL.
const AdapterConfig = `issuer: {url: %[1]s, mode: %[2]s}
routes:
  - name: items
    match: GET /items/{id}
    policy: {packages: [%[3]s]}
    upstream: {url: %[4]s}
    credential: {type: header, header: X-Api-Key, value: store:upstream-key}
  - name: items-post
    match: POST /items/{id}
    policy: {packages: [%[3]s]}
    upstream: {url: %[4]s}
    credential: {type: header, header: X-Api-Key, value: store:upstream-key}
`

// AddUsers adds n users besides User, with the CLI, and returns all n+1
// ids, User's first. Each is a process of its own: a thousand take about
// a minute.
func AddUsers(ctx context.Context, bin, data string, n int) ([]string, error) {
	if n > 9999 {
		return nil, fmt.Errorf("install: at most 9999 more users, not %d", n)
	}
	ids := []string{User}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if _, err := CLI(ctx, bin, data, "", "users", "add", "--id", id, "--name", fmt.Sprintf("Bench %d", i),
			"--phone", fmt.Sprintf("+1415556%04d", i)); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Mint asks the issuer for a token for user (User, or one of AddUsers')
// and Package, as a card host does.
func Mint(ctx context.Context, client *http.Client, issuerURL, apiKey, user string) (string, error) {
	body := `{"userId":"` + user + `","actionPackageId":"` + Package + `"}`
	req, _ := http.NewRequestWithContext(ctx, "POST", issuerURL+"/v1/tokens", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("mint: %w", err)
	}
	defer res.Body.Close()
	var minted struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&minted); err != nil || res.StatusCode/100 != 2 || minted.Token == "" {
		return "", fmt.Errorf("mint: status %d, %v", res.StatusCode, err)
	}
	return minted.Token, nil
}
