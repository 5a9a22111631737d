package main_test

import (
	"bufio"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestHeapFloor: the servers raise GOGC while their heap is small (see
// internal/heapfloor), as their /metrics shows, unless the operator set
// GOGC, which is then left as it is.
func TestHeapFloor(t *testing.T) {
	needBinary(t)
	for _, c := range []struct {
		env  []string
		want func(int) bool
		says string
	}{
		{nil, func(p int) bool { return p > 100 }, "above 100 (the floor)"},
		{[]string{"GOGC=100"}, func(p int) bool { return p == 100 }, "100, as the operator set it"},
		{[]string{"GOGC=50"}, func(p int) bool { return p == 50 }, "50, as the operator set it"},
	} {
		in := newInstall(t) // the issuer's URL is recorded at its first start
		in.env = slices.DeleteFunc(in.env, func(kv string) bool { return strings.HasPrefix(kv, "GOGC=") })
		_, base := in.startIssuer(c.env)
		res, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		p, found := 0, false
		for sc := bufio.NewScanner(res.Body); sc.Scan(); {
			if v, ok := strings.CutPrefix(sc.Text(), "go_gc_gogc_percent "); ok {
				p, err = strconv.Atoi(v)
				found = err == nil
			}
		}
		res.Body.Close()
		if !found {
			t.Fatalf("env %q: no go_gc_gogc_percent in the issuer's /metrics", c.env)
		}
		if !c.want(p) {
			t.Errorf("env %q: go_gc_gogc_percent %d, want %s", c.env, p, c.says)
		}
	}
}
