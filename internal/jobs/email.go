// Package jobs runs the background work of the service: delivering confirmation emails
// from the queue table, with retries and exponential backoff.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/store"
)

// EmailWorker delivers queued confirmation emails. Fill the required fields; zero
// durations take the defaults below.
type EmailWorker struct {
	Store      *store.Store
	Sender     mail.Sender
	Renderer   *mail.Renderer
	PrivacyURL string
	Logger     *slog.Logger
	Now        func() time.Time

	Poll        time.Duration // how often to look for due jobs without a local wake-up (1s)
	Lease       time.Duration // how long a claimed job is ours (2m; longer than an SMTP timeout)
	BaseBackoff time.Duration // first retry delay (5s), doubled per attempt
	MaxBackoff  time.Duration // cap of the retry delay (1h)
	GiveUpAfter time.Duration // a job older than this is marked failed (24h)
	Batch       int           // jobs claimed at once (16)
	Parallel    int           // concurrent deliveries (4)

	// Observe, when set, is told each delivery outcome: "sent", "retry", "failed".
	Observe func(outcome string)
}

func (w *EmailWorker) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&w.Poll, time.Second)
	set(&w.Lease, 2*time.Minute)
	set(&w.BaseBackoff, 5*time.Second)
	set(&w.MaxBackoff, time.Hour)
	set(&w.GiveUpAfter, 24*time.Hour)
	if w.Batch <= 0 {
		w.Batch = 16
	}
	if w.Parallel <= 0 {
		w.Parallel = 4
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
}

// Run delivers jobs until ctx is cancelled. Then it claims no more, gives back the claimed
// jobs it has not begun (ReleaseEmailJobs) and returns once every delivery in flight has
// ended and its outcome is recorded.
//
// A cancelled ctx never cuts a send in flight: the SMTP server may already have accepted
// the message, and a send cut before its reply was read looks failed, so the job would be
// retried and the email sent twice (issue 19). A delivery is bounded by the SMTP timeouts
// instead; a caller that cannot wait that long exits without waiting, and the job is sent
// again when its lease has run out, as after a crash.
func (w *EmailWorker) Run(ctx context.Context) {
	w.defaults()
	ticker := time.NewTicker(w.Poll)
	defer ticker.Stop()
	for {
		n := w.RunOnce(ctx)
		if n == w.Batch {
			continue // there may be more due right now
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-w.Store.JobsReady():
		}
	}
}

// RunOnce claims one batch of due jobs and delivers them; it returns how many it claimed.
// Once ctx is cancelled it begins no delivery: the jobs not begun are given back.
func (w *EmailWorker) RunOnce(ctx context.Context) int {
	w.defaults()
	if ctx.Err() != nil {
		return 0
	}
	// ctx only says when to stop beginning work; what has begun runs on: a claim cut after
	// its commit would leave jobs that nobody sends until their lease runs out
	work := context.WithoutCancel(ctx)
	claimCtx, cancel := context.WithTimeout(work, storeTimeout)
	jobs, err := w.Store.ClaimEmailJobs(claimCtx, w.Batch, w.Lease)
	cancel()
	if err != nil {
		w.Logger.Warn("email queue: claim failed", "error", err.Error())
		return 0
	}
	sem := make(chan struct{}, w.Parallel)
	var wg sync.WaitGroup
	var notBegun []store.EmailJob
	for i, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			notBegun = jobs[i:]
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			w.deliver(work, j)
		})
	}
	wg.Wait()
	if len(notBegun) > 0 {
		releaseCtx, cancel := context.WithTimeout(work, storeTimeout)
		defer cancel()
		if err := w.Store.ReleaseEmailJobs(releaseCtx, notBegun); err != nil {
			// they are due again when their lease runs out; sent once all the same
			w.Logger.Warn("email queue: could not give back jobs not begun", "jobs", len(notBegun), "error", err.Error())
		}
	}
	return len(jobs)
}

// storeTimeout bounds the worker's own claims and records.
const storeTimeout = 10 * time.Second

// deliver sends one job and records the outcome. ctx is never cancelled by a shutdown (see
// Run): the send and its bookkeeping are bounded by their own timeouts.
func (w *EmailWorker) deliver(ctx context.Context, j store.EmailJob) {
	bg, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	msg, err := w.Renderer.Render(mail.Confirmation{To: j.To, FirstName: j.FirstName, BookingRef: j.BookingID, PrivacyURL: w.PrivacyURL})
	if err == nil {
		err = w.Sender.Send(ctx, msg)
	}
	if err == nil {
		w.markDone(ctx, j.ID)
		w.observe("sent")
		return
	}
	retryAt := nextAttempt(w.Now(), j.CreatedAt, j.Attempts, w.BaseBackoff, w.MaxBackoff, w.GiveUpAfter)
	outcome := "retry"
	if retryAt == nil {
		outcome = "failed"
	}
	// mail errors are sanitized by the mail package: no addresses or bodies in them
	reason := fmt.Sprintf("attempt %d: %v", j.Attempts, err)
	if err := w.Store.RetryEmailJob(bg, j.ID, retryAt, reason); err != nil {
		w.Logger.Error("email queue: could not record failed attempt", "job_id", j.ID, "error", err.Error())
	}
	w.Logger.Warn("email delivery failed", "job_id", j.ID, "attempt", j.Attempts, "outcome", outcome, "error", err.Error())
	w.observe(outcome)
}

func (w *EmailWorker) observe(outcome string) {
	if w.Observe != nil {
		w.Observe(outcome)
	}
}

// markDone records a delivered job. The message is out, so a failure here would send it
// again when the lease runs out: a database restart must not do that, so it keeps trying
// for part of the lease (bounded, as shutdown waits for it).
func (w *EmailWorker) markDone(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, min(w.Lease/2, 30*time.Second))
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		err := w.Store.CompleteEmailJob(ctx, id)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			w.Logger.Error("email queue: could not mark job done", "job_id", id, "error", err.Error())
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}
