package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// TestMedianInterval: the interval is the k-th smallest to the k-th
// largest value for the largest k that still holds the median with 95 %
// confidence, whatever order the values come in.
func TestMedianInterval(t *testing.T) {
	seq := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(n - i) // descending: the function must sort
		}
		return v
	}
	for _, tc := range []struct {
		n             int
		lo, hi, level float64
	}{
		{5, 1, 5, 0.9375},  // too few for 95 %: the range, at 1 - 2/32
		{6, 1, 6, 0.96875}, // the first n that reaches 95 %
		{10, 2, 9, 0.9785}, // 1 - 2·11/1024
		{30, 10, 21, 0.9572},
	} {
		lo, hi, level := medianInterval(seq(tc.n))
		if lo != tc.lo || hi != tc.hi || math.Abs(level-tc.level) > 0.0005 {
			t.Errorf("n=%d: [%v, %v] at %.4f, want [%v, %v] at %.4f", tc.n, lo, hi, level, tc.lo, tc.hi, tc.level)
		}
	}
	if _, _, level := medianInterval([]float64{1, math.NaN()}); level != 0 {
		t.Errorf("one value (and a NaN): level %v, want 0", level)
	}
}

// TestBudgets: the verdicts follow the interval, not the median alone: a
// median inside the budget whose interval crosses the limit is "within
// the noise", and the A/A row gets figures but no verdict.
func TestBudgets(t *testing.T) {
	const n = 10
	spread := func(mid, half float64) []float64 { // n values evenly over mid ± half
		v := make([]float64, n)
		for i := range v {
			v[i] = mid - half + 2*half*float64(i)/float64(n-1)
		}
		return v
	}
	within := map[key]rounds{
		{0, 1, "adapter-remote"}:  {ratio: spread(0.97, 0.05), cpu: spread(5, 2)},
		{0, 1, "adapter-local"}:   {ratio: spread(0.85, 0.05), cpu: spread(30, 2)},
		{0, 1, "reverseproxy-2"}:  {ratio: spread(1, 0.1), cpu: spread(0, 5)},
		{0, 16, "adapter-remote"}: {ratio: spread(1.2, 0.1), cpu: spread(-10, 2), p99: spread(0.3, 0.1)},
		{0, 16, "adapter-local"}:  {ratio: spread(1.2, 0.1), cpu: spread(-10, 2), p99: spread(0.6, 0.05)},
		{0, 16, "reverseproxy-2"}: {ratio: spread(1, 0.1), cpu: spread(0, 5), p99: spread(0, 0.1)},
	}
	var out bytes.Buffer
	budgets(&out, []int{1, 16}, []string{"reverseproxy", "reverseproxy-2", "adapter-remote", "adapter-local"}, within)
	text := out.String()
	row := func(prefix string) []string {
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, prefix) {
				return strings.Split(l, " | ")
			}
		}
		t.Fatalf("no row %q in:\n%s", prefix, text)
		return nil
	}
	for _, tc := range []struct {
		row           string
		remote, local string
	}{
		{"| throughput ≥ 0.95× bare | 1 |", "within the noise", "**not met**"},
		{"| throughput ≥ 0.95× bare | 16 |", "met", "met"},
		{"| CPU per request ≤ bare + 10 µs | 1 |", "met", "**not met**"},
		{"| p99 ≤ bare + 0.5 ms | 16 |", "met", "**not met**"},
	} {
		cells := row(tc.row)
		if len(cells) != 5 {
			t.Fatalf("%s: %d cells, want 5: %q", tc.row, len(cells), cells)
		}
		if !strings.HasSuffix(cells[2], " "+tc.remote) || !strings.HasSuffix(cells[3], " "+tc.local) {
			t.Errorf("%s: remote %q, local %q; want verdicts %q and %q", tc.row, cells[2], cells[3], tc.remote, tc.local)
		}
		if strings.Contains(cells[4], "met") || strings.Contains(cells[4], "noise") {
			t.Errorf("%s: the A/A cell %q has a verdict", tc.row, cells[4])
		}
	}
	if strings.Contains(text, "| p99 ≤ bare + 0.5 ms | 1 |") {
		t.Errorf("the p99 budget is for c = 16 only:\n%s", text)
	}
	// 10 rounds: the 2nd to the 9th, at 97 %.
	if !strings.Contains(text, "0.97 [0.93 to 1.01] within the noise") || !strings.Contains(text, "97 % confidence") {
		t.Errorf("the interval or its level is not the 2nd to 9th of 10 rounds at 97 %%:\n%s", text)
	}
}
