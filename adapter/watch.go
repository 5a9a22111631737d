package adapter

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cardgate/cardgate/adapter/secret"
)

// Watch reloads the configuration whenever the file changes, checking its
// modification time and size every interval and, when either moved, whether
// its content hash differs from the running configuration's (so that a touch
// alone does not reload). A bad file is refused and logged, and the running
// configuration stays.
//
// Every interval Watch also reads again the store: and file: secrets the
// configuration uses, and reloads when one of them changed: a value set with
// `cardgate secrets set`, or a secret file replaced, is used within one
// interval, without a restart. (env: values cannot change in a running
// process.) Watch returns when ctx ends. SIGHUP handling belongs to the
// caller: call Reload, which reads every secret again too.
func (a *Adapter) Watch(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	var (
		mod     time.Time
		size    int64
		secrets secretWatch
	)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if a.fileChanged(ctx, &mod, &size) {
			a.Reload(ctx) // Reload logs a refusal itself.
			continue
		}
		secrets.check(ctx, a)
	}
}

// fileChanged reports whether the file's content differs from the running
// configuration's; mod and size remember what was last looked at.
func (a *Adapter) fileChanged(ctx context.Context, mod *time.Time, size *int64) bool {
	fi, err := os.Stat(a.path)
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "adapter: watch config", slog.String("error", err.Error()))
		return false
	}
	if fi.ModTime().Equal(*mod) && fi.Size() == *size {
		return false
	}
	*mod, *size = fi.ModTime(), fi.Size()
	b, err := os.ReadFile(a.path)
	return err == nil && sha256.Sum256(b) != a.table.Load().cfg.sum
}

// secretWatch remembers, between checks, what was last tried and whether
// the last read failed, so that a store outage or a bad file is logged
// once, not every interval.
type secretWatch struct {
	tried  map[string][32]byte // the values a reload last failed with
	failed bool
}

// check reads the running configuration's store: and file: secrets again
// and reloads if any value changed. Values are compared by SHA-256; no
// value is logged, only the references.
func (w *secretWatch) check(ctx context.Context, a *Adapter) {
	t := a.table.Load()
	if len(t.secretRefs) == 0 {
		return
	}
	res := &secret.Resolver{LookupEnv: a.opts.LookupEnv, Store: a.opts.Secrets}
	now := make(map[string][32]byte, len(t.secretRefs))
	var changed []string
	for ref, sum := range t.secretRefs {
		s, err := res.Resolve(ctx, ref)
		if err != nil {
			if !w.failed {
				a.log.LogAttrs(ctx, slog.LevelWarn, "adapter: read a secret again; the running value stays",
					slog.String("ref", ref), slog.String("error", strings.TrimPrefix(err.Error(), "secret: ")))
			}
			w.failed = true
			return
		}
		now[ref] = sha256.Sum256([]byte(s.Reveal()))
		if now[ref] != sum {
			changed = append(changed, ref)
		}
	}
	w.failed = false
	if len(changed) == 0 || mapsEqual(now, w.tried) {
		return
	}
	slices.Sort(changed)
	a.log.LogAttrs(ctx, slog.LevelInfo, "adapter: secrets changed; reloading", slog.String("refs", strings.Join(changed, ", ")))
	if err := a.Reload(ctx); err != nil {
		w.tried = now // Reload logged why; try again when something changes
		return
	}
	w.tried = nil
}

func mapsEqual(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
