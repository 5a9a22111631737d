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

	stop chan struct{}
	done chan struct{}
}

// Batching: a flush happens when this many records are waiting, or this
// long after the first of them arrived.
const (
	auditBatch = 1024
	auditDelay = 250 * time.Millisecond
)

// NewAuditLog starts an AuditLog with a buffer of size records (0 means
// 10,000). Close it to flush what is buffered.
func NewAuditLog(store AuditAppender, log *slog.Logger, size int) *AuditLog {
	if size <= 0 {
		size = 10_000
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &AuditLog{store: store, log: log, ch: make(chan *cardgate.AuditRecord, size),
		stop: make(chan struct{}), done: make(chan struct{})}
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
	for {
		select {
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

// Close flushes the buffered records and stops the writer.
func (l *AuditLog) Close() error {
	close(l.stop)
	<-l.done
	return nil
}
