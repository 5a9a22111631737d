package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// rounds are one target's per-round differences to the baseline at one
// concurrency: throughput as a ratio, CPU per request in µs and p99 in ms
// as differences.
type rounds struct{ ratio, cpu, p99 []float64 }

// budget is one of issue 13's budgets for the adapter against the bare
// ReverseProxy measured in the same round.
type budget struct {
	name    string
	c       int // 0: at every concurrency
	limit   float64
	atLeast bool // the figure must be at least limit (else at most)
	of      func(rounds) []float64
	format  string
}

var adapterBudgets = []budget{
	{name: "throughput ≥ 0.95× bare", limit: 0.95, atLeast: true, of: func(r rounds) []float64 { return r.ratio }, format: "%.2f"},
	{name: "CPU per request ≤ bare + 10 µs", limit: 10, of: func(r rounds) []float64 { return r.cpu }, format: "%+.1f"},
	{name: "p99 ≤ bare + 0.5 ms", c: 16, limit: 0.5, of: func(r rounds) []float64 { return r.p99 }, format: "%+.3f"},
}

// medianInterval is a confidence interval for the median of the
// distribution v was drawn from that assumes nothing of its shape: the
// k-th smallest and the k-th largest of v, for the largest k whose
// interval still covers the median with probability at least 95 % (the
// binomial distribution of how many values fall below the median). Below
// six values no k reaches 95 %, and the interval is the whole range, with
// the level it does reach. level is 0 when there are fewer than two.
func medianInterval(v []float64) (lo, hi, level float64) {
	v = slices.DeleteFunc(slices.Clone(v), func(x float64) bool { return math.IsNaN(x) })
	n := len(v)
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	slices.Sort(v)
	k := 1
	for k+1 <= n/2 && coverage(n, k+1) >= 0.95 {
		k++
	}
	return v[k-1], v[n-k], coverage(n, k)
}

// coverage is the probability that [v(k), v(n-k+1)] of n values holds
// their distribution's median: 1 - 2·P(B ≤ k-1), B ~ Binomial(n, 1/2).
func coverage(n, k int) float64 {
	p := 0.0
	for j := 0; j < k; j++ {
		p += binomial(n, j)
	}
	return max(0, 1-2*p/math.Pow(2, float64(n)))
}

func binomial(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// verdict judges a budget by the interval: met when all of it is within
// the limit, not met when all of it is outside, and otherwise the run
// cannot tell.
func (b budget) verdict(lo, hi float64) string {
	good := func(x float64) bool {
		if b.atLeast {
			return x >= b.limit
		}
		return x <= b.limit
	}
	switch {
	case good(lo) && good(hi):
		return "met"
	case !good(lo) && !good(hi):
		return "**not met**"
	}
	return "within the noise"
}

// budgets prints, for each adapter target measured, where it stands
// against each budget at each concurrency, and the A/A row's same figures
// for scale.
func budgets(out io.Writer, cs []int, names []string, within map[key]rounds) {
	var cols []string
	for _, n := range []string{"adapter-remote", "adapter-local", "reverseproxy-2"} {
		if slices.Contains(names, n) {
			cols = append(cols, n)
		}
	}
	if len(cols) == 0 || cols[0] == "reverseproxy-2" {
		return // no adapter measured
	}
	level := 0.0
	var rows []string
	for _, b := range adapterBudgets {
		for _, c := range cs {
			if b.c != 0 && b.c != c {
				continue
			}
			row := fmt.Sprintf("| %s | %d |", b.name, c)
			for _, n := range cols {
				r, ok := within[key{0, c, n}]
				if !ok {
					row += " — |"
					continue
				}
				v := b.of(r)
				lo, hi, l := medianInterval(v)
				if level == 0 || l < level {
					level = l
				}
				cell := fmt.Sprintf(b.format+" ["+b.format+" to "+b.format+"]", median(v), lo, hi)
				if n != "reverseproxy-2" {
					cell += " " + b.verdict(lo, hi)
				}
				row += " " + cell + " |"
			}
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		return
	}
	if level == 0 {
		fmt.Fprint(out, "Against the budgets: one round gives no interval; run several (-rounds) to judge them.\n\n")
		return
	}
	fmt.Fprintf(out, "Against the budgets: the median over rounds of each round's figure against `%s`, and in brackets the interval that holds the median of such rounds with %.0f %% confidence (the k-th smallest to the k-th largest round, which assumes nothing of their distribution). A budget is met when the whole interval is within it, not met when the whole interval is outside it, and within the noise otherwise.", baseline, math.Floor(100*level))
	if slices.Contains(cols, "reverseproxy-2") {
		fmt.Fprint(out, " `reverseproxy-2` (the baseline against itself) shows how wide the noise is.")
	}
	fmt.Fprint(out, "\n\n| budget | c | "+strings.Join(cols, " | ")+" |\n| --- | ---: |"+strings.Repeat(" --- |", len(cols))+"\n")
	fmt.Fprintln(out, strings.Join(rows, "\n"))
	fmt.Fprintln(out)
}
