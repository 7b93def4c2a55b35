package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/webhook"
)

// person is someone who books a demo, with values distinctive enough that finding one of
// them anywhere in the database can only mean it was not erased.
type person struct {
	first, last, email, phone, phoneE164, role, message, message2, note, ip, ip2, userAgent string
}

func (p person) needles() []string {
	return []string{p.first, p.last, p.email, p.phone, p.phoneE164, p.role, p.message, p.message2, p.note,
		p.ip, p.ip2, p.userAgent}
}

var (
	victim = person{first: "Zebulonia", last: "Quillfeatherby", email: "Zebulonia.Quill@Erase-Me.example",
		phone: "+47 912 34 567", phoneE164: "+4791234567", role: "Chief Wombat Officer",
		message: "Ask about the Xylophant mentoring circle", message2: "Second thought on Pangolinade volunteers",
		note: "Kumquatcall went to voicemail", ip: "198.51.100.77", ip2: "203.0.113.99", userAgent: "EraseMeBrowser/9.1"}
	bystander = person{first: "Ottoline", last: "Brackenridge", email: "ottoline@keep-me.example",
		phone: "+47 913 45 678", phoneE164: "+4791345678", role: "Volunteer Lead",
		message: "Control message Marzipanic", ip: "192.0.2.55", userAgent: "KeepMeBrowser/2.0"}
)

func (p person) book(t *testing.T, s *store.Store, ip, message, campaign, idemKey string) store.BookingResult {
	t.Helper()
	b := lead.Booking{FirstName: p.first, LastName: p.last, Email: p.email, EmailNormalized: lead.NormalizeEmail(p.email),
		Phone: p.phoneE164, OrganizationName: "Mentor Collective", OrganizationType: "non-profit", OrganizationSize: "10-50",
		RoleTitle: p.role, Message: message, UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: campaign}
	res, err := s.Book(context.Background(), store.BookingParams{Booking: b, IP: ip, UserAgent: p.userAgent,
		ConsentVersion: "2026-01", RateLimit: 5, RateWindow: time.Hour, IdempotencyKey: idemKey})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// dbValue is one non-NULL value found in the database.
type dbValue struct{ table, column, value string }

// everyValue reads every column of every table of the database as text. Tables and columns
// come from the catalog, so a table added later is searched too.
func everyValue(t *testing.T, s *store.Store) []dbValue {
	t.Helper()
	db := s.DB()
	columns := map[string][]string{}
	var tables []string
	if s.Engine() == "postgres" {
		rows, err := db.Query(`SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var tbl, col string
			if err := rows.Scan(&tbl, &col); err != nil {
				t.Fatal(err)
			}
			if len(columns[tbl]) == 0 {
				tables = append(tables, tbl)
			}
			columns[tbl] = append(columns[tbl], col)
		}
		rows.Close()
	} else {
		rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var tbl string
			if err := rows.Scan(&tbl); err != nil {
				t.Fatal(err)
			}
			tables = append(tables, tbl)
		}
		rows.Close()
		for _, tbl := range tables {
			rows, err := db.Query(`SELECT name FROM pragma_table_info($1) ORDER BY cid`, tbl)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var col string
				if err := rows.Scan(&col); err != nil {
					t.Fatal(err)
				}
				columns[tbl] = append(columns[tbl], col)
			}
			rows.Close()
		}
	}
	for _, must := range []string{"leads", "bookings", "lead_events", "email_jobs", "idempotency_keys", "api_tokens"} {
		if len(columns[must]) == 0 {
			t.Fatalf("catalog discovery found no table %s: %v", must, tables)
		}
	}
	var out []dbValue
	for _, tbl := range tables {
		exprs := make([]string, len(columns[tbl]))
		for i, c := range columns[tbl] {
			exprs[i] = `CAST("` + c + `" AS TEXT)`
		}
		rows, err := db.Query(`SELECT ` + strings.Join(exprs, ", ") + ` FROM "` + tbl + `"`)
		if err != nil {
			t.Fatalf("read %s: %v", tbl, err)
		}
		vals := make([]sql.NullString, len(exprs))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("scan %s: %v", tbl, err)
			}
			for i, v := range vals {
				if v.Valid {
					out = append(out, dbValue{tbl, columns[tbl][i], v.String})
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}

// findIn returns "table.column: needle" for every needle found (case-insensitively).
func findIn(values []dbValue, needles []string) map[string][]string {
	found := map[string][]string{}
	for _, n := range needles {
		ln := strings.ToLower(n)
		for _, v := range values {
			if strings.Contains(strings.ToLower(v.value), ln) {
				found[n] = append(found[n], v.table+"."+v.column)
			}
		}
	}
	return found
}

// pipelineFigures computes the figures of the pipeline statistics with plain SQL (counts by
// status and source, leads and bookings per utm_campaign, status moves) so that erasure can
// be shown not to change them.
func pipelineFigures(t *testing.T, s *store.Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT status, COUNT(*) FROM leads GROUP BY status ORDER BY status`,
		`SELECT source, COUNT(*) FROM leads GROUP BY source ORDER BY source`,
		`SELECT COALESCE(utm_campaign, '-'), COUNT(*) FROM leads GROUP BY utm_campaign ORDER BY 1`,
		`SELECT COALESCE(utm_campaign, '-'), COUNT(*) FROM bookings GROUP BY utm_campaign ORDER BY 1`,
		`SELECT COALESCE(organization_type, '-') || '/' || COALESCE(organization_size, '-'), COUNT(*) FROM leads GROUP BY 1 ORDER BY 1`,
		`SELECT details, COUNT(*) FROM lead_events WHERE type = 'status_changed' GROUP BY details ORDER BY details`,
		`SELECT CAST(created_at AS TEXT), status FROM leads ORDER BY id`,
	} {
		rows, err := s.DB().Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s=%s ", k, v)
		}
		rows.Close()
		b.WriteString("\n")
	}
	return b.String()
}

func TestErasureLeavesNoPersonalDataAnywhere(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})

		// The victim: a booking (with an idempotency key), a second booking that links to
		// the lead and appends its message to the notes, staff edits and a note, a failed
		// email and a queued one, webhook deliveries of every event, and an event whose
		// details someone filled with values.
		if _, _, err := s.CreateWebhook(ctx, "https://hooks.example/leads", webhook.Events); err != nil {
			t.Fatal(err)
		}
		first := victim.book(t, s, victim.ip, victim.message, "spring-fair", "victim-key-1")
		id := first.LeadID
		clock.Advance(time.Minute)
		victim.book(t, s, victim.ip2, victim.message2, "autumn", "")
		ctl := bystander.book(t, s, bystander.ip, bystander.message, "spring-fair", "")

		jobs, err := s.ClaimEmailJobs(ctx, 10, time.Minute)
		if err != nil || len(jobs) != 2 {
			t.Fatalf("claim: %v %v", jobs, err)
		}
		for _, j := range jobs {
			if j.LeadID == id {
				if err := s.RetryEmailJob(ctx, j.ID, nil, "attempt 1: mail: smtp: data: reply 550 5.1.1"); err != nil {
					t.Fatal(err)
				}
			} else if err := s.CompleteEmailJob(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(25 * time.Hour) // the next linked booking is due a confirmation again
		victim.book(t, s, victim.ip, victim.message2, "", "")

		if _, err := s.AppendNote(ctx, id, victim.note, lead.Actor{Name: "sally"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PatchLead(ctx, id, lead.Input{Status: lead.Val("contacted"), OrganizationSize: lead.Val("50-100")}, nil, lead.Actor{Name: "sally"}); err != nil {
			t.Fatal(err)
		}
		// lost after contacted: the statistics read how far it got from the event details
		if _, err := s.PatchLead(ctx, id, lead.Input{Status: lead.Val("lost")}, nil, lead.Actor{Name: "sally"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PatchLead(ctx, ctl.LeadID, lead.Input{Status: lead.Val("contacted")}, nil, lead.Actor{Name: "sally"}); err != nil {
			t.Fatal(err)
		}
		leaky := fmt.Sprintf(`{"note": %q, "old": {"email": %q, "phone": %q}, "from": %q, "booking_id": %q, "fields": ["first_name", %q], "to": "contacted"}`,
			victim.note, victim.email, victim.phone, victim.first, victim.last, victim.ip)
		if _, err := s.DB().Exec(`INSERT INTO lead_events (id, lead_id, type, actor, details, created_at) VALUES ($1, $2, 'updated', 'sally', $3, $4)`,
			store.NewID(), id, leaky, t0.Format(time.RFC3339Nano)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().Exec(`INSERT INTO lead_events (id, lead_id, type, actor, details, created_at) VALUES ($1, $2, 'status_changed', 'sally', $3, $4)`,
			store.NewID(), id, `{"from": "new", "to": "contacted"}`, t0.Format(time.RFC3339Nano)); err != nil {
			t.Fatal(err)
		}

		before, err := s.GetLead(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// the search itself must work: every victim value is somewhere before the erasure
		found := findIn(everyValue(t, s), victim.needles())
		for _, n := range victim.needles() {
			if len(found[n]) == 0 {
				t.Fatalf("before erasure %q is nowhere in the database: the search is broken", n)
			}
		}
		figures := pipelineFigures(t, s)
		stats, err := s.Stats(ctx, query.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Reached[lead.StatusContacted] != 2 {
			t.Fatalf("the lost lead must count as having reached contacted: %+v", stats.Reached)
		}

		clock.Advance(time.Minute)
		erased, err := s.AnonymizeLead(ctx, id, lead.Actor{Name: "adam-admin"})
		if err != nil {
			t.Fatal(err)
		}

		if found := findIn(everyValue(t, s), victim.needles()); len(found) > 0 {
			t.Errorf("after erasure the victim's data is still stored: %v", found)
		}
		kept := []string{bystander.first, bystander.last, bystander.email, bystander.phoneE164, bystander.role, bystander.message, bystander.ip}
		if found := findIn(everyValue(t, s), kept); len(found) != len(kept) {
			t.Errorf("the bystander's data must stay: found %v", found)
		}
		if after := pipelineFigures(t, s); after != figures {
			t.Errorf("statistics changed by the erasure:\nbefore %s\nafter  %s", figures, after)
		}
		if after, err := s.Stats(ctx, query.Filter{}); err != nil || !reflect.DeepEqual(after, stats) {
			t.Errorf("pipeline statistics changed by the erasure (%v):\nbefore %+v\nafter  %+v", err, stats, after)
		}
		for _, q := range []string{victim.first, victim.last, victim.email, "Zeb"} {
			if page, err := s.ListLeads(ctx, query.Filter{Query: q}, 10, nil); err != nil || len(page.Items) != 0 {
				t.Errorf("search for %q still finds %d leads (%v)", q, len(page.Items), err)
			}
		}

		want := before
		want.FirstName, want.LastName, want.Email = "[erased]", "[erased]", "erased+"+id+"@invalid"
		want.Phone, want.RoleTitle, want.Notes, want.Message, want.IPAddress = nil, nil, nil, nil, nil
		want.UpdatedAt = clock.Now().UTC()
		at := clock.Now().UTC()
		want.AnonymizedAt = &at
		if !reflect.DeepEqual(erased, want) {
			t.Errorf("anonymized lead\n got %+v\nwant %+v", erased, want)
		}

		bookings, err := s.ListBookings(ctx, id)
		if err != nil || len(bookings) != 3 {
			t.Fatalf("bookings %v %v", bookings, err)
		}
		for _, b := range bookings {
			if b.FirstName != "[erased]" || b.LastName != "[erased]" || b.Email != want.Email || b.Phone != nil ||
				b.RoleTitle != nil || b.Message != nil || b.IPAddress != nil || b.UserAgent != nil {
				t.Errorf("booking not erased: %+v", b)
			}
			if b.OrganizationName != "Mentor Collective" || b.ConsentVersion != "2026-01" || b.ConsentTimestamp.IsZero() ||
				b.OrganizationType == nil || b.UTMSource == nil {
				t.Errorf("booking lost a kept field: %+v", b)
			}
		}

		events, err := s.ListEvents(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, ev := range events {
			types = append(types, ev.Type)
			if ev.Type == "updated" && ev.Actor == "sally" && strings.Contains(string(ev.Details), "first_name") {
				t.Errorf("a field list with a value in it must go entirely: %s", ev.Details)
			}
		}
		if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'anonymized' AND actor = 'adam-admin'`, id); n != 1 {
			t.Errorf("anonymized events: %d (%v)", n, types)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND details LIKE '%"booking_id"%'`, id); n != 3 {
			t.Errorf("booking ids must survive in event details: %d", n)
		}
		moves := 0
		for _, ev := range events {
			var d struct{ From, To string }
			if ev.Type == "status_changed" && json.Unmarshal(ev.Details, &d) == nil && d.From == "new" && d.To == "contacted" {
				moves++
			}
		}
		if moves != 2 {
			t.Errorf("status moves must survive in event details: %d", moves)
		}

		if n := count(t, s, `SELECT COUNT(*) FROM webhook_deliveries WHERE lead_id = $1 AND event = 'lead.anonymized'`, id); n != 1 {
			t.Errorf("subscribers must be told of the erasure: %d deliveries", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE lead_id = $1 AND status = 'cancelled'`, id); n != 1 {
			t.Errorf("the queued email must be cancelled: %d", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs WHERE lead_id = $1 AND status = 'failed'`, id); n != 1 {
			t.Errorf("the failed email stays failed: %d", n)
		}
		clock.Advance(time.Hour)
		if jobs, err := s.ClaimEmailJobs(ctx, 10, time.Minute); err != nil || len(jobs) != 0 {
			t.Errorf("nothing is left to send: %v %v", jobs, err)
		}

		t.Run("idempotent: same lead, no second event", func(t *testing.T) {
			clock.Advance(time.Minute)
			again, err := s.AnonymizeLead(ctx, id, lead.Actor{Name: "other-admin"})
			if err != nil || !reflect.DeepEqual(again, erased) {
				t.Fatalf("second anonymize: %v\n got %+v\nwant %+v", err, again, erased)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'anonymized'`, id); n != 1 {
				t.Errorf("anonymized events: %d", n)
			}
			if n, err := s.AnonymizeByEmail(ctx, victim.email, lead.Actor{Name: "adam-admin"}); err != nil || n != 0 {
				t.Errorf("the old address matches nothing any more: %d %v", n, err)
			}
		})

		t.Run("edits after erasure are conflicts", func(t *testing.T) {
			_, err := s.PatchLead(ctx, id, lead.Input{FirstName: lead.Val("Zeb")}, nil, lead.Actor{Name: "sally"})
			if lead.ErrorCode(err) != lead.CodeConflict {
				t.Errorf("patch: %v", err)
			}
			if _, err := s.AppendNote(ctx, id, "one more", lead.Actor{Name: "sally"}); lead.ErrorCode(err) != lead.CodeConflict {
				t.Errorf("note: %v", err)
			}
		})

		t.Run("booking again with the old address makes a new lead", func(t *testing.T) {
			res := victim.book(t, s, victim.ip, victim.message, "", "")
			if !res.NewLead || res.LeadID == id || !res.EmailQueued {
				t.Fatalf("result %+v", res)
			}
			// and that new lead can be erased by email, in any case and with spaces around
			n, err := s.AnonymizeByEmail(ctx, "  "+strings.ToUpper(victim.email)+"\t", lead.Actor{Name: "adam-admin"})
			if err != nil || n != 1 {
				t.Fatalf("erasure request: %d %v", n, err)
			}
			l, _ := s.GetLead(ctx, res.LeadID)
			if l.AnonymizedAt == nil || l.Email != "erased+"+res.LeadID+"@invalid" {
				t.Errorf("not erased: %+v", l)
			}
			if n, err := s.AnonymizeByEmail(ctx, victim.email, lead.Actor{Name: "adam-admin"}); err != nil || n != 0 {
				t.Errorf("second request: %d %v", n, err)
			}
		})

		t.Run("bad requests", func(t *testing.T) {
			for _, email := range []string{"", "  ", "not-an-address", "a@b", "x@example.org\r\n"} {
				_, err := s.AnonymizeByEmail(ctx, email, lead.Actor{Name: "adam-admin"})
				var le *lead.Error
				if !errors.As(err, &le) || le.Code != lead.CodeInvalid || len(le.Issues) != 1 || le.Issues[0].Field != "email" {
					t.Errorf("%q: %v", email, err)
				}
			}
			if n, err := s.AnonymizeByEmail(ctx, "nobody@example.org", lead.Actor{Name: "adam-admin"}); n != 0 || err != nil {
				t.Errorf("unknown address: %d %v", n, err)
			}
			for _, bad := range []string{"nope", store.NewID()} {
				if _, err := s.AnonymizeLead(ctx, bad, lead.Actor{Name: "adam-admin"}); !errors.Is(err, lead.ErrNotFound) {
					t.Errorf("%s: %v", bad, err)
				}
				if _, err := s.ExportLead(ctx, bad, lead.Actor{Name: "adam-admin"}); !errors.Is(err, lead.ErrNotFound) {
					t.Errorf("export %s: %v", bad, err)
				}
			}
		})
	})
}

func TestConcurrentErasureWritesOneEvent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: storetest.NewClock(t0).Now})
		res := victim.book(t, s, victim.ip, victim.message, "", "")
		var wg sync.WaitGroup
		var mu sync.Mutex
		byEmail := 0
		for i := range 8 {
			wg.Go(func() {
				if i%2 == 0 {
					if _, err := s.AnonymizeLead(ctx, res.LeadID, lead.Actor{Name: "adam-admin"}); err != nil {
						t.Error(err)
					}
					return
				}
				n, err := s.AnonymizeByEmail(ctx, victim.email, lead.Actor{Name: "adam-admin"})
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				byEmail += n
				mu.Unlock()
			})
		}
		wg.Wait()
		if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE type = 'anonymized'`); n != 1 {
			t.Errorf("anonymized events: %d", n)
		}
		if byEmail > 1 {
			t.Errorf("%d erasure requests each reported anonymizing the lead", byEmail)
		}
	})
}

func TestExportHasEverythingAndIsRecorded(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		first := victim.book(t, s, victim.ip, victim.message, "spring-fair", "")
		clock.Advance(time.Minute)
		second := victim.book(t, s, victim.ip2, victim.message2, "", "")
		if _, err := s.AppendNote(ctx, first.LeadID, victim.note, lead.Actor{Name: "sally"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)

		x, err := s.ExportLead(ctx, first.LeadID, lead.Actor{Name: "adam-admin"})
		if err != nil {
			t.Fatal(err)
		}
		l, _ := s.GetLead(ctx, first.LeadID)
		if !reflect.DeepEqual(x.Lead, l) || !x.ExportedAt.Equal(clock.Now()) {
			t.Errorf("lead %+v, exported at %v", x.Lead, x.ExportedAt)
		}
		if len(x.Bookings) != 2 || x.Bookings[0].ID != first.BookingID || x.Bookings[1].ID != second.BookingID {
			t.Fatalf("bookings %+v", x.Bookings)
		}
		b := x.Bookings[0]
		if b.FirstName != victim.first || b.Email != victim.email || *b.Phone != victim.phoneE164 || *b.Message != victim.message ||
			*b.IPAddress != victim.ip || *b.UserAgent != victim.userAgent || *b.UTMCampaign != "spring-fair" || b.ConsentVersion != "2026-01" {
			t.Errorf("booking %+v", b)
		}
		// consent proof: the lead's consent, and per booking the version shown, the server's
		// time of consent, the address and the browser
		if !x.Consent.ConsentGiven || x.Consent.ConsentTimestamp == nil || !x.Consent.ConsentTimestamp.Equal(t0) || len(x.Consent.Bookings) != 2 {
			t.Fatalf("consent %+v", x.Consent)
		}
		c := x.Consent.Bookings[1]
		if c.BookingID != second.BookingID || c.ConsentVersion != "2026-01" || !c.ConsentTimestamp.Equal(t0.Add(time.Minute)) ||
			*c.IPAddress != victim.ip2 || *c.UserAgent != victim.userAgent {
			t.Errorf("booking consent %+v", c)
		}
		if len(x.Emails) != 1 || x.Emails[0].BookingID != first.BookingID || x.Emails[0].Status != "pending" {
			t.Errorf("emails %+v", x.Emails)
		}
		var types []string
		for _, ev := range x.Events {
			types = append(types, ev.Type)
		}
		if !slices.Equal(types, []string{"created", "booking_linked", "note_added", "exported"}) || x.Events[3].Actor != "adam-admin" {
			t.Errorf("events %v", types)
		}
		doc, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{`"exported_at"`, `"lead"`, `"bookings"`, `"events"`, `"emails"`, `"consent"`, `"consent_version"`, `"user_agent"`} {
			if !strings.Contains(string(doc), key) {
				t.Errorf("export has no %s: %s", key, doc)
			}
		}
		if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND type = 'exported' AND actor = 'adam-admin'`, first.LeadID); n != 1 {
			t.Errorf("exported events: %d", n)
		}
	})
}

func TestClearExpiredIPs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		old := victim.book(t, s, victim.ip, "", "", "")
		clock.Advance(time.Hour)
		recent := bystander.book(t, s, bystander.ip, "", "", "")

		b, err := s.ClearExpiredIPs(ctx, t0.Add(time.Minute), 10)
		if err != nil || b != (store.RetentionBatch{LeadIPs: 1, BookingIPs: 1}) {
			t.Fatalf("batch %+v %v", b, err)
		}
		if l, _ := s.GetLead(ctx, old.LeadID); l.IPAddress != nil {
			t.Errorf("old lead keeps %v", *l.IPAddress)
		}
		if l, _ := s.GetLead(ctx, recent.LeadID); l.IPAddress == nil || *l.IPAddress != bystander.ip {
			t.Errorf("recent lead lost its address")
		}
		if b, err := s.ClearExpiredIPs(ctx, t0.Add(time.Minute), 10); err != nil || b != (store.RetentionBatch{}) {
			t.Errorf("second round %+v %v", b, err)
		}

		if e.Name != "postgres" {
			return
		}
		// another instance in the middle of a round holds the lock: this one skips
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`SELECT pg_advisory_xact_lock($1)`, store.RetentionLockKey); err != nil {
			t.Fatal(err)
		}
		if b, err := s.ClearExpiredIPs(ctx, t0.Add(2*time.Hour), 10); err != nil || !b.Skipped || b.LeadIPs+b.BookingIPs != 0 {
			t.Errorf("while locked elsewhere: %+v %v", b, err)
		}
		tx.Rollback()
		if b, err := s.ClearExpiredIPs(ctx, t0.Add(2*time.Hour), 10); err != nil || b != (store.RetentionBatch{LeadIPs: 1, BookingIPs: 1}) {
			t.Errorf("after the lock is released: %+v %v", b, err)
		}
	})
}
