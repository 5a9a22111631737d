package adapter

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// conversationRoutes adds to config's routes one open only to cards opened
// in the conversation general, and one with its own conversation header.
const conversationRoutes = `  - name: chat
    match: GET /chat/
    policy: {packages: [com.example.a], conversations: [` + general + `]}
    upstream: {url: "UPSTREAM/"}
  - name: custom
    match: GET /custom/
    policy: {packages: ["*"]}
    upstream: {url: "UPSTREAM/"}
    identityHeaders: {conversationId: X-Conversation}
`

func conversationConfig(url string) string {
	return config(url, strings.ReplaceAll(conversationRoutes, "UPSTREAM", url))
}

// TestConversationHeader: the upstream learns the token's conversation in
// X-Cardgate-Conversation-Id, and nothing under that name for a token
// minted outside a conversation; whatever the client sent under that name
// (in any case, with "_", or under a route's own name for it) never
// reaches the upstream.
func TestConversationHeader(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, conversationConfig(up.URL))
	for _, tc := range []struct {
		path, tok, header, want string
	}{
		{"/products/1", "tok-alice-general", "X-Cardgate-Conversation-Id", general},
		{"/products/1", "tok-alice", "X-Cardgate-Conversation-Id", ""},
		{"/custom/1", "tok-alice-general", "X-Conversation", general},
		{"/custom/1", "tok-alice", "X-Conversation", ""},
	} {
		forged := []string{
			"X-Cardgate-Conversation-Id", sales,
			"x-cardgate-conversation-id", sales,
			"X_Cardgate_Conversation_Id", sales,
			"x-cardgate_conversation-id", sales,
			tc.header, sales,
			strings.ToLower(tc.header), sales,
		}
		res, body := e.do("GET", tc.path, tc.tok, nil, forged...)
		if res.StatusCode != 200 {
			t.Fatalf("%s with %s: %d %s", tc.path, tc.tok, res.StatusCode, body)
		}
		h := decodeSeen(t, body).Header
		got, ok := h[tc.header]
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s with %s: upstream got %s %q for a token minted outside a conversation", tc.path, tc.tok, tc.header, got)
		case tc.want != "" && !slices.Equal(got, []string{tc.want}):
			t.Errorf("%s with %s: upstream got %s %q, want [%q]", tc.path, tc.tok, tc.header, got, tc.want)
		}
		for k, vs := range h {
			if slices.Contains(vs, sales) || strings.Contains(k, "_") {
				t.Errorf("%s with %s: the client's %s %q reached the upstream", tc.path, tc.tok, k, vs)
			}
		}
	}
}

// TestConversationPolicy: a route that lists conversations refuses with
// 403, saying why, a token minted outside any conversation and one of
// another conversation, in proxy mode and in forward-auth; neither
// reaches the upstream.
func TestConversationPolicy(t *testing.T) {
	up, hits := echoUpstream(t)
	e := newEnv(t, conversationConfig(up.URL))
	const (
		outside = "route chat is only for cards opened in its conversations: this token was minted outside any conversation"
		another = "route chat is only for cards opened in its conversations: this token names another conversation"
	)
	for _, tc := range []struct {
		tok    string
		status int
		msg    string
	}{
		{"tok-alice", 403, outside},
		{"tok-alice-sales", 403, another},
		{"tok-bob", 403, "route chat does not allow this action package or user"},
		{"tok-alice-general", 200, ""},
	} {
		for _, mode := range []string{"proxy", "forward-auth"} {
			path, hdr := "/chat/x", []string{"X-Cardgate-Conversation-Id", general}
			if mode == "forward-auth" {
				path, hdr = "/auth", append(hdr, "X-Original-Method", "GET", "X-Original-Uri", "/chat/x")
			}
			res, body := e.do("GET", path, tc.tok, nil, hdr...)
			if res.StatusCode != tc.status || (tc.msg != "" && !strings.Contains(body, `"message":"`+tc.msg+`"`)) {
				t.Errorf("%s, %s: %d %s, want %d %q", mode, tc.tok, res.StatusCode, body, tc.status, tc.msg)
			}
		}
	}
	if *hits != 1 {
		t.Errorf("the upstream was called %d times, want once (the token of the conversation, in proxy mode)", *hits)
	}
	// The audit records name the conversation the token was minted in,
	// refused or not, and never the one the client's header claimed.
	var convs []string
	for _, r := range e.audit.all() {
		convs = append(convs, r.ConversationID)
	}
	if w := []string{"", "", sales, sales, "", "", general, general}; !slices.Equal(convs, w) {
		t.Errorf("the audit records' conversations = %q, want %q (the tokens', in order)", convs, w)
	}
}

// TestForwardAuthConversationHeader: /auth always answers with the
// conversation header, empty for a token minted outside a conversation, so
// that a proxy that copies only the headers present (Envoy's
// allowed_upstream_headers) still replaces the client's copy.
func TestForwardAuthConversationHeader(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, conversationConfig(up.URL))
	for _, tc := range []struct{ tok, want string }{{"tok-alice-general", general}, {"tok-alice", ""}} {
		res, body := e.do("GET", "/auth", tc.tok, nil, "X-Original-Method", "GET", "X-Original-Uri", "/products/1",
			"X-Cardgate-Conversation-Id", sales)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tc.tok, res.StatusCode, body)
		}
		if got := res.Header["X-Cardgate-Conversation-Id"]; !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%s: /auth answered X-Cardgate-Conversation-Id %q, want [%q]", tc.tok, got, tc.want)
		}
	}
	// A "_" spelling the upstream behind the proxy might read as the real
	// header is refused, as for the other identity headers.
	for _, name := range []string{"X_Cardgate_Conversation_Id", "x-cardgate_conversation-id"} {
		res, body := e.do("GET", "/auth", "tok-alice", nil, "X-Original-Method", "GET", "X-Original-Uri", "/products/1", name, general)
		if res.StatusCode != 400 {
			t.Errorf("%s: %d %s, want 400", name, res.StatusCode, body)
		}
	}
}

// TestConversationConfigErrors: a conversation that is no conversation id,
// or a conversation header no upstream could trust, is a configuration
// error naming the field.
func TestConversationConfigErrors(t *testing.T) {
	const base = `
issuer: {url: "http://127.0.0.1:8080"}
routes:
  - name: r
    match: GET /x
    policy: {packages: [com.example.card], conversations: [CONV]}
    upstream: {url: "http://127.0.0.1:9000"}
`
	for _, tc := range []struct{ yaml, want string }{
		{strings.Replace(base, "CONV", "general", 1), "adapter.yaml:6: routes[0].policy.conversations[0]: must be a lower-case GUID"},
		{strings.Replace(base, "CONV", strings.ToUpper(general), 1), "routes[0].policy.conversations[0]: must be a lower-case GUID"},
		{strings.Replace(base, "CONV", general, 1) + "identityHeaders: {conversationId: X_Conversation}\n", "identityHeaders.conversationId: must be a header name of letters, digits and '-'"},
		{strings.Replace(base, "CONV", general, 1) + "identityHeaders: {conversationId: Host}\n", "identityHeaders.conversationId: must not be Host"},
	} {
		path := filepath.Join(t.TempDir(), "adapter.yaml")
		os.WriteFile(path, []byte(tc.yaml), 0o600)
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "adapter.yaml")
	os.WriteFile(path, []byte(strings.Replace(base, "CONV", general, 1)), 0o600)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Routes[0].IdentityHeaders.ConversationID; got != DefaultConversationIDHeader {
		t.Errorf("conversation header %q, want %q", got, DefaultConversationIDHeader)
	}
}
