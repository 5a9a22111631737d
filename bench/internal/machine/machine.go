// Package machine describes, for the benchmark commands' reports, the
// machine a run was made on and when: a figure read without them cannot
// be compared with another.
package machine

import (
	"os"
	"strings"
	"time"
)

// CPU is the processor's model name from /proc/cpuinfo, or "?".
func CPU() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// Kernel is "Linux" and the kernel's release, or "" where there is no
// /proc/sys/kernel/osrelease.
func Kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// Span is when a run was made, from its start to its end, in UTC: a run
// takes minutes, and the machine's other work may change between the two.
// The date is written once when both fall on the same day.
func Span(start, end time.Time) string {
	start, end = start.UTC(), end.UTC()
	if start.Format(time.DateOnly) == end.Format(time.DateOnly) {
		return start.Format("2006-01-02 15:04") + "–" + end.Format("15:04") + " UTC"
	}
	return start.Format("2006-01-02 15:04") + " – " + end.Format("2006-01-02 15:04") + " UTC"
}
