package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// Stopping the worker (SIGTERM) ends its claiming, never a send in flight: the SMTP server
// has accepted the message and not yet answered when the stop comes, and the job is still
// marked done, not retried (which sent it twice after a restart: issue 19). The jobs it
// claimed but had not begun are given back unattempted, and the next worker sends each once.
func TestEmailWorkerStopFinishesTheSendInFlight(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		smtp := mailtest.Start(t)
		sender, err := mail.NewSMTPSender(smtp.URL(), "Meander <no-reply@meander.invalid>")
		if err != nil {
			t.Fatal(err)
		}
		renderer, err := mail.NewRenderer(nil)
		if err != nil {
			t.Fatal(err)
		}
		const n, privacyURL = 3, "http://leads.test/privacy"
		for i := range n {
			bookFrom(t, s, fmt.Sprintf("stop%d@example.org", i), fmt.Sprintf("192.0.2.%d", i+1))
		}
		release := smtp.HoldReplies()
		defer release()
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		// one at a time: the first job is sent, the other two wait, claimed
		w := &jobs.EmailWorker{Store: s, Sender: sender, Renderer: renderer, PrivacyURL: privacyURL, Parallel: 1}
		done := make(chan struct{})
		go func() {
			w.Run(ctx)
			close(done)
		}()
		smtp.WaitFor(t, 1, 10*time.Second) // accepted by the server, the reply held back
		stop()
		release()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the worker did not return after its stop")
		}
		if got := len(smtp.Messages()); got != 1 {
			t.Fatalf("%d messages after the stop, want the one in flight", got)
		}
		counts, err := s.EmailJobCounts(context.Background())
		if err != nil || counts["done"] != 1 || counts["pending"] != n-1 || counts["running"] != 0 {
			t.Fatalf("jobs after the stop: %v %v, want the one sent done and the others given back", counts, err)
		}
		var unattempted int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM email_jobs WHERE status = 'pending' AND attempts = 0 AND last_error IS NULL`).Scan(&unattempted); err != nil || unattempted != n-1 {
			t.Errorf("%d jobs given back unattempted (%v), want %d", unattempted, err, n-1)
		}

		next := &jobs.EmailWorker{Store: s, Sender: sender, Renderer: renderer, PrivacyURL: privacyURL}
		if got := next.RunOnce(context.Background()); got != n-1 {
			t.Fatalf("the next worker claimed %d jobs, want the %d given back", got, n-1)
		}
		perRecipient := map[string]int{}
		for _, m := range smtp.Messages() {
			for _, to := range m.To {
				perRecipient[to]++
			}
		}
		for i := range n {
			if to := fmt.Sprintf("stop%d@example.org", i); perRecipient[to] != 1 {
				t.Errorf("%s got %d emails, want 1", to, perRecipient[to])
			}
		}
	})
}
