package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cardgate/cardgate"
)

// auditFilters adds the flags that select records, which fill in q once
// the flags are parsed.
func auditFilters(fs flagSet) (fill func(q *cardgate.AuditQuery) error) {
	user := fs.String("user", "", "only this user's (`id`) requests")
	pkg := fs.String("package", "", "only this action package's (`id`) requests")
	conv := fs.String("conversation", "", "only requests with tokens minted in this conversation (`id`)")
	since := fs.String("since", "", "only requests at or after this `time`: RFC 3339, or a duration ago like 1h")
	return func(q *cardgate.AuditQuery) (err error) {
		q.UserID, q.PackageID, q.ConversationID = *user, *pkg, *conv
		q.Since, err = parseSince(*since, time.Now())
		return err
	}
}

func runAudit(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "audit", args, map[string]verb{
		"query": {"print the newest audit records", func(ctx context.Context, env *Env, args []string) error {
			var (
				filter func(*cardgate.AuditQuery) error
				limit  *string
			)
			h := help{name: "audit query", summary: "print the newest audit records, oldest of them first",
				example: "cardgate audit query --since 1h --limit 20\ncardgate audit query --user 6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10 --json"}
			return adminCmd(ctx, env, args, h, storeFlags, 0, func(fs flagSet) {
				filter = auditFilters(fs)
				limit = fs.String("limit", "100", "print the newest `N` records that match (at most 10000)")
			}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				q := cardgate.AuditQuery{Newest: true}
				err := filter(&q)
				if err != nil {
					return err
				}
				if q.Limit, err = strconv.Atoi(*limit); err != nil || q.Limit < 1 || q.Limit > 10_000 {
					return usagef("audit query: --limit must be a number from 1 to 10000, not %q", *limit)
				}
				recs, err := sys.store.Audit(ctx, q)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, nonNil(recs))
				}
				auditHeader(env.Stdout)
				printAudit(env.Stdout, recs)
				return nil
			})
		}},
		"tail": {"follow the audit log: print records as they arrive", func(ctx context.Context, env *Env, args []string) error {
			var filter func(*cardgate.AuditQuery) error
			h := help{name: "audit tail", summary: "print audit records as they arrive, from now (or from --since) until interrupted",
				more:    "With --json it prints one JSON object a line, for jq and log shippers.",
				example: "cardgate audit tail\ncardgate audit tail --since 10m --json"}
			return adminCmd(ctx, env, args, h, storeFlags, 0, func(fs flagSet) {
				filter = auditFilters(fs)
			}, func(ctx context.Context, sys *system, _ []string, asJSON bool) error {
				var q cardgate.AuditQuery
				if err := filter(&q); err != nil {
					return err
				}
				return tailAudit(ctx, sys.store, q, env.Stdout, asJSON, time.Second)
			})
		}},
	})
}

// tailAudit prints the records q selects that arrive from now on, or, when
// q.Since is set, from then on, until ctx ends.
func tailAudit(ctx context.Context, store cardgate.Store, q cardgate.AuditQuery, w io.Writer, asJSON bool, every time.Duration) error {
	if q.Since.IsZero() {
		// Start after the newest record there is now.
		last, err := store.Audit(ctx, cardgate.AuditQuery{Limit: 1, Newest: true})
		if err != nil {
			return err
		}
		if len(last) == 1 {
			q.AfterID = last[0].ID
		}
	}
	q.Limit = 1000
	if !asJSON {
		auditHeader(w)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		recs, err := store.Audit(ctx, q)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(recs) > 0 {
			q.AfterID = recs[len(recs)-1].ID
			if asJSON {
				for _, r := range recs { // one object a line: a stream has no end to close an array at
					if err := writeJSONLine(w, r); err != nil {
						return err
					}
				}
			} else {
				printAudit(w, recs)
			}
		}
		if len(recs) == q.Limit {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// auditRow is the audit table's layout: fixed widths rather than
// tabwriter's, so that tail's later rows line up with its header.
const auditRow = "%-20s  %-36s  %-6s  %-12s  %6s  %-24s  %-14s  %9s  %9s  %s\n"

func auditHeader(w io.Writer) {
	fmt.Fprintf(w, auditRow, "TIME", "USER", "METHOD", "ROUTE", "STATUS", "PACKAGE", "ERROR", "LATENCY", "BYTES OUT", "CONVERSATION")
}

func printAudit(w io.Writer, recs []*cardgate.AuditRecord) {
	for _, r := range recs {
		fmt.Fprintf(w, auditRow, r.Time.Format(time.RFC3339), orDash(r.UserID), r.Method, orDash(r.Route), strconv.Itoa(r.Status),
			orDash(r.PackageID), orDash(r.ErrorCode), r.Latency.Round(time.Microsecond), strconv.FormatInt(r.BytesOut, 10),
			orDash(r.ConversationID))
	}
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
		return time.Time{}, usagef("--since must be an RFC 3339 time or a duration like 1h, not %q", strings.TrimSpace(s))
	}
	return t, nil
}
