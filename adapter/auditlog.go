package adapter

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cardgate/cardgate"
)

// AuditAppender is the part of cardgate.Store an AuditLog writes to.
type AuditAppender interface {
	AppendAudit(ctx context.Context, recs []*cardgate.AuditRecord) error
}

// auditPruner is a store that can delete old records (cardgate.Store is).
type auditPruner interface {
	PruneAudit(ctx context.Context, before time.Time, keep int64, limit int) (int, error)
}

// AuditLog is an AuditSink that writes records to the store in batches, on
// its own goroutine, so that a slow store never slows a request. When its
// buffer is full it drops records rather than block, and says so in the
// log (with the count) once per flush.
type AuditLog struct {
	store AuditAppender
	log   *slog.Logger
	ch    chan *cardgate.AuditRecord

	dropped   atomic.Uint64 // since the last flush
	dropTotal atomic.Uint64 // since the start

	retain  AuditConfig
	pruner  auditPruner // nil: no pruning
	pruneAt time.Duration

	stop chan struct{}
	done chan struct{}
}

// Batching: a flush happens when this many records are waiting, or this
// long after the first of them arrived.
const (
	auditBatch = 1024
	auditDelay = 250 * time.Millisecond
)

// Pruning: every pruneEvery the writer deletes the records past the
// retention, pruneChunk at a time, writing the records that arrived
// between two chunks, so that a large backlog never holds up the writes
// for longer than one chunk (tens of milliseconds; requests never wait
// for the writer in any case).
const (
	pruneEvery = time.Minute
	pruneChunk = 2000
)

// NewAuditLog starts an AuditLog with a buffer of size records (0 means
// 10,000) that keeps everything it writes. Close it to flush what is
// buffered.
func NewAuditLog(store AuditAppender, log *slog.Logger, size int) *AuditLog {
	return newAuditLog(store, log, size, nil, pruneEvery)
}

// NewRetainingAuditLog is NewAuditLog that also deletes the records past
// retain from the store (at once, then every minute); zero fields take
// the defaults of the adapter's audit section.
func NewRetainingAuditLog(store cardgate.Store, log *slog.Logger, size int, retain AuditConfig) *AuditLog {
	return newAuditLog(store, log, size, &retain, pruneEvery)
}

// newAuditLog prunes per retain, or not at all when it is nil.
func newAuditLog(store AuditAppender, log *slog.Logger, size int, retain *AuditConfig, every time.Duration) *AuditLog {
	if size <= 0 {
		size = 10_000
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &AuditLog{store: store, log: log, ch: make(chan *cardgate.AuditRecord, size),
		stop: make(chan struct{}), done: make(chan struct{}), pruneAt: every}
	if p, ok := store.(auditPruner); ok && retain != nil {
		r := *retain
		if r.MaxAge <= 0 {
			r.MaxAge = DefaultAuditMaxAge
		}
		if r.MaxRecords <= 0 {
			r.MaxRecords = DefaultAuditMaxRecords
		}
		l.pruner, l.retain = p, r
	}
	go l.run()
	return l
}

// Record implements AuditSink; it never blocks.
func (l *AuditLog) Record(_ context.Context, rec AuditRecord) {
	select {
	case l.ch <- &rec:
	default:
		l.dropped.Add(1)
		l.dropTotal.Add(1)
	}
}

// Dropped is how many records were dropped because the buffer was full;
// the adapter exports it as cardgate_adapter_audit_dropped_total.
func (l *AuditLog) Dropped() uint64 { return l.dropTotal.Load() }

func (l *AuditLog) run() {
	defer close(l.done)
	batch := make([]*cardgate.AuditRecord, 0, auditBatch)
	timer := time.NewTimer(auditDelay)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := l.store.AppendAudit(ctx, batch); err != nil {
				l.log.Error("audit: write records", slog.Int("records", len(batch)), slog.Any("err", err))
			}
			cancel()
			batch = batch[:0]
		}
		if n := l.dropped.Swap(0); n > 0 {
			l.log.Error("audit: buffer full, records dropped", slog.Uint64("dropped", n))
		}
	}
	// Pruning is due at once, and again every pruneAt. It runs only
	// between batches, one chunk at a time: while a backlog remains, a
	// chunk follows each write (a chunk is larger than a batch, so
	// pruning outpaces the writes), or every 10 ms when idle.
	var prune <-chan time.Time
	due := false
	if l.pruner != nil {
		ticker := time.NewTicker(l.pruneAt)
		defer ticker.Stop()
		prune, due = ticker.C, true
	}
	for {
		if due && len(batch) == 0 {
			due = l.pruneChunk()
		}
		var soon <-chan time.Time
		if due && len(batch) == 0 {
			soon = time.After(10 * time.Millisecond) // idle: go on with the backlog
		}
		select {
		case <-prune:
			due = true
		case <-soon:
		case rec := <-l.ch:
			if len(batch) == 0 {
				timer.Reset(auditDelay)
			}
			if batch = append(batch, rec); len(batch) >= auditBatch {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		case <-l.stop:
			for len(l.ch) > 0 {
				batch = append(batch, <-l.ch)
			}
			flush()
			return
		}
	}
}

// pruneChunk deletes up to pruneChunk records past the retention and
// reports whether more may remain.
func (l *AuditLog) pruneChunk() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := l.pruner.PruneAudit(ctx, time.Now().Add(-l.retain.MaxAge), l.retain.MaxRecords, pruneChunk)
	if err != nil {
		l.log.Error("audit: delete old records", slog.Any("err", err))
		return false
	}
	return n == pruneChunk
}

// Close flushes the buffered records and stops the writer.
func (l *AuditLog) Close() error {
	close(l.stop)
	<-l.done
	return nil
}
