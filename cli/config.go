package cli

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/token"
)

// Config is what every command that touches the store or serves HTTP
// needs. It is filled from defaults, then a YAML file (--config), then
// CARDGATE_* environment variables, then flags: the later wins.
type Config struct {
	Listen        string        `yaml:"listen"`
	Data          string        `yaml:"data"`
	Store         string        `yaml:"store"`
	IssuerURL     string        `yaml:"issuerUrl"`
	TokenLifetime time.Duration `yaml:"tokenLifetime"`
	LogLevel      string        `yaml:"logLevel"`
	// TokenCacheSize caps the tokens the issuer remembers as checked
	// (issuer.Config.CacheSize); each costs about 120 bytes.
	TokenCacheSize int `yaml:"tokenCacheSize"`
	// MintCacheSize caps the user and package pairs the issuer remembers
	// as enabled at a mint, for a second each (issuer.Config.MintCacheSize);
	// each costs about 280 bytes.
	MintCacheSize int `yaml:"mintCacheSize"`
	// APIKeyCacheSize caps the API keys the issuer remembers as valid, for
	// a second each (issuer.Config.ClientCacheSize); each costs about 400
	// bytes.
	APIKeyCacheSize int `yaml:"apiKeyCacheSize"`
}

// The defaults: every listener on loopback unless told otherwise.
const (
	defaultListen   = "127.0.0.1:8080"
	defaultData     = "./cardgate-data"
	defaultDemoData = "./cardgate-demo"
)

// flagKind says which of the shared flags a command takes.
type flagKind int

const (
	storeFlags   flagKind = iota // admin commands: the store, no listener
	mintFlags                    // admin commands that mint: the store, the issuer URL and token lifetime
	serverFlags                  // servers: the store and a listener
	demoFlags                    // the demo: a listener and its own data directory
	adapterFlags                 // the adapter: the store and the log level; its adapter.yaml has the rest
)

func defaultConfig(kind flagKind) Config {
	data := defaultData
	if kind == demoFlags {
		data = defaultDemoData
	}
	return Config{Listen: defaultListen, Data: data, TokenLifetime: 30 * time.Minute, LogLevel: "info",
		TokenCacheSize: issuer.DefaultCacheSize, MintCacheSize: issuer.DefaultMintCacheSize, APIKeyCacheSize: issuer.DefaultClientCacheSize}
}

// configFlags registers the shared flags on fs and returns a function that
// resolves the final Config once fs is parsed.
func configFlags(fs *flag.FlagSet, getenv func(string) string, kind flagKind) func() (Config, error) {
	var (
		file                           string
		listen, data, store, iss, lv   string
		lifetime                       time.Duration
		cacheSize, mintCache, keyCache int
	)
	def := defaultConfig(kind)
	if kind != demoFlags && kind != adapterFlags {
		fs.StringVar(&file, "config", "", "YAML configuration `file` (env CARDGATE_CONFIG)")
	}
	if kind != demoFlags {
		fs.StringVar(&store, "store", "", "PostgreSQL `URL` (postgres://…); empty means SQLite in the data directory (env CARDGATE_STORE)")
	}
	dataEnv := ", env CARDGATE_DATA"
	if kind == demoFlags {
		dataEnv = "" // see demoEnv
	}
	fs.StringVar(&data, "data", "", "data `directory`: SQLite database and master key (default "+def.Data+dataEnv+")")
	if kind == mintFlags || kind == serverFlags || kind == demoFlags {
		fs.StringVar(&iss, "issuer-url", "", "public base `URL` of the Integration Service, the tokens' iss (default http://<listen>, env CARDGATE_ISSUER_URL)")
		fs.DurationVar(&lifetime, "token-lifetime", 0, "lifetime of minted tokens (default 30m, env CARDGATE_TOKEN_LIFETIME)")
	}
	if kind == serverFlags || kind == demoFlags || kind == adapterFlags {
		fs.StringVar(&lv, "log-level", "", "log `level`: debug, info, warn or error (default info, env CARDGATE_LOG_LEVEL)")
	}
	if kind == serverFlags || kind == demoFlags {
		fs.StringVar(&listen, "listen", "", "`address` to listen on (default "+defaultListen+", env CARDGATE_LISTEN)")
		fs.IntVar(&cacheSize, "token-cache-size", 0, "`tokens` the issuer remembers as checked, about 120 bytes each (default 100000)")
		fs.IntVar(&mintCache, "mint-cache-size", 0, "user and package `pairs` the issuer remembers as enabled at a mint, for 1 s,\nabout 280 bytes each (default 10000)")
		fs.IntVar(&keyCache, "api-key-cache-size", 0, "API `keys` the issuer remembers as valid, for 1 s, about 400 bytes each (default 1000)")
	}
	return func() (Config, error) {
		cfg := def
		if file == "" {
			file = getenv("CARDGATE_CONFIG")
		}
		if file != "" {
			if err := loadYAML(file, &cfg); err != nil {
				return cfg, err
			}
		}
		for _, v := range []struct {
			dst      *string
			env, flg string
		}{
			{&cfg.Listen, "CARDGATE_LISTEN", listen},
			{&cfg.Data, "CARDGATE_DATA", data},
			{&cfg.Store, "CARDGATE_STORE", store},
			{&cfg.IssuerURL, "CARDGATE_ISSUER_URL", iss},
			{&cfg.LogLevel, "CARDGATE_LOG_LEVEL", lv},
		} {
			if e := getenv(v.env); e != "" {
				*v.dst = e
			}
			if v.flg != "" {
				*v.dst = v.flg
			}
		}
		if e := getenv("CARDGATE_TOKEN_LIFETIME"); e != "" {
			d, err := time.ParseDuration(e)
			if err != nil {
				return cfg, fmt.Errorf("CARDGATE_TOKEN_LIFETIME: %q is not a duration like 30m", e)
			}
			cfg.TokenLifetime = d
		}
		if lifetime != 0 {
			cfg.TokenLifetime = lifetime
		}
		for _, v := range []struct {
			dst *int
			flg int
		}{{&cfg.TokenCacheSize, cacheSize}, {&cfg.MintCacheSize, mintCache}, {&cfg.APIKeyCacheSize, keyCache}} {
			if v.flg != 0 {
				*v.dst = v.flg
			}
		}
		return cfg, cfg.validate()
	}
}

// validate reports the first setting that is wrong, naming it.
func (c Config) validate() error {
	switch {
	case c.Listen == "":
		return errors.New("listen: must not be empty; give host:port, like " + defaultListen)
	case !validListen(c.Listen):
		return fmt.Errorf("listen: %q is not host:port, like %s", c.Listen, defaultListen)
	case c.Data == "":
		return errors.New("data: must not be empty")
	case c.Store != "" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://"):
		return errors.New("store: must be a postgres:// URL; leave it empty for SQLite in the data directory")
	case c.TokenLifetime < time.Minute || c.TokenLifetime > token.MaxLifetime:
		return fmt.Errorf("tokenLifetime: must be between 1m and 24h, not %v", c.TokenLifetime)
	case c.TokenCacheSize < 1:
		return fmt.Errorf("tokenCacheSize: must be at least 1, not %d", c.TokenCacheSize)
	case c.MintCacheSize < 1:
		return fmt.Errorf("mintCacheSize: must be at least 1, not %d", c.MintCacheSize)
	case c.APIKeyCacheSize < 1:
		return fmt.Errorf("apiKeyCacheSize: must be at least 1, not %d", c.APIKeyCacheSize)
	case c.IssuerURL != "" && !strings.HasPrefix(c.IssuerURL, "http://") && !strings.HasPrefix(c.IssuerURL, "https://"):
		return errors.New("issuerUrl: must be an http:// or https:// URL")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("logLevel: must be debug, info, warn or error, not %q", c.LogLevel)
	}
	return nil
}

// validListen reports whether addr is host:port with a port net.Listen
// takes. An empty host is allowed: it means every interface, on purpose.
func validListen(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	_, err = net.LookupPort("tcp", port)
	return err == nil
}

// issuer returns the issuer URL: the configured one, or one made from the
// address actually listened on.
func (c Config) issuer(addr string) string {
	if c.IssuerURL != "" {
		return strings.TrimRight(c.IssuerURL, "/")
	}
	if addr == "" {
		addr = c.Listen
	}
	return "http://" + addr
}
