package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/adapter/secret"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/postgres"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite"
	"github.com/redis/go-redis/v9"
)

// system is an opened store with the Integration Service over it.
type system struct {
	store  cardgate.Store
	svc    *issuer.Service
	master *seal.Key
	// issuerRecorded says that svc's issuer URL is the installation's, read
	// from the store, rather than a default no issuer has ever served.
	issuerRecorded bool
	// issuerWasRecorded says that the store held an issuer URL when opened.
	issuerWasRecorded bool
	// issuerGiven says that the issuer URL was configured (flag, variable
	// or file), not a default.
	issuerGiven bool
	// created lists what opening made, for the command to say so.
	created []string
	// tightened lists files of an older installation that others could
	// read, made private on opening.
	tightened []string
}

func (s *system) Close() error { return s.store.Close() }

// openMode says what a command may do to an installation.
type openMode int

const (
	// useInstall opens an existing installation and creates nothing: a
	// mistyped --data must be an error, not a new, empty installation.
	// Every command but issuer, demo and init.
	useInstall openMode = iota
	// createInstall makes what is missing (data directory, master key,
	// database) and lists it in system.created. issuer, demo and init.
	createInstall
)

// openOptions says how a command opens the installation.
type openOptions struct {
	mode openMode
	// serving is set for the servers: they record the issuer URL on the
	// installation's first start and refuse one that differs from it.
	serving bool
	// listenAddr is the address the server listens on; with no issuer URL
	// configured, the URL is http://listenAddr.
	listenAddr string
	// changeIssuerURL makes a server's issuer URL the installation's when
	// it differs from the recorded one (--change-issuer-url; the demo).
	changeIssuerURL bool
}

// open opens the configured store and master key, settles the issuer URL
// and builds the Service.
func open(ctx context.Context, cfg Config, env *Env, o openOptions, log *slog.Logger) (*system, error) {
	store, master, created, err := openStore(ctx, cfg, env, o.mode)
	if err != nil {
		return nil, err
	}
	sys := &system{store: store, master: master, created: created}
	if o.mode == createInstall && cfg.Store == "" {
		sys.tightened = tighten(cfg.Data)
	}
	iss, recorded, err := settleIssuerURL(ctx, store, cfg, o, log)
	if err != nil {
		store.Close()
		return nil, err
	}
	sys.issuerRecorded, sys.issuerGiven = recorded, cfg.IssuerURL != ""
	_, err = store.Setting(ctx, cardgate.SettingIssuerURL)
	sys.issuerWasRecorded = err == nil
	keys, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: iss, Lifetime: cfg.TokenLifetime})
	if err != nil {
		store.Close()
		if errors.Is(err, seal.ErrOpen) {
			return nil, wrongMasterKey(cfg, env)
		}
		return nil, err
	}
	if o.mode == createInstall {
		// The key opened the signing keys: it is the installation's. Record
		// the check that lets every later command tell a wrong key at once.
		if err := recordKeyCheck(ctx, store, master); err != nil {
			store.Close()
			return nil, err
		}
	}
	svc, err := issuer.NewService(issuer.Config{Issuer: iss, Store: store, Keys: keys, Lifetime: cfg.TokenLifetime, CacheSize: cfg.TokenCacheSize,
		MintCacheSize: cfg.MintCacheSize, ClientCacheSize: cfg.APIKeyCacheSize, Logger: log})
	if err != nil {
		store.Close()
		return nil, err
	}
	sys.svc = svc
	return sys, nil
}

// settleIssuerURL returns the issuer URL tokens carry, and whether it is
// (or, for a server, will be once it calls recordIssuerURL) the one
// recorded in the store. The URL belongs to the installation: a server
// records it on the first start, and every command that mints uses it, so
// that a token minted anywhere passes /v1/users/me everywhere. Changing it
// is an explicit act (--change-issuer-url), logged, for it makes every
// token issued under the old URL fail.
func settleIssuerURL(ctx context.Context, store cardgate.Store, cfg Config, o openOptions, log *slog.Logger) (string, bool, error) {
	stored, err := store.Setting(ctx, cardgate.SettingIssuerURL)
	if err != nil && cardgate.ErrorCode(err) != cardgate.ENOTFOUND {
		return "", false, err
	}
	have := err == nil
	if !o.serving {
		switch want := cfg.issuer(""); {
		case have && cfg.IssuerURL != "" && want != stored:
			return "", false, fmt.Errorf("issuer-url: this installation's issuer URL is %s (recorded in its store), not %s: "+
				"tokens minted with %s would be refused. Leave --issuer-url (CARDGATE_ISSUER_URL, issuerUrl) out, or change the "+
				"installation's URL with cardgate issuer --issuer-url %s --change-issuer-url", stored, want, want, want)
		case have:
			return stored, true, nil
		default:
			return want, false, nil
		}
	}
	want := cfg.issuer(o.listenAddr)
	from := "--issuer-url"
	if cfg.IssuerURL == "" {
		from = "--listen " + o.listenAddr
	}
	if have && stored != want && !o.changeIssuerURL {
		return "", false, fmt.Errorf("issuer-url: this installation's issuer URL is %s (recorded in its store on the first start), "+
			"but this issuer would be %s (from %s). Tokens carry the URL, so every node and every command must agree on it: "+
			"pass --issuer-url %s to keep it (as when a proxy in front keeps that address), or add --change-issuer-url to make "+
			"%s the installation's URL (tokens issued under the old one then fail; restart the other nodes with the new one)",
			stored, want, from, stored, want)
	}
	return want, true, nil
}

// recordIssuerURL makes a server's issuer URL the installation's: on the
// first start it records it; with --change-issuer-url it replaces the one
// recorded, and logs the change. Servers call it once every other setting
// has been checked, so that a start that fails records nothing.
func (s *system) recordIssuerURL(ctx context.Context, change bool, log *slog.Logger) error {
	want := s.svc.Issuer()
	got, err := s.store.InitSetting(ctx, cardgate.SettingIssuerURL, want, time.Now())
	switch {
	case err != nil:
		return err
	case got == want:
		if !s.issuerWasRecorded {
			log.Info("recorded the installation's issuer URL", slog.String("issuerUrl", want))
		}
		return nil
	case !change:
		return fmt.Errorf("issuer-url: another node recorded %s as the installation's issuer URL while this one started with %s; "+
			"start every node with the same --issuer-url", got, want)
	}
	if err := s.store.PutSetting(ctx, cardgate.SettingIssuerURL, want, time.Now()); err != nil {
		return err
	}
	log.Warn("changed the installation's issuer URL; tokens issued under the old one are no longer accepted",
		slog.String("from", got), slog.String("to", want))
	return nil
}

// openStore opens the configured store and the master key, and nothing
// else: the adapter needs them without the Integration Service's keys. In
// useInstall mode it creates nothing, and says which directory, file or
// variable it looked at when something is missing; in createInstall mode
// it makes what is missing and lists it.
func openStore(ctx context.Context, cfg Config, env *Env, mode openMode) (cardgate.Store, *seal.Key, []string, error) {
	var created []string
	keyFile := filepath.Join(cfg.Data, "master.key")
	sqlitePath := filepath.Join(cfg.Data, "cardgate.db")

	// Nothing is created before the store is known to be new: a master
	// key written beside a store sealed with another key is the trap this
	// order avoids.
	if mode == useInstall && cfg.Store == "" {
		if _, err := os.Stat(cfg.Data); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil, noInstall(cfg, "the directory does not exist")
		}
		if _, err := os.Stat(sqlitePath); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil, noInstall(cfg, "it has no database "+sqlitePath)
		}
	}
	if mode == createInstall && cfg.Store == "" {
		made, err := mkdirPrivate(cfg.Data)
		if err != nil {
			return nil, nil, nil, err
		}
		if made {
			created = append(created, "data directory "+absPath(cfg.Data))
		}
		// SQLite makes its -wal and -shm files with the database's mode:
		// creating the file 0600 first keeps all three private.
		f, err := os.OpenFile(sqlitePath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
			created = append(created, "database "+absPath(sqlitePath))
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, nil, nil, fmt.Errorf("data: %w", err)
		}
	}

	var (
		store cardgate.Store
		err   error
	)
	if cfg.Store != "" {
		store, err = postgres.Open(ctx, cfg.Store)
	} else {
		store, err = sqlite.Open(ctx, sqlitePath)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	master, madeKey, err := masterKey(ctx, cfg, env, store, mode)
	if err != nil {
		store.Close()
		return nil, nil, nil, err
	}
	if madeKey {
		created = append(created, "master key "+absPath(keyFile))
	}
	if mode == useInstall {
		// A store that holds no installation (an empty PostgreSQL
		// database, say) is not one to write users or keys into.
		fresh, err := isFresh(ctx, store)
		if err == nil && fresh {
			err = cardgate.Errorf(cardgate.ENOTFOUND, "no cardgate installation in the store (%s): create one with cardgate init", storeName(cfg))
		}
		if err != nil {
			store.Close()
			return nil, nil, nil, err
		}
	}
	if cfg.Store != "" && mode == createInstall {
		if fresh, err := isFresh(ctx, store); err == nil && fresh {
			created = append(created, "the installation in PostgreSQL "+redactURL(cfg.Store))
		}
	}
	return store, master, created, nil
}

// masterKey reads CARDGATE_MASTER_KEY, or else the key file in the data
// directory. Only createInstall makes a key file, and only for a store that
// holds no installation yet. A key that does not open the store's check
// value is refused, naming where it came from.
func masterKey(ctx context.Context, cfg Config, env *Env, store cardgate.Store, mode openMode) (*seal.Key, bool, error) {
	var (
		k    *seal.Key
		made bool
		err  error
	)
	keyFile := filepath.Join(cfg.Data, "master.key")
	if text := env.Getenv("CARDGATE_MASTER_KEY"); text != "" {
		if k, err = seal.ParseKey(text); err != nil {
			return nil, false, fmt.Errorf("CARDGATE_MASTER_KEY: %w", err)
		}
	} else if _, serr := os.Stat(keyFile); serr == nil {
		if k, err = seal.LoadOrCreateFile(keyFile); err != nil {
			return nil, false, err
		}
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("master key file %s: %w", keyFile, serr)
	} else {
		fresh, err := isFresh(ctx, store)
		if err != nil {
			return nil, false, err
		}
		switch {
		case !fresh:
			return nil, false, fmt.Errorf("no master key: the store (%s) holds an installation, whose secrets are sealed with its master key, "+
				"but CARDGATE_MASTER_KEY is not set and %s does not exist. Set CARDGATE_MASTER_KEY to the key the other nodes use, "+
				"or pass --data naming the directory that holds its master.key, or restore %s from your backup; no new key was made",
				storeName(cfg), keyFile, keyFile)
		case mode == useInstall:
			return nil, false, fmt.Errorf("no master key: CARDGATE_MASTER_KEY is not set and %s does not exist, and the store (%s) holds "+
				"no installation: create one with cardgate init (or start cardgate issuer)", keyFile, storeName(cfg))
		}
		if _, err := mkdirPrivate(cfg.Data); err != nil {
			return nil, false, err
		}
		if k, err = seal.LoadOrCreateFile(keyFile); err != nil {
			return nil, false, err
		}
		made = true
	}
	if err := checkKey(ctx, store, k); err != nil {
		if errors.Is(err, seal.ErrOpen) {
			return nil, false, wrongMasterKey(cfg, env)
		}
		return nil, false, err
	}
	return k, made, nil
}

// settingKeyCheck holds a value sealed with the installation's master key,
// so that a wrong key is found when a command opens the store, not when it
// first needs a secret.
const settingKeyCheck = "master_key_check"

const keyCheckLabel = "setting " + settingKeyCheck

// checkKey opens the store's key check with k; none recorded passes.
func checkKey(ctx context.Context, store cardgate.Store, k *seal.Key) error {
	v, err := store.Setting(ctx, settingKeyCheck)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return fmt.Errorf("the store's %s setting is damaged", settingKeyCheck)
	}
	_, err = k.Open(b, keyCheckLabel)
	return err
}

// recordKeyCheck records the key check unless there is one.
func recordKeyCheck(ctx context.Context, store cardgate.Store, k *seal.Key) error {
	v := base64.StdEncoding.EncodeToString(k.Seal([]byte("cardgate"), keyCheckLabel))
	_, err := store.InitSetting(ctx, settingKeyCheck, v, time.Now())
	return err
}

// isFresh reports whether the store holds no installation yet: no key
// check, no issuer URL, no signing key.
func isFresh(ctx context.Context, store cardgate.Store) (bool, error) {
	for _, name := range []string{settingKeyCheck, cardgate.SettingIssuerURL} {
		_, err := store.Setting(ctx, name)
		if err == nil {
			return false, nil
		} else if cardgate.ErrorCode(err) != cardgate.ENOTFOUND {
			return false, err
		}
	}
	keys, err := store.SigningKeys(ctx)
	return len(keys) == 0, err
}

// wrongMasterKey names the key that failed to open the store's secrets.
func wrongMasterKey(cfg Config, env *Env) error {
	from := "the key file " + filepath.Join(cfg.Data, "master.key")
	if env.Getenv("CARDGATE_MASTER_KEY") != "" {
		from = "CARDGATE_MASTER_KEY"
	}
	return fmt.Errorf("wrong master key: %s is not the key this installation's store (%s) is sealed with; "+
		"use the key its other nodes use, or restore it from your backup", from, storeName(cfg))
}

// noInstall is the error of a command that found no installation.
func noInstall(cfg Config, why string) error {
	where := cfg.Data
	if abs := absPath(cfg.Data); abs != where {
		where += " (" + abs + ")"
	}
	return cardgate.Errorf(cardgate.ENOTFOUND, "no cardgate installation in %s: %s. Pass --data (env CARDGATE_DATA) naming the installation's directory, "+
		"or create one with cardgate init --data %s", where, why, cfg.Data)
}

// absPath is path made absolute for messages, so that an operator in the
// wrong working directory sees where a command looked.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// mkdirPrivate makes dir, mode 0700, and reports whether it did.
func mkdirPrivate(dir string) (bool, error) {
	if _, err := os.Stat(dir); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("data: %w", err)
	}
	return true, nil
}

// storeName names the store for messages, without a password.
func storeName(cfg Config) string {
	if cfg.Store == "" {
		return filepath.Join(cfg.Data, "cardgate.db")
	}
	return "PostgreSQL " + redactURL(cfg.Store)
}

// redactURL hides a URL's password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return u.Redacted()
}

// tighten makes an installation's files private that an older cardgate
// left readable by others (it made the database with the umask's mode),
// and lists what it changed. SQLite gives new -wal and -shm files the
// database's mode, so they stay private after.
func tighten(dir string) []string {
	var out []string
	for _, f := range []struct {
		name string
		mode fs.FileMode
	}{{"", 0o700}, {"cardgate.db", 0o600}, {"cardgate.db-wal", 0o600}, {"cardgate.db-shm", 0o600}} {
		path := filepath.Join(dir, f.name)
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm()&0o077 == 0 {
			continue
		}
		if os.Chmod(path, f.mode) == nil {
			out = append(out, fmt.Sprintf("%s (%v, now %v)", absPath(path), st.Mode().Perm(), f.mode))
		}
	}
	return out
}

// createdNote says what an installation's creation made, and what its
// operator must do about the master key; "" when nothing was made.
func createdNote(sys *system, cfg Config, env *Env) string {
	var b strings.Builder
	if len(sys.tightened) > 0 {
		fmt.Fprintf(&b, "Made private, readable by others before: %s.\n", strings.Join(sys.tightened, ", "))
	}
	if len(sys.created) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "Created a new cardgate installation: %s.\n", strings.Join(sys.created, ", "))
	if env.Getenv("CARDGATE_MASTER_KEY") == "" {
		fmt.Fprintf(&b, "Back up the master key %s: it seals the signing keys and the secrets in the store, which are lost without it.\n",
			absPath(filepath.Join(cfg.Data, "master.key")))
	} else {
		fmt.Fprintln(&b, "The master key is CARDGATE_MASTER_KEY: keep it backed up; the signing keys and secrets in the store are lost without it.")
	}
	fmt.Fprintln(&b, "Every node that shares this store must use the same master key (set CARDGATE_MASTER_KEY to its contents) and the same issuer URL.")
	return b.String()
}

// lazyVault is the store's secrets, opened on the first store: reference,
// so that checking a configuration that has none needs no installation.
type lazyVault struct {
	cfg   Config
	env   *Env
	once  sync.Once
	store cardgate.Store
	vault *secret.Vault
	err   error
}

func (l *lazyVault) Secret(ctx context.Context, name string) ([]byte, error) {
	l.once.Do(func() {
		store, master, _, err := openStore(ctx, l.cfg, l.env, useInstall)
		if err != nil {
			l.err = err
			return
		}
		l.store, l.vault = store, &secret.Vault{Store: store, Key: master}
	})
	if l.err != nil {
		return nil, l.err
	}
	return l.vault.Secret(ctx, name)
}

func (l *lazyVault) Close() {
	if l.store != nil {
		l.store.Close()
	}
}

// newLogger returns a JSON logger to w at the given level.
func newLogger(w interface{ Write([]byte) (int, error) }, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(strings.ToUpper(level))) // validated in Config.validate
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// redisLog sends go-redis's own lines (a pool that cannot dial, and the
// like) to a server's JSON log as warnings; by default go-redis prints
// them as plain text on stderr, beside the JSON lines.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.LogAttrs(ctx, slog.LevelWarn, "redis: "+fmt.Sprintf(format, v...))
}

// logRedisTo makes go-redis, whose logger is the process's, log to log.
func logRedisTo(log *slog.Logger) { redis.SetLogger(redisLog{log}) }

// quietLogger is for admin commands: warnings and errors only.
func quietLogger(env *Env) *slog.Logger { return newLogger(env.Stderr, "warn") }
