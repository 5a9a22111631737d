package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cardgate/cardgate/bench/internal/install"
)

type server struct {
	url string
	pid int
}

// startCardgate sets up an installation in the session's directory with
// the CLI, as an operator would (docs/adapter.md): a user, a package, a
// host that mints, a resource-server client for local mode, and the
// upstream's API key as a sealed secret (and, with -users, more users).
// It starts `cardgate issuer`, mints a token for each user, and starts
// `cardgate adapter` in remote mode and, when asked, in local mode, each
// with the default settings: audit to the store, log at info.
func (s *session) startCardgate(ctx context.Context, upURL string, withLocal bool) (remote, local *server, issuerPid int, err error) {
	s.bin = s.opts.Cardgate
	if s.bin == "" {
		fmt.Fprintln(s.log, "building cardgate")
		if s.bin, err = install.Build(ctx, s.dir); err != nil {
			return nil, nil, 0, err
		}
	}
	data := filepath.Join(s.dir, "data")
	s.env = slices.Clone(install.Env)
	cli := func(stdin string, args ...string) (string, error) {
		return install.CLI(ctx, s.bin, data, stdin, args...)
	}
	keys, err := install.Setup(ctx, s.bin, data)
	if err != nil {
		return nil, nil, 0, err
	}
	if s.opts.Users > 1 {
		fmt.Fprintf(s.log, "adding %d users\n", s.opts.Users-1)
	}
	users, err := install.AddUsers(ctx, s.bin, data, s.opts.Users-1)
	if err != nil {
		return nil, nil, 0, err
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
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	for _, u := range users {
		tok, err := install.Mint(ctx, client, issuerURL, keys.Host, u)
		if err != nil {
			return nil, nil, 0, err
		}
		s.tokens = append(s.tokens, tok)
	}
	// For the load generator, in a file: a thousand do not fit in its
	// environment, and a token does not belong on its command line.
	if err := os.WriteFile(s.tokensFile(), []byte(strings.Join(s.tokens, "\n")), 0o600); err != nil {
		return nil, nil, 0, err
	}

	start := func(name, mode string, env ...string) (*server, error) {
		cfg := filepath.Join(s.dir, name+".yaml")
		text := fmt.Sprintf(install.AdapterConfig, issuerURL, mode, benchPackage, upURL)
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			return nil, err
		}
		if _, err := cli("", "adapter", "--config", cfg, "--check"); err != nil {
			return nil, err
		}
		line, pid, err := s.startProxy(ctx, name, append(s.env, env...), s.bin, "adapter", "--data", data,
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
		if local, err = start("adapter-local", "local", "CARDGATE_ISSUER_API_KEY="+keys.ResourceServer); err != nil {
			return nil, nil, 0, err
		}
	}
	return remote, local, issuerPid, nil
}

// tokensFile holds the users' tokens, one a line.
func (s *session) tokensFile() string { return filepath.Join(s.dir, "tokens") }
