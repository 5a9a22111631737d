package adapter

import (
	"context"
	"log/slog"
	"strings"
)

// needRestart names the settings of cfg that differ from started, the
// configuration the adapter started with, and that a reload cannot apply:
// the listener and its server limits belong to a server already running,
// the issuer section to the token verifier built at start, and the audit
// retention to the audit writer started with it.
func needRestart(started, cfg *Config) []string {
	var changed []string
	for _, s := range []struct {
		name string
		same bool
	}{
		{"listen", started.Listen == cfg.Listen},
		{"server.maxHeaderBytes", started.Server.MaxHeaderBytes == cfg.Server.MaxHeaderBytes},
		{"server.readHeaderTimeout", started.Server.ReadHeaderTimeout == cfg.Server.ReadHeaderTimeout},
		{"server.readTimeout", started.Server.ReadTimeout == cfg.Server.ReadTimeout},
		{"server.idleTimeout", started.Server.IdleTimeout == cfg.Server.IdleTimeout},
		{"issuer.url", started.Issuer.URL == cfg.Issuer.URL},
		{"issuer.mode", started.Issuer.Mode == cfg.Issuer.Mode},
		{"issuer.cacheTTL", started.Issuer.CacheTTL == cfg.Issuer.CacheTTL},
		{"issuer.cacheSize", started.Issuer.CacheSize == cfg.Issuer.CacheSize},
		{"issuer.negativeCacheSize", started.Issuer.NegativeCacheSize == cfg.Issuer.NegativeCacheSize},
		{"audit.maxAge", started.Audit.MaxAge == cfg.Audit.MaxAge},
		{"audit.maxRecords", started.Audit.MaxRecords == cfg.Audit.MaxRecords},
	} {
		if !s.same {
			changed = append(changed, s.name)
		}
	}
	return changed
}

// warnRestart logs, at each reload, every setting of the file that differs
// from the running one and needs a restart to take effect.
func (a *Adapter) warnRestart(ctx context.Context, cfg *Config) {
	if a.started == nil {
		return
	}
	if changed := needRestart(a.started, cfg); len(changed) > 0 {
		a.log.LogAttrs(ctx, slog.LevelWarn, "adapter: settings changed that take effect only after a restart; until then the running values stay",
			slog.String("file", a.path), slog.String("settings", strings.Join(changed, ", ")))
	}
}
