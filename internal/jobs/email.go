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

// Run delivers jobs until ctx is cancelled, then waits for the deliveries in flight.
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
func (w *EmailWorker) RunOnce(ctx context.Context) int {
	w.defaults()
	if ctx.Err() != nil {
		return 0
	}
	jobs, err := w.Store.ClaimEmailJobs(ctx, w.Batch, w.Lease)
	if err != nil {
		if ctx.Err() == nil {
			w.Logger.Warn("email queue: claim failed", "error", err.Error())
		}
		return 0
	}
	sem := make(chan struct{}, w.Parallel)
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			w.deliver(ctx, j)
		})
	}
	wg.Wait()
	return len(jobs)
}

func (w *EmailWorker) deliver(ctx context.Context, j store.EmailJob) {
	// Bookkeeping after a send must happen even during shutdown, or a sent email would be
	// sent again when its lease runs out.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
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
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(w.Lease/2, 30*time.Second))
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
