package issuer_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate/httpserver"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/token"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestUsersMeKaizalaContract(t *testing.T) {
	e := newEnv(t)
	tok := e.mint(alice, ordersPkg)
	for name, hdr := range map[string]map[string]string{
		"accessToken header":   {"accessToken": tok},
		"Authorization Bearer": bearer(tok),
	} {
		t.Run(name, func(t *testing.T) {
			res := e.do("GET", "/v1/users/me", hdr, "")
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			got := res.json(t)
			want := map[string]any{
				"id": alice, "name": "Alice", "phoneNumber": "+14155550101",
				"pictureUrl": "https://pics.example/alice.png", "actionPackageId": ordersPkg,
			}
			if len(got) != len(want) {
				t.Errorf("fields = %v, want exactly %v", got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			if res.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", res.header.Get("Cache-Control"))
			}
		})
	}
	// Bob has no picture: the field is still there, empty, as Kaizala sends it.
	got := e.usersMe(e.mint(bob, surveyPkg)).json(t)
	if v, ok := got["pictureUrl"]; !ok || v != "" || len(got) != 5 {
		t.Errorf("bob = %v, want five fields with an empty pictureUrl", got)
	}
}

// forge makes a token with arbitrary header and claims, signed by key.
func forge(t *testing.T, alg jose.SignatureAlgorithm, key any, hdr map[jose.HeaderKey]any, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range hdr {
		opts.WithHeader(k, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestUsersMeRejects(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	kid := e.svc.Keys().Signer().KeyID()
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	pub, _ := e.svc.Keys().PublicKey(kid)
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": e.svc.Issuer(), "sub": alice, "apid": ordersPkg, "jti": "j-" + t.Name(),
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(30 * time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	hdr := map[jose.HeaderKey]any{"kid": kid, jose.HeaderType: token.Type}
	good := e.mint(alice, ordersPkg)
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	revokedJTI := e.mint(alice, ordersPkg)
	if res := e.do("POST", "/v1/revocations", bearer(e.adminKey), `{"token":"`+revokedJTI+`"}`); res.status != http.StatusCreated {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	bobsToken := e.mint(bob, ordersPkg)
	if res := e.do("POST", "/v1/admin/users/"+bob+"/disable", bearer(e.adminKey), ""); res.status != http.StatusOK {
		t.Fatalf("disable bob: %d %s", res.status, res.body)
	}
	surveyToken := e.mint(alice, surveyPkg)
	if res := e.do("POST", "/v1/admin/packages/"+surveyPkg+"/disable", bearer(e.adminKey), ""); res.status != http.StatusOK {
		t.Fatalf("disable survey: %d %s", res.status, res.body)
	}

	tests := []struct {
		name, tok, msg string
	}{
		{"malformed", "not.a.token", "token is invalid"},
		{"garbage", "garbage", "token is invalid"},
		{"forged signature", parts[0] + "." + parts[1] + "." + b64(make([]byte, 64)), "token is invalid"},
		{"re-signed with another key", forge(t, jose.EdDSA, otherKey, hdr, claims(nil)), "token is invalid"},
		{"alg none", b64([]byte(`{"alg":"none","kid":"`+kid+`","typ":"`+token.Type+`"}`)) + "." + parts[1] + ".", "token is invalid"},
		{"HMAC with the public key", forge(t, jose.HS256, []byte(pub), hdr, claims(nil)), "token is invalid"},
		{"unknown kid", forge(t, jose.EdDSA, otherKey, map[jose.HeaderKey]any{"kid": "nope", jose.HeaderType: token.Type}, claims(nil)), "token is invalid"},
		{"other issuer", forge(t, jose.EdDSA, otherKey, hdr, claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), "token is invalid"},
		{"revoked jti", revokedJTI, "token is invalid"},
		{"disabled user", bobsToken, "token is invalid"},
		{"disabled package", surveyToken, "token is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.usersMe(tt.tok)
			assertRejected(t, res, tt.msg)
			if strings.Contains(string(res.body), tt.tok) {
				t.Error("the response repeats the token")
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		res := e.do("GET", "/v1/users/me", nil, "")
		assertRejected(t, res, "no token: send it in the accessToken header or as Authorization: Bearer")
	})
	t.Run("two tokens", func(t *testing.T) {
		// A service that forwards both headers, or a token header twice,
		// must not get an answer for one while it reads the other.
		other := e.mint(alice, ordersPkg) // another jti: another token
		for name, h := range map[string]http.Header{
			"accessToken twice":   {"Accesstoken": {good, other}},
			"Authorization twice": {"Authorization": {"Bearer " + good, "Bearer " + other}},
			"different tokens":    {"Accesstoken": {good}, "Authorization": {"Bearer " + other}},
		} {
			req, _ := http.NewRequest("GET", e.srv.URL+"/v1/users/me", nil)
			req.Header = h
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			assertRejected(t, response{status: res.StatusCode, header: res.Header, body: b}, "two tokens: send one, in the accessToken header or as Authorization: Bearer")
			if strings.Contains(string(b), good) || strings.Contains(string(b), other) {
				t.Errorf("%s: the response repeats a token", name)
			}
		}
		// The same token in both headers is one token.
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/users/me", nil)
		req.Header = http.Header{"Accesstoken": {good}, "Authorization": {"Bearer " + good}}
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("the same token in both headers: %d, want 200", res.StatusCode)
		}
	})
	t.Run("expired and not yet valid", func(t *testing.T) {
		tok := e.mint(alice, ordersPkg)
		if res := e.usersMe(tok); res.status != http.StatusOK {
			t.Fatalf("fresh token: %d", res.status)
		}
		e.clock.Advance(30*time.Minute + token.DefaultLeeway)
		assertRejected(t, e.usersMe(tok), "token has expired")
		// Minted "in the future" from the service's point of view: a clock
		// set back by more than the leeway.
		future := e.mint(alice, ordersPkg)
		e.clock.Advance(-time.Minute - token.DefaultLeeway)
		assertRejected(t, e.usersMe(future), "token is invalid")
	})
	if logs := e.logText(); strings.Contains(logs, good) || strings.Contains(logs, e.hostKey) || strings.Contains(logs, e.adminKey) {
		t.Error("a token or API key appears in the logs")
	}
}

func assertRejected(t *testing.T, res response, msg string) {
	t.Helper()
	if res.status != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401: %s", res.status, res.body)
	}
	if code := res.errorCode(t); code != "InvalidToken" {
		t.Errorf("code = %q, want InvalidToken", code)
	}
	if got := res.json(t)["error"].(map[string]any)["message"]; got != msg {
		t.Errorf("message = %q, want %q", got, msg)
	}
	if h := res.header.Get("WWW-Authenticate"); h != `Bearer error="invalid_token"` {
		t.Errorf("WWW-Authenticate = %q", h)
	}
}

func TestMintToken(t *testing.T) {
	e := newEnv(t)
	body := `{"userId":"` + alice + `","actionPackageId":"` + ordersPkg + `"}`
	res := e.do("POST", "/v1/tokens", bearer(e.hostKey), body)
	if res.status != http.StatusCreated {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	m := res.json(t)
	if m["expiresIn"].(float64) != 1800 {
		t.Errorf("expiresIn = %v, want 1800", m["expiresIn"])
	}
	exp, err := time.Parse(time.RFC3339, m["expiresAt"].(string))
	if err != nil || !exp.Equal(e.clock.Now().Add(30*time.Minute)) {
		t.Errorf("expiresAt = %v (%v), want now+30m", m["expiresAt"], err)
	}

	tests := []struct {
		name   string
		hdr    map[string]string
		body   string
		status int
		code   string
		msg    string
	}{
		{"no key", nil, body, 401, "Unauthorized", "an API key is required"},
		{"wrong key", bearer("cgk_wrong"), body, 401, "Unauthorized", "API key is not valid"},
		{"resource-server key", bearer(e.rsKey), body, 403, "Forbidden", "resource-server"},
		{"malformed JSON", bearer(e.hostKey), `{"userId":`, 400, "InvalidRequest", "body:"},
		{"unknown field", bearer(e.hostKey), `{"userId":"` + alice + `","actionPackageId":"` + ordersPkg + `","admin":true}`, 400, "InvalidRequest", "admin: unknown field"},
		{"bad user id", bearer(e.hostKey), `{"userId":"alice","actionPackageId":"` + ordersPkg + `"}`, 400, "InvalidRequest", "userId:"},
		{"bad package id", bearer(e.hostKey), `{"userId":"` + alice + `","actionPackageId":"orders"}`, 400, "InvalidRequest", "actionPackageId:"},
		{"unknown user", bearer(e.hostKey), `{"userId":"11111111-2222-4333-8444-555555555555","actionPackageId":"` + ordersPkg + `"}`, 404, "NotFound", "userId: no such user"},
		{"unknown package", bearer(e.hostKey), `{"userId":"` + alice + `","actionPackageId":"com.nope.card"}`, 404, "NotFound", "actionPackageId: no such action package"},
		{"huge body", bearer(e.hostKey), `{"userId":"` + strings.Repeat("a", 1<<20) + `"}`, 413, "TooLarge", "larger than"},
		{"not JSON", map[string]string{"Authorization": "Bearer " + e.hostKey, "Content-Type": "text/plain"}, body, 400, "InvalidRequest", "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("POST", "/v1/tokens", tt.hdr, tt.body)
			if res.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", res.status, tt.status, res.body)
			}
			if code := res.errorCode(t); code != tt.code {
				t.Errorf("code = %q, want %q", code, tt.code)
			}
			if msg := res.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, tt.msg) {
				t.Errorf("message = %q, want it to mention %q", msg, tt.msg)
			}
		})
	}
	t.Run("disabled user gets no token", func(t *testing.T) {
		e.do("POST", "/v1/admin/users/"+bob+"/disable", bearer(e.adminKey), "")
		res := e.do("POST", "/v1/tokens", bearer(e.hostKey), `{"userId":"`+bob+`","actionPackageId":"`+ordersPkg+`"}`)
		if res.status != http.StatusForbidden {
			t.Fatalf("status = %d, want 403: %s", res.status, res.body)
		}
	})
}

func TestHugeHeaderIs431(t *testing.T) {
	e := newEnv(t)
	res := e.do("GET", "/v1/users/me", map[string]string{"accessToken": strings.Repeat("x", 2*httpserver.MaxHeaderBytes)}, "")
	if res.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status = %d, want 431", res.status)
	}
}

// jwksKeys fetches the published keys, as an offline verifier would.
func jwksKeys(t *testing.T, e *env) token.StaticKeys {
	t.Helper()
	res := e.do("GET", "/.well-known/jwks.json", nil, "")
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(res.body, &set); err != nil {
		t.Fatalf("jwks: %v: %s", err, res.body)
	}
	keys := token.StaticKeys{}
	for _, k := range set.Keys {
		if k.Algorithm != "EdDSA" || k.Use != "sig" || !k.IsPublic() {
			t.Errorf("key %s: alg %q use %q public %v", k.KeyID, k.Algorithm, k.Use, k.IsPublic())
		}
		keys[k.KeyID] = k.Key.(ed25519.PublicKey)
	}
	return keys
}

func TestDiscoveryAndOfflineVerification(t *testing.T) {
	e := newEnv(t)
	d := e.do("GET", "/.well-known/openid-configuration", nil, "").json(t)
	if d["issuer"] != e.svc.Issuer() || d["jwks_uri"] != e.svc.Issuer()+"/.well-known/jwks.json" ||
		d["introspection_endpoint"] != e.svc.Issuer()+"/oauth2/introspect" || d["userinfo_endpoint"] != e.svc.Issuer()+"/v1/users/me" {
		t.Errorf("discovery = %v", d)
	}
	tok := e.mint(alice, ordersPkg)
	v := &token.Verifier{Issuer: e.svc.Issuer(), Keys: jwksKeys(t, e), Now: e.clock.Now}
	c, err := v.Verify(tok)
	if err != nil {
		t.Fatalf("offline verify with the published JWKS: %v", err)
	}
	if c.UserID != alice || c.ActionPackageID != ordersPkg {
		t.Errorf("claims = %+v", c)
	}
}

func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	oldKid := e.svc.Keys().Signer().KeyID()
	old := e.mint(alice, ordersPkg)
	res := e.do("POST", "/v1/admin/keys/rotate", bearer(e.adminKey), "")
	if res.status != http.StatusCreated {
		t.Fatalf("rotate: %d %s", res.status, res.body)
	}
	body := res.json(t)
	newKid := body["kid"].(string)
	if newKid == oldKid {
		t.Fatal("rotation kept the kid")
	}
	if want := e.clock.Now().Add(keyring.DefaultRotationDelay).Format(time.RFC3339); body["activatesAt"] != want {
		t.Errorf("activatesAt = %v, want %s", body["activatesAt"], want)
	}
	// The new key is published at once but signs only after the delay, so
	// that every verifier has fetched it before it meets one of its tokens.
	if _, ok := jwksKeys(t, e)[newKid]; !ok {
		t.Error("the next key is not published")
	}
	if kid := headerKid(t, e.mint(alice, ordersPkg)); kid != oldKid {
		t.Errorf("token minted before the activation: kid %s, want the old %s", kid, oldKid)
	}
	e.clock.Advance(keyring.DefaultRotationDelay)
	fresh := e.mint(alice, ordersPkg)
	if kid := headerKid(t, fresh); kid != newKid {
		t.Errorf("new token kid = %s, want %s", kid, newKid)
	}
	for name, tok := range map[string]string{"old": old, "new": fresh} {
		if res := e.usersMe(tok); res.status != http.StatusOK {
			t.Errorf("%s token after rotation: %d %s", name, res.status, res.body)
		}
	}
	keys := jwksKeys(t, e)
	if _, ok := keys[oldKid]; !ok {
		t.Error("old key not published while its tokens live")
	}
	// Once every token the old key signed has expired, it is withdrawn.
	e.clock.Advance(30*time.Minute + token.DefaultLeeway + time.Second)
	if err := e.svc.Keys().Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys = jwksKeys(t, e)
	if _, ok := keys[oldKid]; ok {
		t.Error("old key still published after its tokens expired")
	}
	if _, ok := keys[newKid]; !ok {
		t.Error("active key not published")
	}
}

// TestImmediateKeyRotation is the rotation for a compromised key: with
// delaySeconds 0 the new key signs at once. Bad delays are 400s.
func TestImmediateKeyRotation(t *testing.T) {
	e := newEnv(t)
	res := e.do("POST", "/v1/admin/keys/rotate", map[string]string{"Authorization": "Bearer " + e.adminKey, "Content-Type": "application/json"}, `{"delaySeconds":0}`)
	if res.status != http.StatusCreated {
		t.Fatalf("rotate: %d %s", res.status, res.body)
	}
	newKid := res.json(t)["kid"].(string)
	if kid := headerKid(t, e.mint(alice, ordersPkg)); kid != newKid {
		t.Errorf("token after an immediate rotation: kid %s, want %s", kid, newKid)
	}
	for _, body := range []string{`{"delaySeconds":-1}`, `{"delaySeconds":86401}`, `{"delay":"5m"}`, `[]`} {
		res := e.do("POST", "/v1/admin/keys/rotate", map[string]string{"Authorization": "Bearer " + e.adminKey, "Content-Type": "application/json"}, body)
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), `"code"`) {
			t.Errorf("rotate with %s: %d %s", body, res.status, res.body)
		}
	}
	if n := len(e.svc.Keys().Keys()); n != 2 {
		t.Errorf("%d keys after refused rotations, want 2", n)
	}
}

func headerKid(t *testing.T, raw string) string {
	t.Helper()
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var h map[string]any
	json.Unmarshal(b, &h)
	return h["kid"].(string)
}

func introspect(e *env, key, tok string) response {
	return e.do("POST", "/oauth2/introspect", map[string]string{
		"Authorization": "Bearer " + key, "Content-Type": "application/x-www-form-urlencoded",
	}, url.Values{"token": {tok}}.Encode())
}

func TestIntrospection(t *testing.T) {
	e := newEnv(t)
	tok := e.mint(alice, ordersPkg)
	got := introspect(e, e.rsKey, tok).json(t)
	if got["active"] != true || got["sub"] != alice || got["apid"] != ordersPkg || got["iss"] != e.svc.Issuer() || got["token_type"] != token.Type {
		t.Errorf("active token = %v", got)
	}
	for name, bad := range map[string]string{"junk": "junk", "forged": tok[:len(tok)-4] + "AAAA"} {
		res := introspect(e, e.rsKey, bad)
		if res.status != http.StatusOK || string(res.body) != "{\"active\":false}\n" {
			t.Errorf("%s: %d %s, want exactly {\"active\":false}", name, res.status, res.body)
		}
	}
	// HTTP Basic with the key as password works too (RFC 7662 clients).
	req, _ := http.NewRequest("POST", e.srv.URL+"/oauth2/introspect", strings.NewReader("token="+tok))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("rs", e.rsKey)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Errorf("basic auth: %v %v", res.StatusCode, err)
	}
	if res := introspect(e, e.rsKey, strings.Repeat("a", 9<<10)); res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("9 KiB body: %d, want 413", res.status)
	}
	if res := introspect(e, "", tok); res.status != 401 {
		t.Errorf("no credential: %d, want 401", res.status)
	}
	if res := introspect(e, e.hostKey, tok); res.status != 403 {
		t.Errorf("host key: %d, want 403", res.status)
	}
	// Throttled: the env allows a burst of 5 per client; 3 are spent above.
	var limited response
	for range 10 {
		if limited = introspect(e, e.rsKey, tok); limited.status == http.StatusTooManyRequests {
			break
		}
	}
	if limited.status != http.StatusTooManyRequests || limited.header.Get("Retry-After") == "" {
		t.Fatalf("after the burst: %d Retry-After %q, want 429 with Retry-After", limited.status, limited.header.Get("Retry-After"))
	}
}

func TestRevocationOfEachKind(t *testing.T) {
	e := newEnv(t)
	admin := bearer(e.adminKey)
	revoke := func(body string) response {
		t.Helper()
		res := e.do("POST", "/v1/revocations", admin, body)
		if res.status != http.StatusCreated {
			t.Fatalf("revoke %s: %d %s", body, res.status, res.body)
		}
		return res
	}
	t.Run("one token by jti", func(t *testing.T) {
		a, b := e.mint(alice, ordersPkg), e.mint(alice, ordersPkg)
		v := &token.Verifier{Issuer: e.svc.Issuer(), Keys: jwksKeys(t, e), Now: e.clock.Now}
		c, _ := v.Verify(a)
		revoke(`{"jti":"` + c.ID + `"}`)
		assertRejected(t, e.usersMe(a), "token is invalid")
		if introspect(e, e.rsKey, a).json(t)["active"] != false {
			t.Error("introspection still says active")
		}
		if res := e.usersMe(b); res.status != 200 {
			t.Errorf("another token of the same user: %d", res.status)
		}
	})
	t.Run("every token of a user", func(t *testing.T) {
		a, b := e.mint(alice, ordersPkg), e.mint(alice, surveyPkg)
		other := e.mint(bob, ordersPkg)
		revoke(`{"userId":"` + alice + `"}`)
		assertRejected(t, e.usersMe(a), "token is invalid")
		assertRejected(t, e.usersMe(b), "token is invalid")
		if res := e.usersMe(other); res.status != 200 {
			t.Errorf("another user's token: %d", res.status)
		}
		e.clock.Advance(time.Second) // iat has one-second resolution
		if res := e.usersMe(e.mint(alice, ordersPkg)); res.status != 200 {
			t.Errorf("a token minted after the revocation: %d %s", res.status, res.body)
		}
	})
	t.Run("a whole package", func(t *testing.T) {
		a := e.mint(bob, surveyPkg)
		revoke(`{"actionPackageId":"` + surveyPkg + `"}`)
		assertRejected(t, e.usersMe(a), "token is invalid")
		res := e.do("POST", "/v1/tokens", bearer(e.hostKey), `{"userId":"`+bob+`","actionPackageId":"`+surveyPkg+`"}`)
		if res.status != http.StatusForbidden {
			t.Errorf("mint for a revoked package: %d, want 403", res.status)
		}
	})
	t.Run("feed", func(t *testing.T) {
		res := e.do("GET", "/v1/revocations?since=0", bearer(e.rsKey), "")
		var page struct {
			Revocations []struct {
				Seq           int64
				Kind, Subject string
			}
			Next int64
		}
		if err := json.Unmarshal(res.body, &page); err != nil {
			t.Fatalf("%v: %s", err, res.body)
		}
		var kinds []string
		for _, r := range page.Revocations {
			kinds = append(kinds, r.Kind)
		}
		if !slices.Equal(kinds, []string{"token", "user", "package"}) || page.Next != page.Revocations[2].Seq {
			t.Errorf("feed = %+v", page)
		}
		res = e.do("GET", "/v1/revocations?since="+jsonNum(page.Next), bearer(e.rsKey), "")
		if strings.TrimSpace(string(res.body)) != `{"revocations":[],"next":`+jsonNum(page.Next)+`}` {
			t.Errorf("nothing new: %s", res.body)
		}
		if res := e.do("GET", "/v1/revocations?since=-1", bearer(e.rsKey), ""); res.status != 400 {
			t.Errorf("since=-1: %d, want 400", res.status)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		for body, want := range map[string]int{
			`{}`: 400, `{"jti":"a","userId":"` + alice + `"}`: 400, `{"userId":"nobody"}`: 400,
			`{"userId":"11111111-2222-4333-8444-555555555555"}`: 404, `{"token":"junk"}`: 400,
			// A jti that is not of the form this issuer mints is no token's.
			`{"jti":"x"}`: 400, `{"jti":"3q2-7wQXxW1sTQ2aY8Jb0g=="}`: 400, `{"jti":"` + strings.Repeat("a", 128) + `"}`: 400,
			// Well-formed, but never minted here: its tag is not this
			// installation's.
			`{"jti":"3q2-7wQXxW1sTQ2aY8Jb0g"}`: 404,
		} {
			if res := e.do("POST", "/v1/revocations", admin, body); res.status != want {
				t.Errorf("%s: %d, want %d: %s", body, res.status, want, res.body)
			}
		}
		if res := e.do("POST", "/v1/revocations", bearer(e.hostKey), `{"jti":"x"}`); res.status != 403 {
			t.Errorf("host key revoking: %d, want 403", res.status)
		}
	})
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }
