package forms_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/forms"
	"github.com/cardgate/cardgate/postgres"
	"github.com/cardgate/cardgate/postgres/pgtest"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

// Benchmark sizes: the summary is of a form with benchResponses responses
// from benchMembers members (several each).
const (
	benchMembers   = 1000
	benchResponses = 10_000
)

// BenchmarkForms measures, on each store, posting a response
// (forms.Respond: the answers checked, the response stored with the
// membership, expiry and one-per-user rules) and a summary of a form with
// 10,000 responses (forms.Results: the viewer's membership, the members,
// every response, and the flat, processed and aggregated summaries),
// each beside the bare store read of a form by ID (Store.Form) in the
// same run. docs/BENCHMARKS.md has the command and the ratios.
func BenchmarkForms(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchForms(b, sqlitetest.Open(b)) })
	b.Run("postgres", func(b *testing.B) {
		db, err := postgres.Open(b.Context(), pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		benchForms(b, db)
	})
}

func benchForms(b *testing.B, s cardgate.Store) {
	ctx := b.Context()
	now := time.Now().UTC()
	f := testForm(true, false)
	f.Expiry, f.Visibility = time.Time{}, cardgate.ResultsAll
	summarised := testForm(true, false)
	summarised.ID, summarised.Expiry, summarised.Visibility = "f0000000-0000-4000-8000-000000000002", time.Time{}, cardgate.ResultsAll

	users := make([]string, benchMembers)
	if err := s.CreatePackage(ctx, &cardgate.ActionPackage{ID: f.PackageID, DisplayName: "Lunch", CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	if err := s.CreateConversation(ctx, &cardgate.Conversation{ID: conv, Title: "Everyone", CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	for i := range users {
		users[i] = fmt.Sprintf("b0000000-0000-4000-8000-%012d", i)
		if i == 0 {
			users[i] = alice
		}
		u := &cardgate.User{ID: users[i], Name: "U", PhoneNumber: fmt.Sprintf("+1415%07d", 5550000+i), CreatedAt: now, UpdatedAt: now}
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		if err := s.PutMember(ctx, &cardgate.Member{ConversationID: conv, UserID: users[i], Role: cardgate.MemberMember, AddedAt: now}); err != nil {
			b.Fatal(err)
		}
	}
	for _, form := range []*cardgate.Form{f, summarised} {
		if err := s.CreateForm(ctx, form); err != nil {
			b.Fatal(err)
		}
	}
	answers := map[int]string{0: "1", 1: "[0,2]", 2: "3", 3: "no onions"}
	// Four writers fill the summarised form: PostgreSQL takes them in
	// parallel; SQLite queues them on its one writer.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < benchResponses; i += 4 {
				sub := forms.Submission{UserID: users[i%benchMembers], Answers: answers}
				if _, err := forms.Respond(ctx, s, summarised, sub, fmt.Sprintf("c0000000-0000-4000-8000-%012d", i), now); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}

	// Rounds of the three, interleaved, so that a busy machine slows the
	// baseline and the measured alike; compare within a round.
	for range benchRounds {
		benchRound(b, s, f, summarised, users, answers, now)
	}
}

// benchRounds is how many times the three benchmarks run, in turn.
const benchRounds = 5

func benchRound(b *testing.B, s cardgate.Store, f, summarised *cardgate.Form, users []string, answers map[int]string, now time.Time) {
	ctx := b.Context()
	b.Run("form-read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Form(ctx, f.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("respond", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sub := forms.Submission{UserID: users[i%benchMembers], Answers: answers}
			if _, err := forms.Respond(ctx, s, f, sub, cardgate.NewID(), now); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("summary-10000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sum, err := forms.Results(ctx, s, alice, summarised, now)
			if err != nil {
				b.Fatal(err)
			}
			if sum.Processed.TotalResponseCount != benchResponses {
				b.Fatalf("summary counts %d responses", sum.Processed.TotalResponseCount)
			}
		}
	})
}

// BenchmarkSummarize is the summaries alone, of 10,000 responses from
// 1,000 members held in memory: the part of summary-10000 that is not
// the store's.
func BenchmarkSummarize(b *testing.B) {
	f := testForm(true, false)
	ms := make([]*cardgate.Member, benchMembers)
	for i := range ms {
		ms[i] = &cardgate.Member{ConversationID: conv, UserID: fmt.Sprintf("b0000000-0000-4000-8000-%012d", i), Role: cardgate.MemberMember}
	}
	rs := make([]*cardgate.FormResponse, benchResponses)
	for i := range rs {
		rs[i] = &cardgate.FormResponse{ID: fmt.Sprintf("c0000000-0000-4000-8000-%012d", i), FormID: f.ID, UserID: ms[i%benchMembers].UserID,
			Answers: map[int]string{0: "1", 1: "[0,2]", 2: "3", 3: "no onions"}, CreatedAt: t0}
	}
	b.ReportAllocs()
	for b.Loop() {
		forms.Summarize(f, ms, rs, t0)
	}
}
