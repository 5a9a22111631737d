package host

import (
	"context"
	"log/slog"
	"testing"

	"github.com/cardgate/cardgate"
)

// A stream whose reader falls 64 events behind is ended (its overflow
// closes), never waited for; the events before that are all there.
func TestSlowStreamEnded(t *testing.T) {
	members := func(context.Context, string) ([]*cardgate.Member, error) {
		return []*cardgate.Member{{UserID: "u1"}}, nil
	}
	h := newHub(members, slog.New(slog.DiscardHandler))
	s := h.subscribe("u1")
	for i := range streamBuffer {
		h.publish(context.Background(), "c", event{Type: "form", FormID: string(rune('a' + i%26))})
	}
	select {
	case <-s.overflow:
		t.Fatalf("ended after %d events, want room for %d", streamBuffer, streamBuffer)
	default:
	}
	h.publish(context.Background(), "c", event{Type: "form"})
	select {
	case <-s.overflow:
	default:
		t.Fatalf("a stream %d events behind is not ended", streamBuffer+1)
	}
	if len(s.ch) != streamBuffer || streamBuffer != 64 {
		t.Errorf("%d events waiting (buffer %d), want the first 64", len(s.ch), streamBuffer)
	}
}
