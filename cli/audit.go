package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cardgate/cardgate"
)

func runAudit(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "audit", args, map[string]func(context.Context, *Env, []string) error{
		"query": func(ctx context.Context, env *Env, args []string) error {
			var user, pkg, since, limit *string
			return adminCmd(ctx, env, args, "audit query", 0, func(fs flagSet) {
				user = fs.String("user", "", "only this user's requests")
				pkg = fs.String("package", "", "only this action package's requests")
				since = fs.String("since", "", "only requests at or after this time: RFC 3339, or a duration ago like 1h")
				limit = fs.String("limit", "100", "at most this many records")
			}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				q := cardgate.AuditQuery{UserID: *user, PackageID: *pkg}
				var err error
				if q.Since, err = parseSince(*since, time.Now()); err != nil {
					return err
				}
				if q.Limit, err = strconv.Atoi(*limit); err != nil || q.Limit < 1 {
					return usagef("audit query: --limit must be a positive number")
				}
				recs, err := sys.store.Audit(ctx, q)
				if err != nil {
					return err
				}
				return printAudit(env.Stdout, recs, asJSON)
			})
		},
		"tail": func(ctx context.Context, env *Env, args []string) error {
			return adminCmd(ctx, env, args, "audit tail", 0, nil, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				return tailAudit(ctx, sys.store, env.Stdout, asJSON, time.Second)
			})
		},
	})
}

// tailAudit prints the last records, then new ones as they arrive, until
// ctx ends.
func tailAudit(ctx context.Context, store cardgate.Store, w io.Writer, asJSON bool, every time.Duration) error {
	var after int64
	// Start from the last 20 records, as tail does.
	if recs, err := store.Audit(ctx, cardgate.AuditQuery{Limit: 10_000}); err == nil && len(recs) > 20 {
		after = recs[len(recs)-21].ID
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		recs, err := store.Audit(ctx, cardgate.AuditQuery{AfterID: after, Limit: 1000})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(recs) > 0 {
			after = recs[len(recs)-1].ID
			if err := printAudit(w, recs, asJSON); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func printAudit(w io.Writer, recs []*cardgate.AuditRecord, asJSON bool) error {
	if asJSON {
		for _, r := range recs { // one object a line, for jq and log shippers
			if err := writeJSONLine(w, r); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range recs {
		who := r.UserID
		if who == "" {
			who = "-"
		}
		fmt.Fprintf(w, "%s %s %-6s %-12s %d %s %s %v %dB\n", r.Time.Format(time.RFC3339), who, r.Method,
			orDash(r.Route), r.Status, orDash(r.PackageID), orDash(r.ErrorCode), r.Latency.Round(time.Microsecond), r.BytesOut)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// parseSince reads an RFC 3339 time or a duration before now; "" is zero.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("audit query: --since must be an RFC 3339 time or a duration like 1h, not %q", s)
	}
	return t, nil
}
