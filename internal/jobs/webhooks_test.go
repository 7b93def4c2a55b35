package jobs_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/webhook"
)

var hookT0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// received is one request as the receiver saw it.
type received struct {
	ID, Timestamp, Signature, ContentType string
	Body                                  []byte
	ValidSignature                        bool
	Answered                              int
}

// receiver is a real HTTP endpoint that checks Standard Webhooks signatures by hand and
// answers with the status its script gives for the n-th request (200 after the script).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	script []int
	got    []received
}

func newReceiver(t *testing.T, script ...int) *receiver {
	r := &receiver{t: t, script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(req.Header.Get("webhook-id") + "." + req.Header.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	status := http.StatusOK
	if n := len(r.got); n < len(r.script) {
		status = r.script[n]
	}
	r.got = append(r.got, received{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), ContentType: req.Header.Get("Content-Type"), Body: body,
		ValidSignature: req.Method == http.MethodPost && hmac.Equal([]byte(req.Header.Get("webhook-signature")), []byte(want)),
		Answered:       status})
	w.WriteHeader(status)
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type fixture struct {
	st     *store.Store
	clock  *storetest.Clock
	worker *jobs.WebhookWorker
	hook   store.Webhook
}

// setup subscribes rcv to events and returns a worker on the test clock that may reach
// 127.0.0.1 (the receiver), as --allow-private-webhooks does.
func setup(t *testing.T, e storetest.Engine, rcv *receiver, events ...string) fixture {
	t.Helper()
	clock := storetest.NewClock(hookT0)
	st := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
	hook, secret, err := st.CreateWebhook(context.Background(), rcv.srv.URL+"/hooks/leads?token=abc", events)
	if err != nil {
		t.Fatal(err)
	}
	rcv.secret = secret
	guard := &webhook.Guard{AllowPrivate: true}
	return fixture{st: st, clock: clock, hook: hook,
		worker: &jobs.WebhookWorker{Store: st, Guard: guard, Now: clock.Now, BaseBackoff: 5 * time.Second}}
}

func book(t *testing.T, st *store.Store, email string) store.BookingResult {
	t.Helper()
	b := lead.Booking{FirstName: "Ada", LastName: "Lovelace", Email: email, EmailNormalized: lead.NormalizeEmail(email),
		Phone: "+4722334455", OrganizationName: "Analytical Mentors", Message: "We run 40 mentors."}
	res, err := st.Book(context.Background(), store.BookingParams{Booking: b, IP: "192.0.2.1", UserAgent: "test", ConsentVersion: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func deliveries(t *testing.T, f fixture) []store.WebhookDeliveryInfo {
	t.Helper()
	log, _, err := f.st.ListWebhookDeliveries(context.Background(), f.hook.ID, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	return log
}

func TestWebhookDeliverySignedAndComplete(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		rcv := newReceiver(t)
		f := setup(t, e, rcv, webhook.Events...)
		res := book(t, f.st, "ada@example.org")
		f.clock.Advance(3 * time.Second) // the attempt's time differs from the event's

		if n := f.worker.RunOnce(ctx); n != 2 {
			t.Fatalf("claimed %d, want lead.created and booking.created", n)
		}
		got := rcv.requests()
		if len(got) != 2 {
			t.Fatalf("receiver got %d requests", len(got))
		}
		var types []string
		for _, r := range got {
			var p webhook.Payload
			json.Unmarshal(r.Body, &p)
			types = append(types, p.Type)
		}
		if strings.Join(types, ",") != "lead.created,booking.created" {
			t.Errorf("one subscription's deliveries arrived as %v: oldest first", types)
		}
		l, _ := f.st.GetLead(ctx, res.LeadID)
		wantLead, _ := json.Marshal(l)
		log := deliveries(t, f)
		ids := map[string]string{} // delivery id → event
		for _, d := range log {
			ids[d.ID] = d.Event
			if d.Status != "delivered" || d.Attempts != 1 || d.LastStatusCode == nil || *d.LastStatusCode != 200 {
				t.Errorf("log entry %+v", d)
			}
		}
		for _, r := range got {
			if !r.ValidSignature || r.ContentType != "application/json" || r.Timestamp != strconv.FormatInt(hookT0.Add(3*time.Second).Unix(), 10) {
				t.Errorf("request headers %+v", r)
			}
			if !webhook.Verify(rcv.secret, r.ID, hookT0.Add(3*time.Second).Unix(), r.Body, r.Signature) {
				t.Error("webhook.Verify refuses what the worker signed")
			}
			var p webhook.Payload
			if err := json.Unmarshal(r.Body, &p); err != nil {
				t.Fatal(err)
			}
			if ids[r.ID] != p.Type || !p.Timestamp.Equal(hookT0) {
				t.Errorf("webhook-id %s is not the %s delivery (%s at %v)", r.ID, ids[r.ID], p.Type, p.Timestamp)
			}
			if string(p.Data["lead"]) != string(wantLead) {
				t.Errorf("%s lead %s, want %s", p.Type, p.Data["lead"], wantLead)
			}
			if _, ok := p.Data["booking"]; ok != (p.Type == "booking.created") {
				t.Errorf("%s carries a booking: %v", p.Type, ok)
			}
		}
		f.clock.Advance(time.Hour)
		if n := f.worker.RunOnce(ctx); n != 0 || len(rcv.requests()) != 2 {
			t.Fatalf("delivered events sent again: claimed %d", n)
		}
	})
}

func TestWebhookRetriesUntilReceiverRecovers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		rcv := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable)
		f := setup(t, e, rcv, webhook.EventLeadCreated)
		book(t, f.st, "retry@example.org")

		f.worker.RunOnce(ctx) // attempt 1: 500
		if n := f.worker.RunOnce(ctx); n != 0 {
			t.Fatal("retried before its backoff")
		}
		f.clock.Advance(4 * time.Second)
		if n := f.worker.RunOnce(ctx); n != 0 {
			t.Fatal("retried before 5s")
		}
		f.clock.Advance(time.Second)
		f.worker.RunOnce(ctx) // attempt 2 after 5s: 503
		f.clock.Advance(9 * time.Second)
		if n := f.worker.RunOnce(ctx); n != 0 {
			t.Fatal("second retry before 10s")
		}
		f.clock.Advance(time.Second)
		f.worker.RunOnce(ctx) // attempt 3 after 10s: 200
		for range 5 {
			f.clock.Advance(time.Hour)
			f.worker.RunOnce(ctx)
		}

		got := rcv.requests()
		if len(got) != 3 || got[0].Answered != 500 || got[1].Answered != 503 || got[2].Answered != 200 {
			t.Fatalf("receiver saw %+v", got)
		}
		if got[0].ID != got[1].ID || got[1].ID != got[2].ID || string(got[0].Body) != string(got[2].Body) {
			t.Fatal("the retries are not the same delivery")
		}
		if got[0].Timestamp == got[2].Timestamp || !got[2].ValidSignature {
			t.Fatal("each attempt is signed with its own timestamp")
		}
		log := deliveries(t, f)
		if len(log) != 1 || log[0].Status != "delivered" || log[0].Attempts != 3 || *log[0].LastStatusCode != 200 || log[0].ID != got[0].ID {
			t.Fatalf("delivery log %+v", log)
		}
	})
}

func TestWebhookGivesUpAfterRetryWindow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		down := make([]int, 100)
		for i := range down {
			down[i] = http.StatusInternalServerError
		}
		rcv := newReceiver(t, down...)
		f := setup(t, e, rcv, webhook.EventLeadCreated)
		book(t, f.st, "down@example.org")
		var delays []time.Duration
		last := f.clock.Now()
		for range 40 {
			if f.worker.RunOnce(ctx) == 1 {
				delays = append(delays, f.clock.Now().Sub(last))
				last = f.clock.Now()
			}
			log := deliveries(t, f)
			if log[0].Status == "failed" {
				break
			}
			f.clock.Advance(log[0].NextAttemptAt.Sub(f.clock.Now()))
		}
		log := deliveries(t, f)
		if log[0].Status != "failed" || *log[0].LastStatusCode != 500 || !strings.Contains(*log[0].LastError, "status 500") {
			t.Fatalf("after 24h: %+v", log[0])
		}
		// 5s, 10s, 20s, … doubling, capped at 1h, until 24 hours have passed
		want := []time.Duration{0, 5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}
		for i, d := range want {
			if delays[i] != d {
				t.Fatalf("delays %v, want them to start %v", delays, want)
			}
		}
		total := last.Sub(hookT0)
		if delays[len(delays)-1] != time.Hour || total > 24*time.Hour || total < 23*time.Hour {
			t.Fatalf("%d attempts over %v with delays %v", len(delays), total, delays)
		}
		if n := len(rcv.requests()); n != len(delays) || n != log[0].Attempts {
			t.Fatalf("%d requests, %d attempts logged, %d made", n, log[0].Attempts, len(delays))
		}
	})
}

func TestWebhookRedeliveryAfterErasureCarriesAnonymizedLead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		rcv := newReceiver(t)
		f := setup(t, e, rcv, webhook.EventLeadCreated)
		res := book(t, f.st, "Erase.Me@Example.org")
		f.worker.RunOnce(ctx)
		first := rcv.requests()
		if len(first) != 1 || !strings.Contains(string(first[0].Body), "Erase.Me@Example.org") {
			t.Fatalf("first delivery %+v", first)
		}

		if _, err := f.st.AnonymizeLead(ctx, res.LeadID, lead.Actor{Name: "adam-admin"}); err != nil {
			t.Fatal(err)
		}
		if err := f.st.ScrubWebhookPayloads(ctx, res.LeadID); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		d := deliveries(t, f)[0]
		if err := f.st.RedeliverWebhook(ctx, f.hook.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		if n := f.worker.RunOnce(ctx); n != 1 {
			t.Fatalf("redelivery claimed %d", n)
		}
		got := rcv.requests()
		if len(got) != 2 || got[1].ID != first[0].ID || !got[1].ValidSignature {
			t.Fatalf("redelivery %+v", got)
		}
		body := string(got[1].Body)
		for _, pii := range []string{"Ada", "Lovelace", "Erase.Me", "erase.me", "22334455", "40 mentors", "192.0.2.1"} {
			if strings.Contains(body, pii) {
				t.Errorf("redelivered payload still holds %q: %s", pii, body)
			}
		}
		var p webhook.Payload
		json.Unmarshal(got[1].Body, &p)
		var l lead.Lead
		json.Unmarshal(p.Data["lead"], &l)
		if l.ID != res.LeadID || l.FirstName != store.ErasedName || l.Email != store.ErasedEmail(res.LeadID) || l.AnonymizedAt == nil {
			t.Fatalf("redelivered lead %+v", l)
		}
		if d := deliveries(t, f)[0]; d.Attempts != 2 || d.Status != "delivered" {
			t.Fatalf("after redelivery %+v", d)
		}
	})
}

// Without --allow-private-webhooks nothing reaches an internal address, even a
// subscription stored before the check or a name that now resolves inside.
func TestWebhookPrivateAddressRefusedAtAttempt(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		rcv := newReceiver(t)
		f := setup(t, e, rcv, webhook.EventLeadCreated)
		f.worker = &jobs.WebhookWorker{Store: f.st, Guard: &webhook.Guard{}, Now: f.clock.Now}
		book(t, f.st, "probe@example.org")
		if n := f.worker.RunOnce(ctx); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		if n := len(rcv.requests()); n != 0 {
			t.Fatalf("the receiver on 127.0.0.1 got %d requests", n)
		}
		d := deliveries(t, f)[0]
		if d.Status != "pending" || d.Attempts != 1 || d.LastStatusCode != nil || !strings.Contains(*d.LastError, "not allowed") ||
			strings.Contains(*d.LastError, "127.0.0.1") || strings.Contains(*d.LastError, "token") {
			t.Fatalf("delivery %+v %q", d, *d.LastError)
		}
	})
}

// Run polls on its own and stops when its context ends.
func TestWebhookWorkerRun(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		got := make(chan struct{}, 4)
		rcv := newReceiver(t)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rcv.serve(w, r)
			got <- struct{}{}
		}))
		t.Cleanup(srv.Close)
		st := storetest.MustOpen(t, e.URL(t), store.Options{})
		_, secret, err := st.CreateWebhook(context.Background(), srv.URL, []string{webhook.EventLeadCreated})
		if err != nil {
			t.Fatal(err)
		}
		rcv.secret = secret
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			(&jobs.WebhookWorker{Store: st, Guard: &webhook.Guard{AllowPrivate: true}, Poll: 10 * time.Millisecond}).Run(ctx)
			close(done)
		}()
		book(t, st, "run@example.org")
		select {
		case <-got:
		case <-time.After(30 * time.Second):
			t.Fatal("the running worker did not deliver")
		}
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
		if r := rcv.requests(); len(r) != 1 || !r[0].ValidSignature {
			t.Fatalf("requests %+v", r)
		}
	})
}

// A stop while the receiver holds an attempt's request does not cut it: the answer is
// recorded (delivered, not retried, so not sent again after a restart), and the next
// delivery of the same subscription, claimed but not begun, is given back unattempted.
func TestWebhookWorkerStopFinishesTheAttemptInFlight(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		rcv := newReceiver(t)
		arrived, release := make(chan struct{}, 4), make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			<-release
			rcv.serve(w, r)
		}))
		t.Cleanup(srv.Close)
		defer close(release)
		st := storetest.MustOpen(t, e.URL(t), store.Options{})
		_, secret, err := st.CreateWebhook(context.Background(), srv.URL, []string{webhook.EventLeadCreated})
		if err != nil {
			t.Fatal(err)
		}
		rcv.secret = secret
		book(t, st, "first@example.org")
		book(t, st, "second@example.org") // the same subscription: attempted after the first
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		done := make(chan struct{})
		go func() {
			(&jobs.WebhookWorker{Store: st, Guard: &webhook.Guard{AllowPrivate: true}}).Run(ctx)
			close(done)
		}()
		select {
		case <-arrived:
		case <-time.After(30 * time.Second):
			t.Fatal("no attempt reached the receiver")
		}
		stop()
		release <- struct{}{} // the held request is answered 200
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after its stop")
		}
		if r := rcv.requests(); len(r) != 1 || r[0].Answered != http.StatusOK {
			t.Fatalf("requests %+v, want the one in flight", r)
		}
		var delivered, givenBack int
		if err := st.DB().QueryRow(`SELECT
			COALESCE(SUM(CASE WHEN status = 'delivered' AND attempts = 1 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = 'pending' AND attempts = 0 AND last_error IS NULL THEN 1 ELSE 0 END), 0)
			FROM webhook_deliveries`).Scan(&delivered, &givenBack); err != nil {
			t.Fatal(err)
		}
		if delivered != 1 || givenBack != 1 {
			t.Errorf("after the stop: %d delivered, %d given back unattempted; want 1 and 1", delivered, givenBack)
		}
	})
}
