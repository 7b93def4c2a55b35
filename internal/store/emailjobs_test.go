package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// A worker that stops after claiming gives back the jobs it did not begin: they are due at
// once, their attempt is not counted, and a claim that is no longer the worker's own (its
// lease ran out and another worker took the job) is left alone.
func TestReleaseEmailJobs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		for i := range 3 {
			if _, err := s.Book(ctx, params(booking(fmt.Sprintf("release%d@example.org", i)), fmt.Sprintf("203.0.113.%d", i+1))); err != nil {
				t.Fatal(err)
			}
		}
		jobs, err := s.ClaimEmailJobs(ctx, 10, time.Minute)
		if err != nil || len(jobs) != 3 {
			t.Fatalf("claim: %d jobs, %v", len(jobs), err)
		}
		if err := s.ReleaseEmailJobs(ctx, nil); err != nil {
			t.Fatalf("release nothing: %v", err)
		}
		if err := s.ReleaseEmailJobs(ctx, jobs[1:]); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.EmailJobCounts(ctx); c["running"] != 1 || c["pending"] != 2 {
			t.Fatalf("after giving back two: %v", c)
		}
		again, err := s.ClaimEmailJobs(ctx, 10, time.Minute) // due at once, for any worker
		if err != nil || len(again) != 2 {
			t.Fatalf("claim again: %d jobs, %v", len(again), err)
		}
		for _, j := range again {
			if j.Attempts != 1 || (j.ID != jobs[1].ID && j.ID != jobs[2].ID) {
				t.Errorf("claimed again %s with attempts %d, want a given-back job on its first attempt", j.ID, j.Attempts)
			}
		}

		// the leases run out and another worker takes all three: the stale claims are not ours to give back
		clock.Advance(2 * time.Minute)
		other, err := s.ClaimEmailJobs(ctx, 10, time.Minute)
		if err != nil || len(other) != 3 {
			t.Fatalf("claim after the leases ran out: %d jobs, %v", len(other), err)
		}
		if err := s.ReleaseEmailJobs(ctx, append(again, jobs[0])); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.EmailJobCounts(ctx); c["running"] != 3 {
			t.Errorf("a stale claim gave back another worker's job: %v", c)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE attempts = 2`); n != 3 {
			t.Errorf("%d jobs on their second attempt, want 3", n)
		}
	})
}

// Jobs marked done at the same time are each stored as done, and only those: on
// PostgreSQL the marks that wait share one statement and commit (donemarks.go), on SQLite
// a group commit. A mark is answered only after its commit: read back at once, it is there.
func TestEmailJobsMarkedDoneTogether(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		const n, kept = 40, 5
		for i := range n + kept {
			if _, err := s.Book(ctx, params(booking(fmt.Sprintf("marked%d@example.org", i)), fmt.Sprintf("198.51.100.%d", i+1))); err != nil {
				t.Fatal(err)
			}
		}
		jobs, err := s.ClaimEmailJobs(ctx, n+kept, time.Minute)
		if err != nil || len(jobs) != n+kept {
			t.Fatalf("claim: %d jobs, %v", len(jobs), err)
		}
		var start, wg sync.WaitGroup
		start.Add(1)
		for _, j := range jobs[:n] {
			wg.Go(func() {
				start.Wait()
				if err := s.CompleteEmailJob(ctx, j.ID); err != nil {
					t.Errorf("mark %s: %v", j.ID, err)
					return
				}
				if got := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE id = $1 AND status = 'done' AND locked_until IS NULL`, j.ID); got != 1 {
					t.Errorf("job %s answered as done but not stored so", j.ID)
				}
			})
		}
		start.Done()
		wg.Wait()
		if c, _ := s.EmailJobCounts(ctx); c["done"] != n || c["running"] != kept {
			t.Errorf("job counts %v, want %d done and %d still running", c, n, kept)
		}
		if e.Name == "postgres" {
			batches, marks := store.DoneMarks(s)
			if marks != n || batches >= marks {
				t.Errorf("%d marks in %d statements: none shared one", marks, batches)
			}
			t.Logf("%d marks in %d statements", marks, batches)
		}
	})
}
