package host

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cardgate/cardgate"
)

// Live updates: GET /host/api/events is a stream of server-sent events
// (text/event-stream) for the signed-in user. An event names a
// conversation and a form, and what happened ("form": a card was sent, or
// closed; "response": someone responded); it carries no content, so that the page
// reads what changed through the API, which checks the user again. An
// event goes to the users who are members of its conversation when it
// happens, and to no one else.
//
// Server-sent events and not WebSockets: the updates go one way, from the
// host to the page; an EventSource is plain HTTP (cookies, the same
// session check, proxies and HTTP/2 as every other request), and the
// browser reconnects by itself. The page's commands go up as ordinary
// API calls.

// event is one live update.
type event struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversationId"`
	FormID         string `json:"formId"`
}

// Limits on the streams.
const (
	// maxStreamsPerUser bounds a user's open streams (tabs, devices);
	// the next one is 429.
	maxStreamsPerUser = 16
	// streamBuffer is how many events may wait for a slow reader; past
	// that its stream ends, and the browser reconnects and reloads.
	streamBuffer = 64
	// streamLifetime ends every stream after a while: the browser
	// reconnects, and the session is checked again.
	streamLifetime = 10 * time.Minute
	// keepAlive is how often an idle stream gets a comment line, so that
	// proxies keep it open and a gone client is noticed.
	keepAlive = 25 * time.Second
	// streamWriteTimeout is how long one write may take.
	streamWriteTimeout = 10 * time.Second
)

// hub hands events to the open streams of the users they are for. It
// lives in one process: a host with several nodes behind a load balancer
// sends each user the events of the node they are connected to (see
// docs/conversations.md).
type hub struct {
	members func(ctx context.Context, conversationID string) ([]*cardgate.Member, error)
	log     *slog.Logger

	mu      sync.Mutex
	streams map[string][]*stream // by user ID
}

// stream is one open event stream.
type stream struct {
	ch       chan event
	overflow chan struct{} // closed when ch was full
	once     sync.Once
}

func newHub(members func(context.Context, string) ([]*cardgate.Member, error), log *slog.Logger) *hub {
	return &hub{members: members, log: log, streams: map[string][]*stream{}}
}

// subscribe opens a stream for userID; nil when the user has too many.
func (b *hub) subscribe(userID string) *stream {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.streams[userID]) >= maxStreamsPerUser {
		return nil
	}
	s := &stream{ch: make(chan event, streamBuffer), overflow: make(chan struct{})}
	b.streams[userID] = append(b.streams[userID], s)
	return s
}

func (b *hub) unsubscribe(userID string, s *stream) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ss := slices.DeleteFunc(b.streams[userID], func(x *stream) bool { return x == s })
	if len(ss) == 0 {
		delete(b.streams, userID)
	} else {
		b.streams[userID] = ss
	}
}

// publish sends ev to every open stream of the conversation's members as
// stored now. It never blocks: a stream too far behind is ended.
func (b *hub) publish(ctx context.Context, conversationID string, ev event) {
	b.mu.Lock()
	idle := len(b.streams) == 0
	b.mu.Unlock()
	if idle {
		return
	}
	ms, err := b.members(ctx, conversationID)
	if err != nil {
		b.log.LogAttrs(ctx, slog.LevelWarn, "live update not sent: members unknown", slog.String("conversation", conversationID), slog.Any("err", err))
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range ms {
		for _, s := range b.streams[m.UserID] {
			select {
			case s.ch <- ev:
			default:
				s.once.Do(func() { close(s.overflow) })
			}
		}
	}
}

// events serves GET /host/api/events: the user's live updates.
func (h *handler) events() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		me := userFrom(ctx)
		s := h.hub.subscribe(me.ID)
		if s == nil {
			h.error(w, r, cardgate.Errorf(cardgate.ERATELIMITED, "more than %d live update streams are open for you: close a tab", maxStreamsPerUser))
			return
		}
		defer h.hub.unsubscribe(me.ID, s)
		rc := http.NewResponseController(w)
		hd := w.Header()
		hd.Set("Content-Type", "text/event-stream")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Accel-Buffering", "no") // nginx: pass each event at once
		write := func(text string) bool {
			// Each write gets its own deadline, past the server's
			// WriteTimeout, which would end the stream.
			rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			if _, err := fmt.Fprint(w, text); err != nil {
				return false
			}
			return rc.Flush() == nil
		}
		if !write("retry: 2000\n: cardgate live updates\n\n") {
			return
		}
		token := h.sessionTokens(r)[0]
		end := time.NewTimer(streamLifetime)
		defer end.Stop()
		tick := time.NewTicker(keepAlive)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-h.done:
				return
			case <-end.C:
				return
			case <-s.overflow:
				return
			case <-tick.C:
				if !write(": keep-alive\n\n") {
					return
				}
			case ev := <-s.ch:
				// A session that ended (sign-out elsewhere, a disabled
				// user) gets nothing more.
				if _, err := h.cfg.SignIn.Lookup(ctx, token); err != nil {
					return
				}
				b, _ := json.Marshal(ev) // IDs and a word: always encodes
				if !write("event: " + ev.Type + "\ndata: " + string(b) + "\n\n") {
					return
				}
			}
		}
	})
}
