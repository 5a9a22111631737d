package machine

import (
	"testing"
	"time"
)

// TestSpan: a run's time is its start and its end, the date once when
// both fall on the same day (UTC).
func TestSpan(t *testing.T) {
	day := time.Date(2026, 12, 4, 20, 22, 40, 0, time.UTC)
	for _, c := range []struct {
		start, end time.Time
		want       string
	}{
		{day, day.Add(8 * time.Minute), "2026-12-04 20:22–20:30 UTC"},
		{day.In(time.FixedZone("CET", 3600)), day.Add(time.Minute), "2026-12-04 20:22–20:23 UTC"},
		{day.Add(3*time.Hour + 30*time.Minute), day.Add(4 * time.Hour), "2026-12-04 23:52 – 2026-12-05 00:22 UTC"},
	} {
		if got := Span(c.start, c.end); got != c.want {
			t.Errorf("Span(%v, %v) = %q, want %q", c.start, c.end, got, c.want)
		}
	}
}
