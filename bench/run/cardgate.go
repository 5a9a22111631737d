package main

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
	"time"
)

type server struct {
	url string
	pid int
}

// startCardgate sets up an installation in the session's directory with
// the CLI, as an operator would (docs/adapter.md): a user, a package, a
// host that mints, a resource-server client for local mode, and the
// upstream's API key as a sealed secret. It starts `cardgate issuer`, mints
// one token, and starts `cardgate adapter` in remote mode and, when asked,
// in local mode, each with the default settings: audit to the store, log
// at info.
func (s *session) startCardgate(ctx context.Context, upURL string, withLocal bool) (remote, local *server, issuerPid int, err error) {
	s.bin = s.opts.Cardgate
	if s.bin == "" {
		s.bin = filepath.Join(s.dir, "cardgate")
		fmt.Fprintln(s.log, "building cardgate")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "github.com/cardgate/cardgate/cmd/cardgate")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, nil, 0, fmt.Errorf("go build ./cmd/cardgate (run from inside the repository, or pass -cardgate): %v\n%s", err, out)
		}
	}
	data := filepath.Join(s.dir, "data")
	// Nothing from the caller's environment chooses another installation.
	s.env = []string{"CARDGATE_MASTER_KEY=", "CARDGATE_STORE=", "CARDGATE_DATA=", "CARDGATE_CONFIG=", "CARDGATE_ISSUER_API_KEY="}
	cli := func(stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, s.bin, append(args, "--data", data)...)
		cmd.Env = append(os.Environ(), s.env...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("cardgate %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return string(out), nil
	}
	var key struct{ APIKey string }
	var rsKey struct{ APIKey string }
	steps := []func() error{
		func() error {
			_, err := cli("", "init") // the issuer records its own URL on its first start
			return err
		},
		func() error {
			_, err := cli("", "users", "add", "--id", benchUser, "--name", "Bench", "--phone", "+14155550101")
			return err
		},
		func() error {
			_, err := cli("", "packages", "add", "--id", benchPackage, "--name", "Order products")
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
			return nil, nil, 0, err
		}
	}

	// The token must outlive the run; the adapter's defaults are untouched.
	o := s.opts
	run := time.Duration(o.Rounds*len(o.Concurrency)*len(allTargets)) * (o.Warmup + o.Duration + 2*time.Second)
	lifetime := max(30*time.Minute, 2*run)
	issuerURL, issuerPid, err := s.startLine(ctx, "issuer", s.env, s.bin, "issuer", "--data", data,
		"--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--token-lifetime", lifetime.String())
	if err != nil {
		return nil, nil, 0, err
	}
	if s.token, err = mint(ctx, issuerURL, key.APIKey); err != nil {
		return nil, nil, 0, err
	}

	start := func(name, mode string, env ...string) (*server, error) {
		cfg := filepath.Join(s.dir, name+".yaml")
		text := fmt.Sprintf(adapterConfig, issuerURL, mode, benchPackage, upURL)
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			return nil, err
		}
		if _, err := cli("", "adapter", "--config", cfg, "--check"); err != nil {
			return nil, err
		}
		line, pid, err := s.startLine(ctx, name, append(s.env, env...), s.bin, "adapter", "--data", data,
			"--config", cfg, "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		return &server{url: line, pid: pid}, nil
	}
	if remote, err = start("adapter-remote", "remote"); err != nil {
		return nil, nil, 0, err
	}
	if withLocal {
		if local, err = start("adapter-local", "local", "CARDGATE_ISSUER_API_KEY="+rsKey.APIKey); err != nil {
			return nil, nil, 0, err
		}
	}
	return remote, local, issuerPid, nil
}

// adapterConfig is the adapter's configuration: one route, a credential
// injected from the store, every other setting at its default.
const adapterConfig = `issuer: {url: %s, mode: %s}
routes:
  - name: items
    match: GET /items/{id}
    policy: {packages: [%s]}
    upstream: {url: %s}
    credential: {type: header, header: X-Api-Key, value: store:upstream-key}
`

// mint asks the issuer for a token as a card host does.
func mint(ctx context.Context, issuerURL, apiKey string) (string, error) {
	body := `{"userId":"` + benchUser + `","actionPackageId":"` + benchPackage + `"}`
	req, _ := http.NewRequestWithContext(ctx, "POST", issuerURL+"/v1/tokens", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}).Do(req)
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
