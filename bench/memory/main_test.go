package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSmokeMemory runs the script with few tokens, with the adapter in
// each mode, so that CI proves it still works: when it ran, from start to
// end, and a row per stage, each with a nonzero RSS and peak for the
// issuer and the adapter. The figures
// themselves are not checked.
func TestSmokeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the smoke run builds cardgate and starts the issuer and the adapter")
	}
	for _, mode := range []string{"remote", "local"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out, log bytes.Buffer
			if err := Run(ctx, Options{Tokens: 500, Junk: 500, Mode: mode}, &out, &log); err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			text := out.String()
			cmd := "`go run ./bench/memory -tokens 500 -junk 500`"
			if mode == "local" {
				cmd = "`go run ./bench/memory -tokens 500 -junk 500 -mode local`"
			}
			for _, want := range []string{cmd, "Machine: ", "adapter in " + mode + " mode",
				"| MiB | issuer RSS | issuer peak | adapter RSS | adapter peak |"} {
				if !strings.Contains(text, want) {
					t.Errorf("output lacks %q:\n%s", want, text)
				}
			}
			if !regexp.MustCompile(`(?m)^Run of \d{4}-\d\d-\d\d \d\d:\d\d(–| – \d{4}-\d\d-\d\d )\d\d:\d\d UTC: `).MatchString(text) {
				t.Errorf("output does not say when the run started and ended:\n%s", text)
			}
			num := `([0-9]+\.[0-9])`
			for _, label := range []string{"before", "after 500 distinct valid tokens", "then 125 distinct junk tokens",
				"then 250 distinct junk tokens", "then 375 distinct junk tokens", "then 500 distinct junk tokens"} {
				m := regexp.MustCompile(`(?m)^\| ` + label + strings.Repeat(` \| `+num, 4) + ` \|$`).FindStringSubmatch(text)
				if m == nil {
					t.Errorf("no row %q:\n%s", label, text)
					continue
				}
				for _, v := range m[1:] {
					if f, _ := strconv.ParseFloat(v, 64); f <= 0 {
						t.Errorf("row %q has a zero figure: %s", label, m[0])
					}
				}
			}
		})
	}
}

// Every junk token is distinct, and each kind is what junk says: only
// the part named differs from the model.
func TestJunkKinds(t *testing.T) {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"EdDSA","kid":"k1","typ":"cardgate+jwt"}`))
	payload := enc.EncodeToString([]byte(`{"iss":"http://127.0.0.1:1","sub":"u","jti":"AAAAAAAAAAAAAAAAAAAAAA"}`))
	sig := strings.Repeat("A", 86)
	j, err := newJunker(header + "." + payload + "." + sig)
	if err != nil {
		t.Fatal(err)
	}
	field := func(seg, key string) any {
		b, err := enc.DecodeString(seg)
		var m map[string]any
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			t.Fatalf("segment %q: %v", seg, err)
		}
		return m[key]
	}
	seen := map[string]bool{}
	for i := range 400 {
		tok := j.junk(i)
		if seen[tok] {
			t.Fatalf("junk %d repeats an earlier one: %s", i, tok)
		}
		seen[tok] = true
		p := strings.Split(tok, ".")
		kind := junkKinds[i%4]
		var ok bool
		switch kind {
		case "malformed":
			ok = len(p) == 1
		case "bad signature":
			ok = len(p) == 3 && p[0] == header && p[1] == payload && p[2] != sig && len(p[2]) == len(sig)
		case "unknown kid":
			ok = len(p) == 3 && p[1] == payload && p[2] == sig && field(p[0], "kid") != "k1" && field(p[0], "alg") == "EdDSA"
		case "unknown jti":
			ok = len(p) == 3 && p[0] == header && p[2] == sig && field(p[1], "jti") != "AAAAAAAAAAAAAAAAAAAAAA" &&
				len(field(p[1], "jti").(string)) == 22 && field(p[1], "sub") == "u"
		}
		if !ok {
			t.Errorf("junk %d is no %s token: %s", i, kind, tok)
		}
	}
}
