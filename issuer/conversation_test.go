package issuer_test

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/issuer"
)

const conversation = "0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6d"

// kaizalaFields are the members of /v1/users/me's answer, exactly.
var kaizalaFields = []string{"actionPackageId", "id", "name", "phoneNumber", "pictureUrl"}

// TestUsersMeInConversation: a token minted in a conversation is answered
// with exactly Kaizala's five fields, the conversation coming only in the
// Cardgate-Conversation-Id header; on the first check, from the caches, and
// once the cached state is stale; with the caches off too. A token minted
// outside a conversation gets no such header.
func TestUsersMeInConversation(t *testing.T) {
	ctx := context.Background()
	for _, opts := range []envOptions{{}, {cacheSize: -1}} {
		e := newEnvWith(t, opts)
		raw, c, err := e.svc.MintIn(ctx, alice, ordersPkg, conversation)
		if err != nil {
			t.Fatal(err)
		}
		if c.ConversationID != conversation {
			t.Fatalf("minted claims name conversation %q", c.ConversationID)
		}
		for _, step := range []string{"first check", "cached", "state stale"} {
			if step == "state stale" {
				e.clock.Advance(issuer.DefaultStateCacheTTL)
			}
			res := e.usersMe(raw)
			if res.status != http.StatusOK {
				t.Fatalf("cache %d, %s: %d %s", opts.cacheSize, step, res.status, res.body)
			}
			if keys := slices.Sorted(maps.Keys(res.json(t))); !slices.Equal(keys, kaizalaFields) {
				t.Errorf("cache %d, %s: members %v, want exactly %v", opts.cacheSize, step, keys, kaizalaFields)
			}
			if strings.Contains(string(res.body), conversation) {
				t.Errorf("cache %d, %s: the body names the conversation: %s", opts.cacheSize, step, res.body)
			}
			if got := res.header.Values(cardgate.ConversationHeader); !slices.Equal(got, []string{conversation}) {
				t.Errorf("cache %d, %s: %s = %q, want %q", opts.cacheSize, step, cardgate.ConversationHeader, got, conversation)
			}
			id, claims, err := e.svc.Check(ctx, raw)
			if err != nil || id.ConversationID != conversation || claims.ConversationID != conversation {
				t.Errorf("cache %d, %s: Check = %+v, %+v, %v", opts.cacheSize, step, id, claims, err)
			}
		}
		plain := e.mint(alice, ordersPkg)
		for range 2 { // checked, then cached
			res := e.usersMe(plain)
			if _, ok := res.header[cardgate.ConversationHeader]; ok || res.status != http.StatusOK {
				t.Errorf("cache %d: token minted outside a conversation: %d, %s %q", opts.cacheSize, res.status, cardgate.ConversationHeader, res.header.Values(cardgate.ConversationHeader))
			}
			if id, _, err := e.svc.Check(ctx, plain); err != nil || id.ConversationID != "" {
				t.Errorf("cache %d: Check of a token minted outside a conversation = %+v, %v", opts.cacheSize, id, err)
			}
		}
		if !strings.Contains(e.logText(), `"conversation":"`+conversation+`"`) {
			t.Errorf("cache %d: the mint's log line does not name the conversation", opts.cacheSize)
		}
	}
}

// TestIntrospectionConversation: introspection names the conversation in
// "conv", as the token does, and says nothing of one for a token minted
// outside a conversation.
func TestIntrospectionConversation(t *testing.T) {
	e := newEnv(t)
	raw, _, err := e.svc.MintIn(context.Background(), alice, ordersPkg, conversation)
	if err != nil {
		t.Fatal(err)
	}
	if got := introspect(e, e.rsKey, raw).json(t); got["active"] != true || got["conv"] != conversation {
		t.Errorf("token minted in a conversation: %v", got)
	}
	if got := introspect(e, e.rsKey, e.mint(alice, ordersPkg)).json(t); got["active"] != true || got["conv"] != nil {
		t.Errorf("token minted outside a conversation: %v", got)
	}
}

// TestMintInRefuses: MintIn applies Mint's rules and wants a conversation
// id of the form conversations have.
func TestMintInRefuses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for _, bad := range []string{"general", "0B8F6C1E-2D4A-4F3B-8C9D-1E2F3A4B5C6D", conversation + " ", "{" + conversation + "}"} {
		_, _, err := e.svc.MintIn(ctx, alice, ordersPkg, bad)
		if cardgate.ErrorCode(err) != cardgate.EINVALID || !strings.HasPrefix(cardgate.ErrorMessage(err), "conversationId: must be a lower-case GUID") {
			t.Errorf("conversation %q: %v, want EINVALID naming conversationId", bad, err)
		}
	}
	if err := e.svc.SetUserDisabled(ctx, bob, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.MintIn(ctx, bob, ordersPkg, conversation); cardgate.ErrorCode(err) != cardgate.EFORBIDDEN {
		t.Errorf("disabled user: %v, want EFORBIDDEN", err)
	}
}

// TestMintAPIHasNoConversation: POST /v1/tokens cannot mint a token that
// names a conversation: it has no membership to check, so the field is
// refused like any unknown one.
func TestMintAPIHasNoConversation(t *testing.T) {
	e := newEnv(t)
	res := e.do("POST", "/v1/tokens", bearer(e.hostKey),
		`{"userId":"`+alice+`","actionPackageId":"`+ordersPkg+`","conversationId":"`+conversation+`"}`)
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "conversationId") {
		t.Errorf("mint with a conversation: %d %s, want 400 naming conversationId", res.status, res.body)
	}
}
