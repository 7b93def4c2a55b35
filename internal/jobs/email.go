// Package jobs runs the background work of the service: delivering confirmation emails
// and webhook events from their queue tables, with retries and exponential backoff (one
// loop for both: queue), and clearing old addresses.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/store"
)

// EmailWorker delivers queued emails: the booking confirmation itself, every other kind
// through its Composer. Fill the required fields; zero durations take the defaults below.
type EmailWorker struct {
	Store      *store.Store
	Sender     mail.Sender
	Renderer   *mail.Renderer
	PrivacyURL string
	Logger     *slog.Logger
	Now        func() time.Time
	// Composers write the emails of the other kinds (store.EmailJob.Kind), each registered
	// by the feature that enqueues it. A job of a kind without one fails.
	Composers map[string]Composer
	// PersonalLink, when set, is the address of the link to the prospect's own page that
	// the confirmation carries (PersonalLinks.URL), minted with the claim of the job.
	PersonalLink func(j store.EmailJob) string

	Poll        time.Duration // how often to look for due jobs without a local wake-up (1s)
	Lease       time.Duration // how long a claimed job is ours (2m; longer than an SMTP timeout)
	BaseBackoff time.Duration // first retry delay (5s), doubled per attempt
	MaxBackoff  time.Duration // cap of the retry delay (1h)
	GiveUpAfter time.Duration // a job older than this is marked failed (24h)
	Batch       int           // jobs claimed at once (16)
	Parallel    int           // concurrent deliveries (4)

	// Observe, when set, is told each delivery outcome: "sent", "retry", "failed".
	Observe func(outcome string)

	once sync.Once
	q    *queue[store.EmailJob]
}

// queue is the worker's loop, its zero fields set to the defaults (on first use).
func (w *EmailWorker) queue() *queue[store.EmailJob] {
	w.once.Do(func() {
		w.q = &queue[store.EmailJob]{
			settings: settings{Poll: w.Poll, Lease: w.Lease, BaseBackoff: w.BaseBackoff, MaxBackoff: w.MaxBackoff,
				GiveUpAfter: w.GiveUpAfter, Batch: w.Batch, Parallel: w.Parallel, Logger: w.Logger, Now: w.Now,
				Observe: w.Observe}.withDefaults(2*time.Minute, 4),
			name: "email queue", noun: "jobs", wake: w.Store.JobsReady(),
			claim: w.Store.ClaimEmailJobs, release: w.Store.ReleaseEmailJobs, deliver: w.deliver,
		}
	})
	return w.q
}

// Run delivers jobs until ctx is cancelled. Then it claims no more, gives back the claimed
// jobs it has not begun (ReleaseEmailJobs) and returns once every delivery in flight has
// ended and its outcome is recorded: a stop never cuts a send the SMTP server may already
// have accepted (issue 19; see queue).
func (w *EmailWorker) Run(ctx context.Context) { w.queue().run(ctx) }

// RunOnce claims one batch of due jobs and delivers them; it returns how many it claimed.
// Once ctx is cancelled it begins no delivery: the jobs not begun are given back.
func (w *EmailWorker) RunOnce(ctx context.Context) int { return w.queue().runOnce(ctx) }

// Composer writes the email of a claimed job in lang, the recipient's language. It returns
// ErrSkipEmail when the email is no longer due (the job is then done, unsent).
type Composer func(ctx context.Context, j store.EmailJob, lang i18n.Lang) (mail.Message, error)

// ErrSkipEmail tells the worker that a job's email is no longer due.
var ErrSkipEmail = errors.New("email no longer due")

// compose writes the email of j.
func (w *EmailWorker) compose(ctx context.Context, j store.EmailJob, lang i18n.Lang) (mail.Message, error) {
	if j.Kind == store.EmailConfirmation {
		c := mail.Confirmation{To: j.To, FirstName: j.FirstName, BookingRef: j.BookingID, PrivacyURL: w.PrivacyURL}
		if w.PersonalLink != nil {
			c.SelfServiceURL = w.PersonalLink(j)
		}
		return w.Renderer.Render(lang, c)
	}
	c, ok := w.Composers[j.Kind]
	if !ok {
		return mail.Message{}, fmt.Errorf("no composer for email kind %q", j.Kind)
	}
	return c(ctx, j, lang)
}

// deliver sends one job and records the outcome. ctx is never cancelled by a shutdown (see
// Run): the send and its bookkeeping are bounded by their own timeouts.
func (w *EmailWorker) deliver(ctx context.Context, j store.EmailJob) string {
	q := w.queue()
	bg, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	// the lead's stored language (SPEC §12): its latest booking's, or what staff set
	lang, ok := i18n.Parse(j.Language)
	if !ok {
		lang = i18n.NB
	}
	msg, err := w.compose(bg, j, lang)
	if errors.Is(err, ErrSkipEmail) {
		w.markDone(ctx, j.ID)
		return "skipped"
	}
	if err == nil {
		err = w.Sender.Send(ctx, msg)
	}
	if err == nil {
		w.markDone(ctx, j.ID)
		return "sent"
	}
	retryAt, outcome := q.retry(j.CreatedAt, j.Attempts)
	// mail errors are sanitized by the mail package: no addresses or bodies in them
	reason := fmt.Sprintf("attempt %d: %v", j.Attempts, err)
	if err := w.Store.RetryEmailJob(bg, j.ID, retryAt, reason); err != nil {
		q.Logger.Error("email queue: could not record failed attempt", "job_id", j.ID, "error", err.Error())
	}
	q.Logger.Warn("email delivery failed", "job_id", j.ID, "attempt", j.Attempts, "outcome", outcome, "error", err.Error())
	return outcome
}

// markDone records a delivered job. The message is out, so a failure here would send it
// again when the lease runs out: a database restart must not do that, so it keeps trying
// for part of the lease (bounded, as shutdown waits for it).
func (w *EmailWorker) markDone(ctx context.Context, id string) {
	q := w.queue()
	ctx, cancel := context.WithTimeout(ctx, min(q.Lease/2, 30*time.Second))
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		err := w.Store.CompleteEmailJob(ctx, id)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			q.Logger.Error("email queue: could not mark job done", "job_id", id, "error", err.Error())
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}
