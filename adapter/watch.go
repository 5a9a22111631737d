package adapter

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"time"
)

// Watch reloads the configuration whenever the file changes, checking its
// modification time and size every interval and, when either moved, whether
// its content hash differs from the running configuration's (so that a touch
// alone does not reload). A bad file is
// refused and logged, and the running configuration stays. Watch returns
// when ctx ends. SIGHUP handling belongs to the caller: call Reload.
func (a *Adapter) Watch(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	var mod time.Time
	var size int64
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		fi, err := os.Stat(a.path)
		if err != nil {
			a.log.LogAttrs(ctx, slog.LevelWarn, "adapter: watch config", slog.String("error", err.Error()))
			continue
		}
		if fi.ModTime().Equal(mod) && fi.Size() == size {
			continue
		}
		mod, size = fi.ModTime(), fi.Size()
		b, err := os.ReadFile(a.path)
		if err != nil || sha256.Sum256(b) == a.table.Load().cfg.sum {
			continue
		}
		// Reload logs a refusal itself.
		a.Reload(ctx)
	}
}
