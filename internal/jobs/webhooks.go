package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/webhook"
)

// WebhookWorker delivers queued webhook events (SPEC §10): a signed JSON POST per delivery,
// 2xx within webhook.Timeout is delivered, anything else is retried after BaseBackoff,
// doubling up to MaxBackoff, until GiveUpAfter has passed since it was queued; then failed.
// Zero fields take the defaults below.
type WebhookWorker struct {
	Store *store.Store
	// Guard checks the URL before every attempt and supplies the HTTP client, whose dialer
	// refuses internal addresses unless Guard.AllowPrivate.
	Guard  *webhook.Guard
	Client *http.Client // Guard.Client() when nil
	Logger *slog.Logger
	Now    func() time.Time

	Poll        time.Duration // how often to look for due deliveries (1s)
	Lease       time.Duration // how long a claimed batch is ours (5m: Batch slow attempts to one receiver)
	BaseBackoff time.Duration // first retry delay (5s), doubled per attempt
	MaxBackoff  time.Duration // cap of the retry delay (1h)
	GiveUpAfter time.Duration // retries stop this long after the delivery was queued (24h)
	Batch       int           // deliveries claimed at once (16)
	Parallel    int           // concurrent deliveries (8)

	// Observe, when set, is told each attempt's outcome: "delivered", "retry", "failed".
	Observe func(outcome string)

	once sync.Once
	q    *queue[store.WebhookDelivery]
}

// queue is the worker's loop, its zero fields set to the defaults (on first use).
func (w *WebhookWorker) queue() *queue[store.WebhookDelivery] {
	w.once.Do(func() {
		if w.Guard == nil {
			w.Guard = &webhook.Guard{}
		}
		if w.Client == nil {
			w.Client = w.Guard.Client()
		}
		w.q = &queue[store.WebhookDelivery]{
			settings: settings{Poll: w.Poll, Lease: w.Lease, BaseBackoff: w.BaseBackoff, MaxBackoff: w.MaxBackoff,
				GiveUpAfter: w.GiveUpAfter, Batch: w.Batch, Parallel: w.Parallel, Logger: w.Logger, Now: w.Now,
				Observe: w.Observe}.withDefaults(5*time.Minute, 8),
			name: "webhook queue", noun: "deliveries",
			claim: w.Store.ClaimWebhookDeliveries, release: w.Store.ReleaseWebhookDeliveries,
			lanes: bySubscription, deliver: w.deliver,
		}
	})
	return w.q
}

// Run delivers until ctx is cancelled. Then it claims no more, gives back the claimed
// deliveries it has not begun and returns once the attempts in flight have ended and been
// recorded: as with emails (EmailWorker.Run), a stop never cuts an attempt whose request the
// receiver may already have acted on. Each attempt is bounded by its own timeouts (the URL
// check's, then webhook.Timeout).
func (w *WebhookWorker) Run(ctx context.Context) { w.queue().run(ctx) }

// RunOnce claims one batch of due deliveries and attempts them; it returns how many it
// claimed. Once ctx is cancelled it begins no attempt: the deliveries not begun are given back.
func (w *WebhookWorker) RunOnce(ctx context.Context) int { return w.queue().runOnce(ctx) }

// bySubscription makes one lane per subscription: its deliveries go one after the other,
// oldest first (ids are time ordered), so a receiver sees lead.created before what happened
// to the lead next; subscriptions are served in parallel.
func bySubscription(claimed []store.WebhookDelivery) [][]store.WebhookDelivery {
	slices.SortFunc(claimed, func(a, b store.WebhookDelivery) int { return strings.Compare(a.ID, b.ID) })
	var lanes [][]store.WebhookDelivery
	lane := map[string]int{} // subscription → its lane
	for _, d := range claimed {
		i, ok := lane[d.WebhookID]
		if !ok {
			i = len(lanes)
			lane[d.WebhookID] = i
			lanes = append(lanes, nil)
		}
		lanes[i] = append(lanes[i], d)
	}
	return lanes
}

// deliver attempts one delivery and records the outcome. ctx is never cancelled by a
// shutdown (see Run): the attempt and its record are bounded by their own timeouts.
func (w *WebhookWorker) deliver(ctx context.Context, d store.WebhookDelivery) string {
	q := w.queue()
	bg, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	code, err := w.attempt(ctx, d)
	if err == nil {
		if err := w.Store.CompleteWebhookDelivery(bg, d.ID, d.Attempts, code); err != nil {
			q.Logger.Error("webhook queue: could not mark delivery done", "delivery_id", d.ID, "error", err.Error())
		}
		return "delivered"
	}
	retryAt, outcome := q.retry(d.QueuedAt, d.Attempts)
	reason := fmt.Sprintf("attempt %d: %v", d.Attempts, err)
	if err := w.Store.RetryWebhookDelivery(bg, d.ID, d.Attempts, retryAt, code, reason); err != nil {
		q.Logger.Error("webhook queue: could not record failed attempt", "delivery_id", d.ID, "error", err.Error())
	}
	// never the URL: it may hold a token
	q.Logger.Warn("webhook delivery failed", "delivery_id", d.ID, "webhook_id", d.WebhookID, "event", d.Event,
		"attempt", d.Attempts, "status", code, "outcome", outcome, "error", err.Error())
	return outcome
}

// attempt POSTs the delivery once. It returns the HTTP status (0 without an answer) and
// nil for a 2xx; errors are safe to store and log (no URL, no body).
func (w *WebhookWorker) attempt(ctx context.Context, d store.WebhookDelivery) (int, error) {
	if _, err := w.Guard.CheckURL(ctx, d.URL); err != nil {
		return 0, err
	}
	now := w.queue().Now().Unix()
	sig, err := webhook.Sign(d.Secret, d.ID, now, d.Payload)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, webhook.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, errors.New("the URL cannot be requested")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "leads-webhooks/1")
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := w.Client.Do(req)
	if err != nil {
		return 0, sanitize(err)
	}
	// drain a little so the connection can be reused; the answer's content is not kept
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("status %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// sanitize drops the URL that net/http puts in its errors.
func sanitize(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(err, webhook.ErrAddressNotAllowed):
		return webhook.ErrAddressNotAllowed
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errors.New("timeout: no answer within 10s")
	}
	return err
}
