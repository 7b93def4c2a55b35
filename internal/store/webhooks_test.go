package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/webhook"
)

// payloads returns the stored payloads of a subscription's deliveries, oldest first.
func payloads(t *testing.T, s *store.Store, webhookID string) []webhook.Payload {
	t.Helper()
	rows, err := s.DB().Query(`SELECT payload FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id`, webhookID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []webhook.Payload
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var p webhook.Payload
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			t.Fatalf("payload %s: %v", raw, err)
		}
		out = append(out, p)
	}
	return out
}

func TestWebhookSubscriptions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})

		w, secret, err := s.CreateWebhook(ctx, "https://203.0.113.5/hook", []string{"lead.updated", "lead.created", "lead.created"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "whsec_") || !w.Active || !slices.Equal(w.Events, []string{"lead.created", "lead.updated"}) ||
			!w.CreatedAt.Equal(t0) {
			t.Fatalf("created %+v %q", w, secret)
		}
		for _, bad := range [][]string{nil, {}, {"lead.deleted"}, {"lead.created", "LEAD.CREATED"}} {
			_, _, err := s.CreateWebhook(ctx, "https://203.0.113.5/hook", bad)
			if lead.ErrorCode(err) != lead.CodeInvalid {
				t.Errorf("events %q: err %v, want invalid", bad, err)
			}
		}
		got, err := s.GetWebhook(ctx, w.ID)
		if err != nil || got.URL != w.URL || !slices.Equal(got.Events, w.Events) {
			t.Fatalf("get %+v %v", got, err)
		}

		clock.Advance(time.Minute)
		url, off := "https://203.0.113.6/other", false
		up, err := s.UpdateWebhook(ctx, w.ID, store.WebhookPatch{URL: &url, Active: &off})
		if err != nil || up.URL != url || up.Active || !slices.Equal(up.Events, w.Events) || !up.UpdatedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("update %+v %v", up, err)
		}
		up, err = s.UpdateWebhook(ctx, w.ID, store.WebhookPatch{Events: []string{"booking.created"}})
		if err != nil || up.URL != url || !slices.Equal(up.Events, []string{"booking.created"}) {
			t.Fatalf("update events %+v %v", up, err)
		}
		if _, err := s.UpdateWebhook(ctx, w.ID, store.WebhookPatch{Events: []string{"nope"}}); lead.ErrorCode(err) != lead.CodeInvalid {
			t.Fatalf("bad events patch: %v", err)
		}

		list, err := s.ListWebhooks(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("list %+v %v", list, err)
		}
		if err := s.DeleteWebhook(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"delete again": s.DeleteWebhook(ctx, w.ID),
			"get":          func() error { _, err := s.GetWebhook(ctx, w.ID); return err }(),
			"update":       func() error { _, err := s.UpdateWebhook(ctx, w.ID, store.WebhookPatch{Active: &off}); return err }(),
			"malformed id": func() error { _, err := s.GetWebhook(ctx, "x"); return err }(),
		} {
			if !errors.Is(err, lead.ErrNotFound) {
				t.Errorf("%s after delete: %v", name, err)
			}
		}
		if list, _ := s.ListWebhooks(ctx); len(list) != 0 {
			t.Fatalf("deleted subscription still listed: %+v", list)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM webhooks WHERE id = $1 AND secret = '' AND deleted_at IS NOT NULL`, w.ID); n != 1 {
			t.Fatal("a deleted subscription keeps its row, without its secret")
		}
	})
}

func TestWebhookEnqueueOnBooking(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})

		// without subscriptions a booking queues nothing
		if _, err := s.Book(ctx, params(booking("quiet@example.org"), "192.0.2.1")); err != nil {
			t.Fatal(err)
		}
		all, _, _ := s.CreateWebhook(ctx, "https://203.0.113.5/all", webhook.Events)
		created, _, _ := s.CreateWebhook(ctx, "https://203.0.113.5/created", []string{"lead.created"})
		other, _, _ := s.CreateWebhook(ctx, "https://203.0.113.5/status", []string{"lead.status_changed"})
		paused, _, _ := s.CreateWebhook(ctx, "https://203.0.113.5/paused", webhook.Events)
		off := false
		if _, err := s.UpdateWebhook(ctx, paused.ID, store.WebhookPatch{Active: &off}); err != nil {
			t.Fatal(err)
		}

		b := booking("Grace@Example.org")
		b.Phone = "+4722334455"
		first, err := s.Book(ctx, params(b, "192.0.2.2"))
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		b.Message = "Again"
		second, err := s.Book(ctx, params(b, "192.0.2.3"))
		if err != nil || second.NewLead {
			t.Fatalf("second booking %+v %v", second, err)
		}

		got := payloads(t, s, all.ID)
		if len(got) != 3 || got[0].Type != "lead.created" || got[1].Type != "booking.created" || got[2].Type != "booking.created" {
			t.Fatalf("all-events subscription got %+v", got)
		}
		if n := len(payloads(t, s, created.ID)); n != 1 {
			t.Fatalf("lead.created subscription got %d deliveries", n)
		}
		if n := len(payloads(t, s, other.ID)) + len(payloads(t, s, paused.ID)); n != 0 {
			t.Fatalf("status-only and paused subscriptions got %d deliveries", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM webhook_deliveries`); n != 4 {
			t.Fatalf("%d deliveries in all", n)
		}

		// the payload is the lead as the API shows it at that moment, and the booking
		var l lead.Lead
		if err := json.Unmarshal(got[0].Data["lead"], &l); err != nil {
			t.Fatal(err)
		}
		if l.ID != first.LeadID || l.Email != "Grace@Example.org" || *l.Phone != "+4722334455" || l.Notes != nil || !got[0].Timestamp.Equal(t0) {
			t.Fatalf("lead.created payload lead %+v at %v", l, got[0].Timestamp)
		}
		var bk lead.BookingRecord
		if err := json.Unmarshal(got[2].Data["booking"], &bk); err != nil {
			t.Fatal(err)
		}
		if bk.ID != second.BookingID || bk.LeadID != first.LeadID || *bk.Message != "Again" || *bk.IPAddress != "192.0.2.3" {
			t.Fatalf("booking in payload %+v", bk)
		}
		bookings, _ := s.ListBookings(ctx, first.LeadID)
		want, _ := json.Marshal(bookings[0])
		if string(got[2].Data["booking"]) != string(want) {
			t.Fatalf("booking in payload\n%s\nwant as the API shows it\n%s", got[2].Data["booking"], want)
		}
		var linked lead.Lead
		json.Unmarshal(got[2].Data["lead"], &linked)
		now, _ := s.GetLead(ctx, first.LeadID)
		if linked.Notes == nil || *linked.Notes != *now.Notes || !linked.UpdatedAt.Equal(now.UpdatedAt) {
			t.Fatalf("linked lead snapshot %+v, stored %+v", linked, now)
		}
	})
}

func TestWebhookDeliveryQueue(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		w, secret, _ := s.CreateWebhook(ctx, "https://203.0.113.5/all", []string{"lead.created"})
		if _, err := s.Book(ctx, params(booking("q@example.org"), "192.0.2.1")); err != nil {
			t.Fatal(err)
		}

		claimed, err := s.ClaimWebhookDeliveries(ctx, 10, time.Minute)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim %+v %v", claimed, err)
		}
		d := claimed[0]
		if d.WebhookID != w.ID || d.URL != w.URL || d.Secret != secret || d.Event != "lead.created" || d.Attempts != 1 || !d.QueuedAt.Equal(t0) {
			t.Fatalf("claimed %+v", d)
		}
		// leased: nobody else gets it until the lease runs out
		if again, _ := s.ClaimWebhookDeliveries(ctx, 10, time.Minute); len(again) != 0 {
			t.Fatalf("claimed twice: %+v", again)
		}
		clock.Advance(2 * time.Minute)
		again, _ := s.ClaimWebhookDeliveries(ctx, 10, time.Minute)
		if len(again) != 1 || again[0].ID != d.ID || again[0].Attempts != 2 {
			t.Fatalf("expired lease reclaimed %+v", again)
		}
		// the first worker's late answer does not overwrite the second claim
		if err := s.CompleteWebhookDelivery(ctx, d.ID, 1, 200); err != nil {
			t.Fatal(err)
		}
		retry := clock.Now().Add(5 * time.Second)
		if err := s.RetryWebhookDelivery(ctx, d.ID, 2, &retry, 503, "status 503"); err != nil {
			t.Fatal(err)
		}
		log, next, err := s.ListWebhookDeliveries(ctx, w.ID, 50, "")
		if err != nil || next != "" || len(log) != 1 {
			t.Fatalf("log %+v %q %v", log, next, err)
		}
		if l := log[0]; l.ID != d.ID || l.Status != "pending" || l.Attempts != 2 || *l.LastStatusCode != 503 ||
			*l.LastError != "status 503" || !l.NextAttemptAt.Equal(retry) {
			t.Fatalf("log entry %+v", l)
		}
		if c, _ := s.ClaimWebhookDeliveries(ctx, 10, time.Minute); len(c) != 0 {
			t.Fatal("claimed before its retry time")
		}
		clock.Advance(5 * time.Second)
		c, _ := s.ClaimWebhookDeliveries(ctx, 10, time.Minute)
		if len(c) != 1 || c[0].Attempts != 3 {
			t.Fatalf("retry claim %+v", c)
		}
		if err := s.RetryWebhookDelivery(ctx, d.ID, 3, nil, 0, "timeout"); err != nil {
			t.Fatal(err)
		}
		log, _, _ = s.ListWebhookDeliveries(ctx, w.ID, 50, "")
		if log[0].Status != "failed" || log[0].LastStatusCode != nil || log[0].NextAttemptAt != nil {
			t.Fatalf("failed entry %+v", log[0])
		}

		// redelivery: same id, due now, attempts go on
		clock.Advance(time.Hour)
		if err := s.RedeliverWebhook(ctx, w.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		c, _ = s.ClaimWebhookDeliveries(ctx, 10, time.Minute)
		if len(c) != 1 || c[0].ID != d.ID || c[0].Attempts != 4 || !c[0].QueuedAt.Equal(clock.Now()) {
			t.Fatalf("redelivered claim %+v", c)
		}
		if err := s.CompleteWebhookDelivery(ctx, d.ID, 4, 204); err != nil {
			t.Fatal(err)
		}
		log, _, _ = s.ListWebhookDeliveries(ctx, w.ID, 50, "")
		if log[0].Status != "delivered" || *log[0].LastStatusCode != 204 || log[0].LastError != nil || log[0].Attempts != 4 {
			t.Fatalf("delivered entry %+v", log[0])
		}
		for name, err := range map[string]error{
			"unknown delivery":   s.RedeliverWebhook(ctx, w.ID, store.NewID()),
			"other subscription": s.RedeliverWebhook(ctx, store.NewID(), d.ID),
			"malformed":          s.RedeliverWebhook(ctx, w.ID, "1"),
			"log of unknown":     func() error { _, _, err := s.ListWebhookDeliveries(ctx, store.NewID(), 10, ""); return err }(),
		} {
			if !errors.Is(err, lead.ErrNotFound) {
				t.Errorf("%s: %v", name, err)
			}
		}

		// pages of the log, newest first
		for i := range 4 {
			if _, err := s.Book(ctx, params(booking("page"+string(rune('a'+i))+"@example.org"), "192.0.2.9")); err != nil {
				t.Fatal(err)
			}
		}
		var ids []string
		cursor := ""
		for {
			page, next, err := s.ListWebhookDeliveries(ctx, w.ID, 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page {
				ids = append(ids, p.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if len(ids) != 5 || !slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) }) || ids[4] != d.ID {
			t.Fatalf("paged log %v", ids)
		}

		// a paused subscription's deliveries wait; a deleted one's are cancelled
		off := false
		s.UpdateWebhook(ctx, w.ID, store.WebhookPatch{Active: &off})
		if c, _ := s.ClaimWebhookDeliveries(ctx, 10, time.Minute); len(c) != 0 {
			t.Fatalf("paused subscription's deliveries claimed: %d", len(c))
		}
		if err := s.DeleteWebhook(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'cancelled'`); n != 4 {
			t.Fatalf("%d cancelled deliveries, want the 4 pending", n)
		}
	})
}

func TestScrubWebhookPayloads(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		if _, _, err := s.CreateWebhook(ctx, "https://203.0.113.5/all", webhook.Events); err != nil {
			t.Fatal(err)
		}

		b := booking("Erase.Me@Example.org")
		b.FirstName, b.LastName, b.Phone, b.RoleTitle, b.Message = "Zebedee", "Quintana", "+4799887766", "Chief Mentor", "Call me on my cell"
		p := params(b, "192.0.2.77")
		p.UserAgent = "Mozilla/5.0 Zebedee-Browser"
		res, err := s.Book(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Book(ctx, params(booking("keep@example.org"), "192.0.2.78")); err != nil {
			t.Fatal(err)
		}
		// one delivered, one failed, the rest pending: every state is scrubbed
		c, _ := s.ClaimWebhookDeliveries(ctx, 2, time.Minute)
		s.CompleteWebhookDelivery(ctx, c[0].ID, 1, 200)
		s.RetryWebhookDelivery(ctx, c[1].ID, 1, nil, 500, "status 500")

		if err := s.ScrubWebhookPayloads(ctx, res.LeadID); lead.ErrorCode(err) != lead.CodeConflict {
			t.Fatalf("scrub of a live lead: %v", err)
		}
		anon, err := s.AnonymizeLead(ctx, res.LeadID, lead.Actor{Name: "adam-admin"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ScrubWebhookPayloads(ctx, res.LeadID); err != nil {
			t.Fatal(err)
		}
		rows, err := s.DB().Query(`SELECT lead_id, event, payload FROM webhook_deliveries`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var leadID, event, raw string
			rows.Scan(&leadID, &event, &raw)
			if leadID != res.LeadID {
				if !strings.Contains(raw, "keep@example.org") {
					t.Errorf("another lead's payload was touched: %s", raw)
				}
				continue
			}
			if event == "lead.created" || event == "booking.created" {
				n++
			}
			for _, pii := range []string{"Zebedee", "Quintana", "Erase.Me", "erase.me", "99887766", "Chief Mentor", "cell", "192.0.2.77"} {
				if strings.Contains(raw, pii) {
					t.Errorf("%s payload still holds %q: %s", event, pii, raw)
				}
			}
			var got webhook.Payload
			json.Unmarshal([]byte(raw), &got)
			var l lead.Lead
			json.Unmarshal(got.Data["lead"], &l)
			if got.Type != event || l.ID != res.LeadID || l.FirstName != store.ErasedName || l.AnonymizedAt == nil || !got.Timestamp.Equal(t0) {
				t.Errorf("scrubbed payload %s", raw)
			}
			want, _ := json.Marshal(anon)
			if string(got.Data["lead"]) != string(want) {
				t.Errorf("payload lead %s, want the anonymized lead %s", got.Data["lead"], want)
			}
			if event == "booking.created" {
				var bk lead.BookingRecord
				json.Unmarshal(got.Data["booking"], &bk)
				if bk.ID != res.BookingID || bk.OrganizationName != "Analytical Mentors" || bk.Email != store.ErasedEmail(res.LeadID) {
					t.Errorf("scrubbed booking %+v", bk)
				}
			}
		}
		if n != 2 {
			t.Fatalf("%d lead.created and booking.created payloads of the erased lead, want 2", n)
		}
	})
}

func TestClearExpiredWebhookIPs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		hook, _, _ := s.CreateWebhook(ctx, "https://203.0.113.5/all", webhook.Events)
		for i := range 3 {
			if _, err := s.Book(ctx, params(booking(fmt.Sprintf("old%d@example.org", i)), "192.0.2.1")); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(31 * 24 * time.Hour)
		if _, err := s.Book(ctx, params(booking("recent@example.org"), "192.0.2.2")); err != nil {
			t.Fatal(err)
		}
		cutoff := clock.Now().Add(-30 * 24 * time.Hour)
		var total int
		for {
			n, err := s.ClearExpiredWebhookIPs(ctx, cutoff, 4)
			if err != nil {
				t.Fatal(err)
			}
			total += n
			if n < 4 {
				break
			}
		}
		if total != 6 {
			t.Fatalf("cleared %d payloads, want the 6 old ones", total)
		}
		got := payloads(t, s, hook.ID)
		for i, p := range got {
			var l lead.Lead
			json.Unmarshal(p.Data["lead"], &l)
			old := i < 6
			if (l.IPAddress == nil) != old || !strings.HasPrefix(l.Email, map[bool]string{true: "old", false: "recent"}[old]) {
				t.Errorf("payload %d: lead %s ip %v", i, l.Email, l.IPAddress)
			}
			if raw, ok := p.Data["booking"]; ok {
				var b lead.BookingRecord
				json.Unmarshal(raw, &b)
				if (b.IPAddress == nil) != old || b.UserAgent == nil {
					t.Errorf("payload %d: booking %+v", i, b)
				}
			}
		}
		if n, _ := s.ClearExpiredWebhookIPs(ctx, cutoff, 4); n != 0 {
			t.Fatalf("a second round rewrote %d", n)
		}
	})
}
