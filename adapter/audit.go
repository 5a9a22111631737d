package adapter

import (
	"context"
	"github.com/cardgate/cardgate"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// AuditRecord is what the adapter records about one request; see
// cardgate.AuditRecord.
type AuditRecord = cardgate.AuditRecord

// AuditSink stores audit records. Record is called once per request, after
// the response; it must not block for long (buffer, and report failures
// itself), and must not keep ctx.
type AuditSink interface {
	Record(ctx context.Context, rec AuditRecord)
}

// finish writes the audit record, the log line and the metrics of one
// request.
func (a *Adapter) finish(ex *exchange, r *http.Request, start time.Time, forwardAuth bool) {
	lat := a.now().Sub(start)
	status := ex.status
	if status == 0 {
		status = http.StatusOK
	}
	rec := AuditRecord{
		Time:           start,
		Method:         r.Method,
		Status:         status,
		UpstreamStatus: ex.upstreamStatus,
		ErrorCode:      ex.code,
		Latency:        lat,
		BytesIn:        ex.bytesIn,
		BytesOut:       ex.bytesOut,
		ForwardAuth:    forwardAuth,
	}
	if ex.id != nil {
		rec.UserID, rec.PackageID, rec.ConversationID = ex.id.UserID, ex.id.ActionPackageID, ex.id.ConversationID
	}
	if ex.route != nil {
		rec.Route = ex.route.name
		ex.route.latency.Observe(lat.Seconds())
		ex.route.requests.inc(status)
	} else {
		a.metrics.unroutedCodes.inc(status)
	}
	ctx := r.Context()
	// The audit record is the record of every request; the log line says
	// the same for debugging, at level debug: at info it cost about a
	// tenth of the adapter's CPU per request (BenchmarkAdapterVsReverseProxy).
	if a.log.Enabled(ctx, slog.LevelDebug) {
		a.log.LogAttrs(ctx, slog.LevelDebug, "adapter: request",
			slog.String("route", rec.Route), slog.String("method", rec.Method),
			slog.String("user", rec.UserID), slog.String("package", rec.PackageID),
			slog.Int("status", rec.Status), slog.Int("upstreamStatus", rec.UpstreamStatus),
			slog.String("code", rec.ErrorCode), slog.Duration("latency", lat),
			slog.Int64("bytesIn", rec.BytesIn), slog.Int64("bytesOut", rec.BytesOut),
			slog.Bool("forwardAuth", forwardAuth))
	}
	if a.opts.Audit != nil {
		// The record is written after the response; the client going
		// away must not cancel it.
		a.opts.Audit.Record(context.WithoutCancel(ctx), rec)
	}
}

// statusTexts avoids formatting a status for every request.
var statusTexts = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusText(code int) string {
	if code >= 0 && code < len(statusTexts) {
		return statusTexts[code]
	}
	return strconv.Itoa(code)
}
