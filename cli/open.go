package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/postgres"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite"
)

// system is an opened store with the Integration Service over it.
type system struct {
	store  cardgate.Store
	svc    *issuer.Service
	master *seal.Key
}

func (s *system) Close() error { return s.store.Close() }

// open opens the configured store and master key and builds the Service.
// iss is the issuer URL tokens carry.
func open(ctx context.Context, cfg Config, env *Env, iss string, log *slog.Logger) (*system, error) {
	store, master, err := openStore(ctx, cfg, env)
	if err != nil {
		return nil, err
	}
	keys, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: iss, Lifetime: cfg.TokenLifetime})
	if err != nil {
		store.Close()
		return nil, err
	}
	svc, err := issuer.NewService(issuer.Config{Issuer: iss, Store: store, Keys: keys, Lifetime: cfg.TokenLifetime, CacheSize: cfg.TokenCacheSize, Logger: log})
	if err != nil {
		store.Close()
		return nil, err
	}
	return &system{store: store, svc: svc, master: master}, nil
}

// openStore opens the configured store and the master key, and nothing
// else: the adapter needs them without the Integration Service's keys.
func openStore(ctx context.Context, cfg Config, env *Env) (cardgate.Store, *seal.Key, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	master, err := masterKey(cfg, env)
	if err != nil {
		return nil, nil, err
	}
	var store cardgate.Store
	if cfg.Store != "" {
		store, err = postgres.Open(ctx, cfg.Store)
	} else {
		store, err = sqlite.Open(ctx, filepath.Join(cfg.Data, "cardgate.db"))
	}
	if err != nil {
		return nil, nil, err
	}
	return store, master, nil
}

// masterKey reads CARDGATE_MASTER_KEY, or else the key file in the data
// directory, creating it on first use. Several nodes sharing a PostgreSQL
// store must share the key, so they set the variable.
func masterKey(cfg Config, env *Env) (*seal.Key, error) {
	if text := env.Getenv("CARDGATE_MASTER_KEY"); text != "" {
		k, err := seal.ParseKey(text)
		if err != nil {
			return nil, fmt.Errorf("CARDGATE_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	return seal.LoadOrCreateFile(filepath.Join(cfg.Data, "master.key"))
}

// newLogger returns a JSON logger to w at the given level.
func newLogger(w interface{ Write([]byte) (int, error) }, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(strings.ToUpper(level))) // validated in Config.validate
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// quietLogger is for admin commands: warnings and errors only.
func quietLogger(env *Env) *slog.Logger { return newLogger(env.Stderr, "warn") }
