package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

func testSecrets(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	names, err := s.SecretNames(ctx)
	mustOK(t, err)
	if len(names) != 0 {
		t.Fatalf("fresh store has secrets %v", names)
	}
	_, err = s.SealedSecret(ctx, "erp-key")
	wantCode(t, err, cardgate.ENOTFOUND)

	v1, v2 := []byte{1, 2, 3, 0, 255}, []byte("second value")
	mustOK(t, s.PutSealedSecret(ctx, "erp-key", v1, t0))
	mustOK(t, s.PutSealedSecret(ctx, "crm-secret", v1, t0))
	got, err := s.SealedSecret(ctx, "erp-key")
	mustOK(t, err)
	if !bytes.Equal(got, v1) {
		t.Fatalf("SealedSecret = %v, want %v", got, v1)
	}
	// Put replaces.
	mustOK(t, s.PutSealedSecret(ctx, "erp-key", v2, t0.Add(time.Minute)))
	if got, _ := s.SealedSecret(ctx, "erp-key"); !bytes.Equal(got, v2) {
		t.Fatalf("after replace = %q, want %q", got, v2)
	}
	names, err = s.SecretNames(ctx)
	mustOK(t, err)
	if !slices.Equal(names, []string{"crm-secret", "erp-key"}) {
		t.Fatalf("SecretNames = %v, want sorted [crm-secret erp-key]", names)
	}
}

func testAudit(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	var recs []*cardgate.AuditRecord
	for i := range 5 {
		user, conv := u1, ""
		if i%2 == 1 {
			user = u2
		}
		if i >= 2 {
			conv = c1
		}
		recs = append(recs, &cardgate.AuditRecord{
			Time: t0.Add(time.Duration(i) * time.Second), UserID: user, PackageID: p1, ConversationID: conv, Route: "products",
			Method: "GET", Status: 200, UpstreamStatus: 200, Latency: 1500 * time.Microsecond,
			BytesIn: int64(i), BytesOut: 1 << 20,
		})
	}
	recs[4].Status, recs[4].UpstreamStatus, recs[4].ErrorCode, recs[4].ForwardAuth = 403, 0, "Forbidden", true
	mustOK(t, s.AppendAudit(ctx, recs[:3]))
	mustOK(t, s.AppendAudit(ctx, recs[3:]))
	mustOK(t, s.AppendAudit(ctx, nil))
	for i := 1; i < len(recs); i++ {
		if recs[i].ID <= recs[i-1].ID {
			t.Fatalf("IDs %d then %d: want increasing", recs[i-1].ID, recs[i].ID)
		}
	}

	all, err := s.Audit(ctx, cardgate.AuditQuery{})
	mustOK(t, err)
	if len(all) != 5 {
		t.Fatalf("Audit{} = %d records, want 5", len(all))
	}
	if got, want := *all[4], *recs[4]; !got.Time.Equal(want.Time) || fmt.Sprint(withoutTime(got)) != fmt.Sprint(withoutTime(want)) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	for _, tc := range []struct {
		name string
		q    cardgate.AuditQuery
		want []int // indexes into recs
	}{
		{"by user", cardgate.AuditQuery{UserID: u2}, []int{1, 3}},
		{"by package", cardgate.AuditQuery{PackageID: p2}, nil},
		{"since", cardgate.AuditQuery{Since: t0.Add(3 * time.Second)}, []int{3, 4}},
		{"after id", cardgate.AuditQuery{AfterID: recs[1].ID}, []int{2, 3, 4}},
		{"limit", cardgate.AuditQuery{Limit: 2}, []int{0, 1}},
		{"newest", cardgate.AuditQuery{Limit: 2, Newest: true}, []int{3, 4}},
		{"newest of a user", cardgate.AuditQuery{UserID: u1, Limit: 2, Newest: true}, []int{2, 4}},
		{"user and since", cardgate.AuditQuery{UserID: u1, Since: t0.Add(time.Second)}, []int{2, 4}},
		{"by conversation", cardgate.AuditQuery{ConversationID: c1}, []int{2, 3, 4}},
		{"conversation and user", cardgate.AuditQuery{ConversationID: c1, UserID: u2}, []int{3}},
		{"another conversation", cardgate.AuditQuery{ConversationID: u1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Audit(ctx, tc.q)
			mustOK(t, err)
			var ids, want []int64
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			for _, i := range tc.want {
				want = append(want, recs[i].ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("IDs = %v, want %v", ids, want)
			}
		})
	}
}

func withoutTime(r cardgate.AuditRecord) cardgate.AuditRecord {
	r.Time = time.Time{}
	return r
}

// testAuditLargeBatch appends a batch as large as the adapter's (more
// rows than one INSERT takes, and not a multiple of it), whose text
// columns repeat, alternate and change from row to row: every record must
// read back with its own values, its ID and in order.
func testAuditLargeBatch(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	users, pkgs := []string{u1, u1, u2, u1, ""}, []string{p1, p2}
	routes, methods, codes := []string{"products", "products", "orders"}, []string{"GET", "POST", "GET", "DELETE"}, []string{"", "", "Forbidden"}
	recs := make([]*cardgate.AuditRecord, 1030)
	for i := range recs {
		recs[i] = &cardgate.AuditRecord{
			Time: t0.Add(time.Duration(i) * time.Millisecond), UserID: users[i%len(users)], PackageID: pkgs[i/7%len(pkgs)],
			Route: routes[i%len(routes)], Method: methods[i/3%len(methods)], Status: 200 + i%7, UpstreamStatus: i % 600,
			ErrorCode: codes[i%len(codes)], Latency: time.Duration(i) * time.Microsecond, BytesIn: int64(i) << 20,
			BytesOut: int64(i), ForwardAuth: i%5 == 0,
		}
	}
	mustOK(t, s.AppendAudit(ctx, recs))
	for i := 1; i < len(recs); i++ {
		if recs[i].ID != recs[i-1].ID+1 {
			t.Fatalf("IDs %d then %d: want consecutive in one batch", recs[i-1].ID, recs[i].ID)
		}
	}
	var got []*cardgate.AuditRecord
	for after := int64(0); ; {
		page, err := s.Audit(ctx, cardgate.AuditQuery{AfterID: after, Limit: 500})
		mustOK(t, err)
		if len(page) == 0 {
			break
		}
		got, after = append(got, page...), page[len(page)-1].ID
	}
	if len(got) != len(recs) {
		t.Fatalf("read back %d records, want %d", len(got), len(recs))
	}
	for i, r := range recs {
		if !got[i].Time.Equal(r.Time) || fmt.Sprint(withoutTime(*got[i])) != fmt.Sprint(withoutTime(*r)) {
			t.Fatalf("record %d read back as %+v, want %+v", i, *got[i], *r)
		}
	}
}

func testAuditPrune(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	var recs []*cardgate.AuditRecord
	for i := range 10 {
		recs = append(recs, &cardgate.AuditRecord{Time: t0.Add(time.Duration(i) * time.Minute), UserID: u1,
			PackageID: p1, Route: "products", Method: "GET", Status: 200})
	}
	mustOK(t, s.AppendAudit(ctx, recs))
	left := func() []int64 {
		t.Helper()
		got, err := s.Audit(ctx, cardgate.AuditQuery{})
		mustOK(t, err)
		var ids []int64
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		return ids
	}
	idsOf := func(rs []*cardgate.AuditRecord) (ids []int64) {
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}

	// By age, a bounded number per call: the oldest go first.
	n, err := s.PruneAudit(ctx, t0.Add(4*time.Minute), 0, 3)
	mustOK(t, err)
	if got, want := left(), idsOf(recs[3:]); n != 3 || !slices.Equal(got, want) {
		t.Fatalf("pruned %d, left %v; want 3, %v", n, got, want)
	}
	n, err = s.PruneAudit(ctx, t0.Add(4*time.Minute), 0, 100)
	mustOK(t, err)
	if got, want := left(), idsOf(recs[4:]); n != 1 || !slices.Equal(got, want) {
		t.Fatalf("pruned %d, left %v; want 1, %v", n, got, want)
	}
	// By count: the newest keep stay.
	n, err = s.PruneAudit(ctx, t0, 4, 100)
	mustOK(t, err)
	if got, want := left(), idsOf(recs[6:]); n != 2 || !slices.Equal(got, want) {
		t.Fatalf("pruned %d, left %v; want 2, %v", n, got, want)
	}
	// Nothing to do.
	n, err = s.PruneAudit(ctx, t0, 4, 100)
	mustOK(t, err)
	if n != 0 || len(left()) != 4 {
		t.Fatalf("pruned %d of records within the limits", n)
	}
	// New records keep their increasing IDs after a prune.
	more := []*cardgate.AuditRecord{{Time: t0.Add(time.Hour), Method: "GET", Status: 200}}
	mustOK(t, s.AppendAudit(ctx, more))
	if more[0].ID <= recs[9].ID {
		t.Fatalf("ID %d after pruning, want > %d", more[0].ID, recs[9].ID)
	}
}

// UpgradeAudit is the audit record an upgrade test appends before it takes
// the store back to a schema without the conversation (11), for
// CheckAuditAfterUpgrade.
func UpgradeAudit() []*cardgate.AuditRecord {
	return []*cardgate.AuditRecord{{Time: t0, UserID: u1, PackageID: p1, Route: "products", Method: "GET",
		Status: 200, UpstreamStatus: 200, Latency: time.Millisecond, BytesIn: 3, BytesOut: 42}}
}

// CheckAuditAfterUpgrade: the records written before migration 12 are all
// there, as they were, with no conversation; records written after it keep
// theirs and are found by it.
func CheckAuditAfterUpgrade(t *testing.T, s cardgate.Store) {
	t.Helper()
	ctx := t.Context()
	before := UpgradeAudit()
	got, err := s.Audit(ctx, cardgate.AuditQuery{})
	mustOK(t, err)
	if len(got) != len(before) {
		t.Fatalf("%d audit records after the upgrade, want the %d from before it", len(got), len(before))
	}
	for i, r := range got {
		want := *before[i]
		want.ID = r.ID
		if !r.Time.Equal(want.Time) || fmt.Sprint(withoutTime(*r)) != fmt.Sprint(withoutTime(want)) {
			t.Errorf("record %d after the upgrade:\n got %+v\nwant %+v", i, *r, want)
		}
	}
	rec := &cardgate.AuditRecord{Time: t0.Add(time.Hour), UserID: u1, PackageID: p1, ConversationID: c1,
		Route: "products", Method: "GET", Status: 200}
	mustOK(t, s.AppendAudit(ctx, []*cardgate.AuditRecord{rec}))
	got, err = s.Audit(ctx, cardgate.AuditQuery{ConversationID: c1})
	mustOK(t, err)
	if len(got) != 1 || got[0].ID != rec.ID || got[0].ConversationID != c1 {
		t.Errorf("records of conversation %s after the upgrade: %+v, want the one appended", c1, got)
	}
}
