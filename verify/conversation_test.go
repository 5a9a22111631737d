package verify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/verify"
)

const (
	general = "0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6d"
	sales   = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"
)

func (e *issuerEnv) mintIn(t testing.TB, user, pkg, conversation string) string {
	t.Helper()
	raw, _, err := e.svc.MintIn(context.Background(), user, pkg, conversation)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestConversationInBothModes: remote mode (from the issuer's
// Cardgate-Conversation-Id header) and local mode (from the token's conv
// claim) give the conversation of a token minted in one, on the first
// check and from the cache, and none for a token minted outside one.
func TestConversationInBothModes(t *testing.T) {
	e := newIssuer(t)
	ctx := context.Background()
	in, out := e.mintIn(t, alice, orders, general), e.mint(t, alice, orders)
	for _, v := range []struct {
		name string
		verify.Verifier
	}{{"remote", e.remote(t, verify.RemoteConfig{})}, {"local", e.local(t, verify.LocalConfig{})}} {
		for _, pass := range []string{"checked", "cached"} {
			id, err := v.Verify(ctx, in)
			if err != nil || id.ConversationID != general || id.UserID != alice || id.ActionPackageID != orders {
				t.Errorf("%s, %s: token minted in a conversation: %+v, %v", v.name, pass, id, err)
			}
			id, err = v.Verify(ctx, out)
			if err != nil || id.ConversationID != "" {
				t.Errorf("%s, %s: token minted outside a conversation: %+v, %v", v.name, pass, id, err)
			}
		}
	}
}

// TestRemoteConversationHeader: an endpoint that sends no
// Cardgate-Conversation-Id (Kaizala's) gives identities without a
// conversation; one that sends it twice is not trusted to say which.
func TestRemoteConversationHeader(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		values []string
		want   string
		err    error
	}{
		{"none, as Kaizala", nil, "", nil},
		{"one", []string{general}, general, nil},
		{"two", []string{general, sales}, "", verify.ErrUnavailable},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()[cardgate.ConversationHeader] = tc.values
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"id":"` + alice + `","name":"Alice","phoneNumber":"+14155550101","pictureUrl":"","actionPackageId":"` + orders + `"}`))
		}))
		r, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		id, err := r.Verify(ctx, "opaque-"+tc.name)
		srv.Close()
		switch {
		case tc.err != nil:
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: %+v, %v, want %v", tc.name, id, err, tc.err)
			}
		case err != nil || id.ConversationID != tc.want:
			t.Errorf("%s: %+v, %v, want conversation %q", tc.name, id, err, tc.want)
		}
	}
}

// TestMiddlewareAllowConversations: a service that admits only cards opened
// in its conversations refuses, with 403 and a message saying so, a token
// minted outside any conversation and one of another conversation, in
// both modes; the handler sees the conversation of one it admits.
func TestMiddlewareAllowConversations(t *testing.T) {
	e := newIssuer(t)
	for name, v := range map[string]verify.Verifier{"remote": e.remote(t, verify.RemoteConfig{}), "local": e.local(t, verify.LocalConfig{})} {
		srv, seen := serve(t, v, verify.AllowConversations(general))
		for _, tc := range []struct {
			name, tok string
			status    int
			msg       string
		}{
			{"no conversation", e.mint(t, alice, orders), 403, "this service is only for cards opened in its conversations: this token was minted outside any conversation"},
			{"another conversation", e.mintIn(t, alice, orders, sales), 403, "this service is only for cards opened in its conversations: this token names another"},
			{"its conversation", e.mintIn(t, bob, orders, general), 200, ""},
		} {
			status, _, msg := call(t, srv.URL, [][2]string{{"Authorization", "Bearer " + tc.tok}}, "")
			if status != tc.status || msg != tc.msg {
				t.Errorf("%s, %s: %d %q, want %d %q", name, tc.name, status, msg, tc.status, tc.msg)
			}
		}
		if id, ok := seen.Load(bob); !ok || id.(*verify.Identity).ConversationID != general {
			t.Errorf("%s: the handler saw %+v", name, id)
		}
		if _, ok := seen.Load(alice); ok {
			t.Errorf("%s: a refused token reached the handler", name)
		}
	}
}
