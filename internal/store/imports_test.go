package store_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/corpora"
	"github.com/norsedigital/leads/internal/csvimport"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/webhook"
)

const consentAt = "2026-01-10T10:00:00Z"

// csvFile writes records as CSV the way encoding/csv quotes them.
func csvFile(t testing.TB, records [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func leadByEmail(t *testing.T, s *store.Store, email string) lead.Lead {
	t.Helper()
	var id string
	if err := s.DB().QueryRow(`SELECT id FROM leads WHERE email_normalized = $1 AND anonymized_at IS NULL`, lead.NormalizeEmail(email)).Scan(&id); err != nil {
		t.Fatalf("lead %s: %v", email, err)
	}
	l, err := s.GetLead(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// importCSV imports a file the way the API and the console do: csvimport reads it,
// store.Import stores its rows.
func importCSV(ctx context.Context, s *store.Store, data []byte, actor string) (csvimport.Report, error) {
	f, err := csvimport.Read(data, s.Now())
	if err != nil {
		return csvimport.Report{}, err
	}
	res, err := s.Import(ctx, f.Rows(), lead.Actor{Name: actor})
	return f.Report(res.Created, res.Linked, res.NotesLeftOut, store.MaxNotesLength), err
}

type refusal struct {
	Row         int
	Field, Rule string
}

func refusals(issues []csvimport.Issue) []refusal {
	out := []refusal{}
	for _, i := range issues {
		if i.Message == "" {
			panic("refusal without a message")
		}
		out = append(out, refusal{i.Row, i.Field, i.Rule})
	}
	return out
}

func TestImportCSV(t *testing.T) {
	blns := corpora.BLNS(t)
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		hook, _, err := s.CreateWebhook(ctx, "https://203.0.113.5/hook", webhook.Events)
		if err != nil {
			t.Fatal(err)
		}

		// a lead that is already there, with an empty phone and a set organization type
		cts := t0.Add(-time.Hour)
		orgType := "Charity"
		known, err := s.CreateLead(ctx, lead.Lead{FirstName: "Kim", LastName: "Known", Email: "Known@Example.org",
			OrganizationName: "Known Org", OrganizationType: &orgType, Source: lead.SourceEvent, Status: lead.StatusContacted,
			ConsentGiven: true, ConsentTimestamp: &cts}, lead.Actor{Name: "sally"})

		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)

		header := []string{"first_name", "last_name", "Email", "phone", "organization_name", "organization_type", "message",
			"consent_given", "consent_timestamp", "status", "source", "favourite_colour", "notes"}
		row := func(first, email, phone, orgType, msg, consent, consentTS, status, source string) []string {
			return []string{first, "Lovelace", email, phone, "Analytical Mentors", orgType, msg, consent, consentTS, status, source, "blue", "hi"}
		}
		records := [][]string{header,
			/* 1 */ row("Ada", "ada@example.org", "+47 22 33 44 55", "", "", "yes", consentAt, "qualified", ""),
			/* 2 */ row("Kay", "  KNOWN@example.ORG", "+4799887766", "Other", "Met at the fair", "1", consentAt, "won", ""),
			/* 3 */ row("Ivy", "not-an-email", "", "", "", "true", consentAt, "", ""),
			/* 4 */ row("Mo", "mo@example.org", "", "", "", "", "", "", ""),
			/* 5 */ row("No", "no@example.org", "", "", "", "no", consentAt, "", ""),
			/* 6 */ row("Tess", "tess@example.org", "", "", "", "TRUE", "", "", ""),
			/* 7 */ row("Ada", "ADA@EXAMPLE.ORG", "", "Club", "Second touch", "1", consentAt, "lost", "referral"),
			/* 8 */ row("Bo", "bo@example.org", "", "", "", "yes", consentAt, "bogus", ""),
			/* 9 */ row("Eve", "eve@example.org", "", "", "", "Yes", "2026-01-10 09:00:00", "", "event"),
			/* 10 */ row("May", "may@example.org", "", "", "", "maybe", consentAt, "", ""),
			/* 11 */ append(row("Xtra", "xtra@example.org", "", "", "", "yes", consentAt, "", ""), "spill"),
			/* 12 */ {"", "", "", "", "", "", "", "", "", "", "", "", ""},
			/* 13 */ row("", "a@b", "", "", "", "yes", consentAt, "", "nowhere"),
			/* 14 */ row("Fut", "fut@example.org", "", "", "", "yes", "2099-01-01T00:00:00Z", "", ""),
			/* 15 */ row("Odd", "odd@example.org", "123", "", "", "0", "", "", ""),
			/* 16 */ row("Ts", "ts@example.org", "", "", "", "yes", "yesterday", "", ""),
		}
		wantRefused := []refusal{
			{3, "email", lead.RuleEmailFormat},
			{4, "consent_given", lead.RuleGDPRConsent},
			{5, "consent_given", lead.RuleGDPRConsent}, {5, "consent_timestamp", lead.RuleConsentTimestamp},
			{6, "consent_timestamp", lead.RuleConsentTimestamp},
			{8, "status", lead.RuleStatusEnum},
			{10, "consent_given", lead.RuleGDPRConsent}, {10, "consent_timestamp", lead.RuleConsentTimestamp},
			{11, "row", csvimport.RuleColumnCount},
			{13, "first_name", lead.RuleRequiredFields}, {13, "email", lead.RuleEmailFormat}, {13, "source", lead.RuleSourceEnum},
			{14, "consent_timestamp", lead.RuleConsentTimestamp},
			{15, "consent_given", lead.RuleGDPRConsent},
			{16, "consent_timestamp", lead.RuleConsentTimestamp},
		}
		wantCreated, wantLinked := 2, 2 // rows 1 and 9; rows 2 and 7

		// BLNS strings in a name, a plain field and the message: each row is stored byte for
		// byte or refused exactly as the validator refuses it
		type blnsRow struct {
			email string
			want  lead.Lead
		}
		var accepted []blnsRow
		ts0, _ := time.Parse(time.RFC3339, consentAt)
		for i, str := range blns {
			n := len(records)
			email := fmt.Sprintf("blns-%d@example.org", i)
			records = append(records, row(str, email, "", str, str, "yes", consentAt, "", ""))
			yes := true
			l, res := lead.ValidateCreate(lead.Input{FirstName: lead.Val(str), LastName: lead.Val("Lovelace"), Email: lead.Val(email),
				OrganizationName: lead.Val("Analytical Mentors"), OrganizationType: lead.Val(str), Message: lead.Val(str),
				Source: lead.Val("import"), ConsentGiven: &yes, ConsentTimestamp: &ts0}, clock.Now())
			if res.OK() {
				accepted = append(accepted, blnsRow{email, l})
				wantCreated++
			}
			for _, iss := range res.Errors {
				wantRefused = append(wantRefused, refusal{n, iss.Field, iss.Rule})
			}
		}
		if len(accepted) < len(blns)/3 {
			t.Fatalf("only %d of %d BLNS rows are valid: the test would prove little", len(accepted), len(blns))
		}

		t.Logf("BLNS: %d strings, %d rows accepted; %d refusals expected in all", len(blns), len(accepted), len(wantRefused))
		rep, err := importCSV(ctx, s, csvFile(t, records), "sally")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != wantCreated || rep.Linked != wantLinked {
			t.Errorf("created %d linked %d, want %d and %d", rep.Created, rep.Linked, wantCreated, wantLinked)
		}
		if got := refusals(rep.Refused); !slices.Equal(got, wantRefused) {
			t.Errorf("refused\n%v\nwant\n%v", got, wantRefused)
		}
		if !slices.Equal(rep.IgnoredColumns, []string{"favourite_colour", "notes"}) {
			t.Errorf("ignored columns %q", rep.IgnoredColumns)
		}
		if !slices.Contains(refusals(rep.Warnings), refusal{15, "phone", lead.RulePhoneFormat}) {
			t.Errorf("warnings %v", rep.Warnings)
		}

		// the database matches the report
		if n := count(t, s, `SELECT COUNT(*) FROM leads`); n != 1+wantCreated {
			t.Errorf("%d leads, want %d", n, 1+wantCreated)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE type = 'created' AND actor = 'sally'`); n != 1+wantCreated {
			t.Errorf("%d created events", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM lead_events WHERE type = $1`, lead.EventImportLinked); n != wantLinked {
			t.Errorf("%d import_linked events", n)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM email_jobs`); n != 0 {
			t.Errorf("%d email jobs: imports send no email", n)
		}
		// the known lead's staff create queued one lead.created too
		if n := count(t, s, `SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1 AND event = 'lead.created'`, hook.ID); n != 1+wantCreated {
			t.Errorf("%d lead.created deliveries, want %d", n, 1+wantCreated)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM webhook_deliveries`); n != 1+wantCreated {
			t.Errorf("%d deliveries: linking queues no other event", n)
		}

		ada := leadByEmail(t, s, "ada@example.org")
		if ada.Status != lead.StatusQualified || ada.Source != lead.SourceImport || *ada.Phone != "+4722334455" ||
			ada.OrganizationType == nil || *ada.OrganizationType != "Club" || *ada.Message != "Second touch" ||
			!ada.ConsentTimestamp.Equal(ts0) || ada.IPAddress != nil || !ada.CreatedAt.Equal(clock.Now()) {
			t.Errorf("ada (created by row 1, linked by row 7: empty fields filled, status kept) %+v", ada)
		}
		if ada.Notes == nil || strings.Count(*ada.Notes, "\n") != 0 || !strings.Contains(*ada.Notes, "row 7") ||
			!strings.Contains(*ada.Notes, "via referral") || !strings.HasSuffix(*ada.Notes, ": Second touch") {
			t.Errorf("ada's notes %q", deref(ada.Notes))
		}
		k := leadByEmail(t, s, "known@example.org")
		if k.ID != known.ID || k.FirstName != "Kim" || k.Email != "Known@Example.org" || *k.OrganizationType != "Charity" ||
			*k.Phone != "+4799887766" || *k.Message != "Met at the fair" || k.Status != lead.StatusContacted || k.Source != lead.SourceEvent ||
			!k.UpdatedAt.Equal(clock.Now()) {
			t.Errorf("known lead after linking %+v", k)
		}
		if k.Notes == nil || !strings.Contains(*k.Notes, "Import by sally via import (row 2): Met at the fair") {
			t.Errorf("known lead's notes %q", deref(k.Notes))
		}
		if eve := leadByEmail(t, s, "eve@example.org"); eve.Source != lead.SourceEvent || eve.Status != lead.StatusNew ||
			!eve.ConsentTimestamp.Equal(ts0.Add(-time.Hour)) || eve.Notes != nil {
			t.Errorf("eve %+v", eve)
		}
		for _, a := range accepted {
			got := leadByEmail(t, s, a.email)
			if got.FirstName != a.want.FirstName || deref(got.OrganizationType) != deref(a.want.OrganizationType) ||
				deref(got.Message) != deref(a.want.Message) {
				t.Errorf("BLNS row %s stored %q/%q/%q, want %q/%q/%q", a.email, got.FirstName, deref(got.OrganizationType),
					deref(got.Message), a.want.FirstName, deref(a.want.OrganizationType), deref(a.want.Message))
			}
		}

		// the same file again: every valid row now links, nothing is created
		clock.Advance(time.Minute)
		again, err := importCSV(ctx, s, csvFile(t, records), "sally")
		if err != nil {
			t.Fatal(err)
		}
		if again.Created != 0 || again.Linked != wantCreated+wantLinked || !slices.Equal(refusals(again.Refused), wantRefused) {
			t.Errorf("second import: created %d linked %d (want 0, %d)", again.Created, again.Linked, wantCreated+wantLinked)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM leads`); n != 1+wantCreated {
			t.Errorf("%d leads after importing twice", n)
		}
	})
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// Batches commit one after the other; a later batch links to a lead an earlier one created.
func TestImportAcrossBatches(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: storetest.NewClock(t0).Now})
		records := [][]string{{"email", "first_name", "last_name", "organization_name", "consent_given", "consent_timestamp", "message"}}
		const distinct = 700
		for i := range 2 * distinct {
			email := fmt.Sprintf("p%d@example.org", i%distinct)
			if i >= distinct {
				email = strings.ToUpper(email)
			}
			records = append(records, []string{email, "P", "Q", "Org", "yes", consentAt, fmt.Sprintf("m%d", i)})
		}
		rep, err := importCSV(ctx, s, csvFile(t, records), "bulk")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != distinct || rep.Linked != distinct || len(rep.Refused) != 0 {
			t.Fatalf("report %+v", rep)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM leads WHERE notes LIKE '%m%'`); n != distinct {
			t.Fatalf("%d leads with a note, want %d", n, distinct)
		}
		l := leadByEmail(t, s, "p5@example.org")
		if *l.Message != "m5" || !strings.HasSuffix(*l.Notes, fmt.Sprintf("(row %d): m%d", distinct+6, distinct+5)) {
			t.Fatalf("p5 %q %q", *l.Message, *l.Notes)
		}
	})
}

func TestImportNoteThatDoesNotFit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: storetest.NewClock(t0).Now})
		records := [][]string{{"email", "first_name", "last_name", "organization_name", "consent_given", "consent_timestamp", "message"},
			{"full@example.org", "F", "Q", "Org", "yes", consentAt, "first"}}
		if _, err := importCSV(ctx, s, csvFile(t, records), "bulk"); err != nil {
			t.Fatal(err)
		}
		full := strings.Repeat("n", store.MaxNotesLength-10)
		if _, err := s.DB().Exec(`UPDATE leads SET notes = $1 WHERE email = 'full@example.org'`, full); err != nil {
			t.Fatal(err)
		}
		records = append(records[:1],
			[]string{"other@example.org", "O", "Q", "Org", "yes", consentAt, ""},
			[]string{"FULL@example.org", "F", "Q", "Org", "yes", consentAt, "again, at length"})
		rep, err := importCSV(ctx, s, csvFile(t, records), "bulk")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != 1 || rep.Linked != 1 || len(rep.Refused) != 0 || len(rep.Warnings) != 1 ||
			rep.Warnings[0].Row != 2 || rep.Warnings[0].Field != "notes" || rep.Warnings[0].Rule != lead.RuleFieldLength {
			t.Fatalf("report %+v", rep)
		}
		if l := leadByEmail(t, s, "full@example.org"); *l.Notes != full {
			t.Errorf("notes grew to %d characters", len(*l.Notes))
		}
	})
}
