package adapter

import (
	"context"
	"log/slog"
	"sync"
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
//
// A request only appends its record to the buffer, under a mutex held for
// the append: it does not wake the writer, which looks every auditDelay
// (and at once when a batch is waiting). A channel send per request woke
// the writer's goroutine for every request, which costs a thread wake-up
// when the machine is not busy.
type AuditLog struct {
	store AuditAppender
	log   *slog.Logger

	mu   sync.Mutex
	buf  []cardgate.AuditRecord // waiting, at most size
	size int
	full chan struct{} // signalled when buf reaches a batch

	dropped   atomic.Uint64 // since the last flush
	dropTotal atomic.Uint64 // since the start

	retain  AuditConfig
	pruner  auditPruner // nil: no pruning
	pruneAt time.Duration

	stop chan struct{}
	done chan struct{}
}

// Batching: records are written when this many are waiting, and every
// auditDelay whatever is waiting, so at most that long after they arrived.
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
	l := &AuditLog{store: store, log: log, size: size, full: make(chan struct{}, 1),
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
	l.mu.Lock()
	if len(l.buf) >= l.size {
		l.mu.Unlock()
		l.dropped.Add(1)
		l.dropTotal.Add(1)
		return
	}
	l.buf = append(l.buf, rec)
	n := len(l.buf)
	l.mu.Unlock()
	if n == auditBatch {
		select {
		case l.full <- struct{}{}:
		default:
		}
	}
}

// Dropped is how many records were dropped because the buffer was full;
// the adapter exports it as cardgate_adapter_audit_dropped_total.
func (l *AuditLog) Dropped() uint64 { return l.dropTotal.Load() }

// take swaps the waiting records for spare (emptied), so that requests
// append to a buffer the writer is not reading.
func (l *AuditLog) take(spare []cardgate.AuditRecord) []cardgate.AuditRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.buf
	l.buf = spare[:0]
	return out
}

func (l *AuditLog) run() {
	defer close(l.done)
	var spare []cardgate.AuditRecord
	ptrs := make([]*cardgate.AuditRecord, 0, auditBatch)
	// flush writes what waits, a batch at a time.
	flush := func() {
		recs := l.take(spare)
		for batch := recs; len(batch) > 0; {
			n := min(len(batch), auditBatch)
			ptrs = ptrs[:0]
			for i := range batch[:n] {
				ptrs = append(ptrs, &batch[i])
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := l.store.AppendAudit(ctx, ptrs); err != nil {
				l.log.Error("audit: write records", slog.Int("records", len(ptrs)), slog.Any("err", err))
			}
			cancel()
			batch = batch[n:]
		}
		clear(ptrs[:cap(ptrs)])
		clear(recs)
		spare = recs
		if n := l.dropped.Swap(0); n > 0 {
			l.log.Error("audit: buffer full, records dropped", slog.Uint64("dropped", n))
		}
	}
	// Pruning is due at once, and again every pruneAt. It runs only
	// between writes, one chunk at a time: while a backlog remains, a
	// chunk follows each look at the buffer (a chunk is larger than a
	// batch, so pruning outpaces the writes), every 10 ms.
	var prune <-chan time.Time
	due := false
	if l.pruner != nil {
		ticker := time.NewTicker(l.pruneAt)
		defer ticker.Stop()
		prune, due = ticker.C, true
	}
	tick := time.NewTicker(auditDelay)
	defer tick.Stop()
	for {
		if due {
			due = l.pruneChunk()
		}
		var soon <-chan time.Time
		if due {
			soon = time.After(10 * time.Millisecond) // go on with the backlog
		}
		select {
		case <-prune:
			due = true
		case <-soon:
			flush()
		case <-l.full:
			flush()
		case <-tick.C:
			flush()
		case <-l.stop:
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
