package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSmokeMemory runs the script with few tokens so that CI proves it
// still works: a row per stage, each with a nonzero RSS and peak for the
// issuer and the adapter. The figures themselves are not checked.
func TestSmokeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the smoke run builds cardgate and starts the issuer and the adapter")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	if err := Run(ctx, Options{Tokens: 500, Junk: 500}, &out, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	text := out.String()
	for _, want := range []string{"`go run ./bench/memory -tokens 500 -junk 500`", "Machine: ",
		"| MiB | issuer RSS | issuer peak | adapter RSS | adapter peak |"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	num := `([0-9]+\.[0-9])`
	for _, label := range []string{"before", "after 500 distinct valid tokens", "then 500 distinct junk tokens"} {
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
}

func TestJunkIsDistinctAndWellFormed(t *testing.T) {
	model := "aGVhZA.Ym9keQ." + strings.Repeat("A", 86)
	a, b := junk(model, 1), junk(model, 2)
	if a == b || len(a) != len(model) || !strings.HasPrefix(a, "aGVhZA.Ym9keQ.") || a == model {
		t.Errorf("junk(1) = %q, junk(2) = %q", a, b)
	}
}
