package store_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// seed is a lead written with raw SQL, so that a test can choose every field, its status
// and its created_at (no other way to create a lead does all three).
type seed struct {
	first, last, email, org string
	status                  lead.Status
	source                  lead.Source
	created                 time.Time
	message, notes          string
}

func tsText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

func insertSeed(t testing.TB, s *store.Store, l seed) string {
	t.Helper()
	id, err := tryInsertSeed(s, l)
	if err != nil {
		t.Fatalf("insert lead: %v", err)
	}
	return id
}

func tryInsertSeed(s *store.Store, l seed) (string, error) {
	if l.status == "" {
		l.status = lead.StatusNew
	}
	if l.source == "" {
		l.source = lead.SourceContactForm
	}
	id := store.NewID()
	c := tsText(l.created)
	_, err := s.DB().Exec(`INSERT INTO leads (id, first_name, last_name, email, email_normalized, organization_name,
	source, status, message, notes, consent_given, consent_timestamp, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, TRUE, $11, $11, $11)`,
		id, l.first, l.last, l.email, lead.NormalizeEmail(l.email), l.org, string(l.source), string(l.status),
		nullable(l.message), nullable(l.notes), c)
	return id, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ids(items []lead.Lead) []string {
	out := make([]string, len(items))
	for i, l := range items {
		out[i] = l.ID
	}
	return out
}

func mustQuery(t *testing.T, raw string) query.List {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := query.Parse(query.Params{Status: v["status"], Source: v["source"], Q: v.Get("q"),
		CreatedFrom: v.Get("created_from"), CreatedTo: v.Get("created_to"), Limit: v.Get("limit"), Cursor: v.Get("cursor")})
	if err != nil {
		t.Fatalf("ParseListQuery(%q): %v", raw, err)
	}
	return q
}

func TestListFiltersAndSearch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
		id := map[string]string{}
		for name, l := range map[string]seed{
			"ada":    {first: "Ada", last: "Lovelace", email: "ada@analytical.example", org: "Analytical Mentors", status: lead.StatusNew, source: lead.SourceDemoBooking, created: day(1)},
			"oyvind": {first: "Øyvind", last: "Ås", email: "oyvind@fjord.example", org: "Fjord Youth Network", status: lead.StatusContacted, source: lead.SourceEvent, created: day(2), message: "Lovelace fan club"},
			"li":     {first: "Li", last: "Wu", email: "li.wu@percent.example", org: "100% Volunteers_Org", status: lead.StatusWon, source: lead.SourceReferral, created: day(3), notes: "met Grace at the summit"},
			"grace":  {first: "Grace", last: "Hopper", email: "grace@cobol.example", org: `The "Compiler" Club`, status: lead.StatusLost, source: lead.SourceEvent, created: day(4)},
			"kari":   {first: "Kari", last: "Nordmann", email: "kari@bergen.example", org: "Bergen Senior Centre", status: lead.StatusContacted, source: lead.SourceDemoBooking, created: day(5)},
			"sofie":  {first: "Sofie", last: "Lie", email: "sofie@ØSTFOLD.example", org: "Østfold Welcome Hub", status: lead.StatusDisqualified, source: lead.SourceImport, created: day(6)},
		} {
			id[name] = insertSeed(t, s, l)
		}
		want := func(names ...string) []string {
			var out []string
			for _, n := range names {
				out = append(out, id[n])
			}
			return out
		}
		cases := []struct {
			query string
			want  []string
		}{
			{"", want("sofie", "kari", "grace", "li", "oyvind", "ada")},
			{"status=contacted", want("kari", "oyvind")},
			{"status=contacted,won&status=lost", want("kari", "grace", "li", "oyvind")},
			{"source=event", want("grace", "oyvind")},
			{"source=event,import&status=lost", want("grace")},
			{"created_from=2026-03-03&created_to=2026-03-05", want("kari", "grace", "li")},
			{"created_from=2026-03-03T12:00:00Z&created_to=2026-03-04T12:00:00Z", want("grace", "li")},
			{"created_to=2026-03-04T11:59:59.999999Z", want("li", "oyvind", "ada")},
			// search: each field, any case, inside the value
			{"q=LOVEL", want("ada")},        // last name (and not oyvind's message)
			{"q=øYVIN", want("oyvind")},     // first name, non-ASCII case folding
			{"q=ÅS", want("oyvind")},        // two characters, non-ASCII
			{"q=wu", want("li")},            // two characters
			{"q=ada lovelace", want("ada")}, // the full name
			{"q=@COBOL.ex", want("grace")},  // email
			{"q=østfold", want("sofie")},    // email and organization
			{"q=senior cent", want("kari")}, // organization
			{"q=grace", want("grace")},      // not li's notes
			{"q=fan club", nil},             // message is not searched
			{"q=lovelace ada", nil},         // no match across two fields
			{"q=%25", want("li")},           // % is literal
			{"q=_", want("li")},             // _ is literal
			{"q=s_O", want("li")},           // (not "any character")
			{"q=0%25 v", want("li")},        // % inside a longer term
			{`q="compiler"`, want("grace")}, // quotes are literal, not FTS syntax
			{`q="`, want("grace")},          // a lone quote
			{"q=compiler OR bergen", nil},   // no query syntax
			{"q=  ada  ", want("ada")},      // trimmed
			{"q=e&status=contacted&source=demo_booking", want("kari")},
			{"q=example&created_from=2026-03-05", want("sofie", "kari")},
		}
		for _, c := range cases {
			t.Run(c.query, func(t *testing.T) {
				q := mustQuery(t, c.query)
				page, err := s.ListLeads(ctx, q.Filter, q.Limit, q.After)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(page.Items); !slices.Equal(got, c.want) {
					t.Fatalf("got %v, want %v", got, c.want)
				}
				if page.Next != nil {
					t.Fatalf("next cursor on the only page")
				}
				var exported []string
				if err := s.ExportLeads(ctx, q.Filter, func(l *lead.Lead) error {
					exported = append(exported, l.ID)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(exported, c.want) {
					t.Fatalf("export %v, want %v", exported, c.want)
				}
			})
		}

		t.Run("search follows updates of the searched fields", func(t *testing.T) {
			if _, err := s.DB().Exec(`UPDATE leads SET last_name = 'Byron', notes = 'x' WHERE id = $1`, id["ada"]); err != nil {
				t.Fatal(err)
			}
			for q, w := range map[string][]string{"byron": want("ada"), "lovelace": nil, "ada byr": want("ada")} {
				page, err := s.ListLeads(ctx, query.Filter{Query: q}, 10, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(ids(page.Items), w) {
					t.Errorf("q=%s: got %v, want %v", q, ids(page.Items), w)
				}
			}
		})
	})
}

func TestListSearchWithBookings(t *testing.T) {
	// the booking upsert updates a lead without touching the searched fields: one hit, not two
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: storetest.NewClock(t0).Now})
		for i := range 2 {
			if _, err := s.Book(ctx, params(booking("twice@example.org"), fmt.Sprintf("192.0.2.%d", i+1))); err != nil {
				t.Fatal(err)
			}
		}
		page, err := s.ListLeads(ctx, query.Filter{Query: "Analytical"}, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].Email != "twice@example.org" {
			t.Fatalf("got %+v", page.Items)
		}
	})
}

func TestListPagingWhileInserting(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		var want []string
		for i := range 40 {
			// groups of four share a created_at, so pages must break ties by id
			created := t0.Add(-time.Duration(40-i/4) * time.Hour)
			st := lead.StatusContacted
			if i%3 == 0 {
				st = lead.StatusQualified
			}
			id := insertSeed(t, s, seed{first: "Page", last: fmt.Sprint(i), email: fmt.Sprintf("p%d@example.org", i),
				org: "Paging Org", status: st, created: created})
			if st == lead.StatusContacted {
				want = append(want, id)
			}
		}
		// newest first, ties by id descending
		got, err := s.ListLeads(ctx, query.Filter{Statuses: []lead.Status{lead.StatusContacted}}, 200, nil)
		if err != nil {
			t.Fatal(err)
		}
		want = ids(got.Items)
		if len(want) != 26 {
			t.Fatalf("%d contacted leads", len(want))
		}
		for i := 1; i < len(got.Items); i++ {
			a, b := got.Items[i-1], got.Items[i]
			if a.CreatedAt.Before(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID {
				t.Fatalf("not newest first at %d", i)
			}
		}

		// page through, newest first, while a goroutine inserts new contacted leads (from the
		// second page on, so that all of them are newer than the first page); the pager
		// waits for at least one insert between two pages
		f := query.Filter{Statuses: []lead.Status{lead.StatusContacted}, Query: "paging"}
		page, err := s.ListLeads(ctx, f, 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		insertedOne := make(chan struct{}, 1000)
		var wg sync.WaitGroup
		var insertErr error
		wg.Go(func() {
			defer close(insertedOne)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				clock.Advance(time.Second)
				if _, insertErr = tryInsertSeed(s, seed{first: "New", last: "Comer", email: fmt.Sprintf("new%d@example.org", i),
					org: "Paging Org", status: lead.StatusContacted, created: clock.Now()}); insertErr != nil {
					return
				}
				select {
				case insertedOne <- struct{}{}:
				default:
				}
			}
		})
		seen := ids(page.Items)
		pages := 1
		for page.Next != nil {
			if _, ok := <-insertedOne; !ok {
				break
			}
			// round-trip through the opaque form, as a client does
			c, err := query.ParseCursor(page.Next.String())
			if err != nil {
				t.Fatal(err)
			}
			if page, err = s.ListLeads(ctx, f, 3, &c); err != nil {
				t.Fatal(err)
			}
			pages++
			for _, l := range page.Items {
				if l.FirstName == "New" {
					t.Fatalf("a lead inserted during paging showed up on page %d", pages)
				}
			}
			seen = append(seen, ids(page.Items)...)
		}
		close(stop)
		wg.Wait()
		if insertErr != nil {
			t.Fatal(insertErr)
		}
		t.Logf("%d pages", pages)
		if !slices.Equal(seen, want) {
			t.Fatalf("paged %d leads %v,\nwant %d %v", len(seen), seen, len(want), want)
		}
	})
}

func TestStatsHandBuilt(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		march := func(d int) time.Time { return time.Date(2026, 3, d, 9, 0, 0, 0, time.UTC) }
		add := func(n int, st lead.Status, src lead.Source, created time.Time, moves ...lead.Status) string {
			id := insertSeed(t, s, seed{first: "S", last: fmt.Sprint(n), email: fmt.Sprintf("s%d@example.org", n),
				org: "Stats Org", status: st, source: src, created: created})
			for i := 0; i+1 < len(moves); i++ {
				if _, err := s.DB().Exec(`INSERT INTO lead_events (id, lead_id, type, actor, details, created_at)
					VALUES ($1, $2, 'status_changed', 'sally', $3, $4)`, store.NewID(), id,
					fmt.Sprintf(`{"from":%q,"to":%q}`, moves[i], moves[i+1]), tsText(created.Add(time.Duration(i+1)*time.Hour))); err != nil {
					t.Fatal(err)
				}
			}
			return id
		}
		const (
			n, c, q, ds, dc, ps, ng, won, lost, dq = lead.StatusNew, lead.StatusContacted, lead.StatusQualified,
				lead.StatusDemoScheduled, lead.StatusDemoCompleted, lead.StatusProposalSent, lead.StatusNegotiation,
				lead.StatusWon, lead.StatusLost, lead.StatusDisqualified
		)
		// furthest stage of each lead, by the definition in Stats:
		l1 := add(1, n, lead.SourceDemoBooking, march(1))                              // new
		add(2, c, lead.SourceDemoBooking, march(2), n, c)                              // contacted
		add(3, q, lead.SourceDemoBooking, march(3), n, c, q)                           // qualified
		add(4, won, lead.SourceDemoBooking, march(4), n, c, q, ds, dc, ps, ng, won)    // won
		add(5, lost, lead.SourceEvent, march(5), n, c, lost)                           // contacted
		add(6, dq, lead.SourceEvent, march(6), n, c, q, ds, dq)                        // demo_scheduled
		add(7, lost, lead.SourceImport, march(7))                                      // none: created lost
		add(8, lost, lead.SourceReferral, march(8), ng, won, lost)                     // won (won, then lost)
		add(9, dc, lead.SourceImport, march(9))                                        // demo_completed: imported there
		add(10, dq, lead.SourceDemoBooking, march(10), n, lost, dq)                    // new
		add(11, won, lead.SourcePartner, time.Date(2026, 2, 27, 9, 0, 0, 0, time.UTC)) // outside March
		// by hand: furthest new×2 (1, 10), contacted×2 (2, 5), qualified (3), demo_scheduled (6),
		// demo_completed (9), won×2 (4, 8); so reached = new 9, contacted 7, qualified 5,
		// demo_scheduled 4, demo_completed 3, proposal_sent 2, negotiation 2, won 2.

		book := func(campaign string, created time.Time) {
			if _, err := s.DB().Exec(`INSERT INTO bookings (id, lead_id, first_name, last_name, email, organization_name,
				utm_campaign, consent_version, consent_timestamp, created_at) VALUES ($1, $2, 'S', '1', 's1@example.org', 'Stats Org',
				$3, 'v1', $4, $4)`, store.NewID(), l1, nullable(campaign), tsText(created)); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range []struct {
			campaign string
			day      int
		}{{"spring", 1}, {"spring", 2}, {"spring", 31}, {"", 3}, {"", 4}, {"autumn", 5}, {"zeta", 6}} {
			book(b.campaign, march(b.day))
		}
		book("spring", time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC))

		f, err := query.ParseDates("2026-03-01", "2026-03-31")
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Stats(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 10 {
			t.Errorf("total %d, want 10", st.Total)
		}
		wantStatus := map[lead.Status]int{n: 1, c: 1, q: 1, ds: 0, dc: 1, ps: 0, ng: 0, won: 1, lost: 3, dq: 2}
		if fmt.Sprint(st.ByStatus) != fmt.Sprint(wantStatus) {
			t.Errorf("by status %v, want %v", st.ByStatus, wantStatus)
		}
		wantSource := map[lead.Source]int{}
		for _, src := range lead.Sources {
			wantSource[src] = 0
		}
		wantSource[lead.SourceDemoBooking], wantSource[lead.SourceEvent], wantSource[lead.SourceImport], wantSource[lead.SourceReferral] = 5, 2, 2, 1
		if fmt.Sprint(st.BySource) != fmt.Sprint(wantSource) {
			t.Errorf("by source %v, want %v", st.BySource, wantSource)
		}
		wantReached := map[lead.Status]int{n: 9, c: 7, q: 5, ds: 4, dc: 3, ps: 2, ng: 2, won: 2}
		if fmt.Sprint(st.Reached) != fmt.Sprint(wantReached) {
			t.Errorf("reached %v, want %v", st.Reached, wantReached)
		}
		wantConv := []string{"new→contacted 7/9", "contacted→qualified 5/7", "qualified→demo_scheduled 4/5",
			"demo_scheduled→demo_completed 3/4", "demo_completed→proposal_sent 2/3", "proposal_sent→negotiation 2/2",
			"negotiation→won 2/2"}
		var gotConv []string
		for _, cv := range st.Conversion {
			gotConv = append(gotConv, fmt.Sprintf("%s→%s %d/%d", cv.From, cv.To, cv.ReachedTo, cv.ReachedFrom))
			if cv.Rate == nil || *cv.Rate != float64(cv.ReachedTo)/float64(cv.ReachedFrom) {
				t.Errorf("%s→%s rate %v", cv.From, cv.To, cv.Rate)
			}
		}
		if !slices.Equal(gotConv, wantConv) {
			t.Errorf("conversion %v,\nwant %v", gotConv, wantConv)
		}
		var gotCamp []string
		for _, b := range st.BookingsByCampaign {
			name := "(null)"
			if b.UTMCampaign != nil {
				name = *b.UTMCampaign
			}
			gotCamp = append(gotCamp, fmt.Sprintf("%s=%d", name, b.Bookings))
		}
		if want := []string{"spring=3", "(null)=2", "autumn=1", "zeta=1"}; !slices.Equal(gotCamp, want) {
			t.Errorf("campaigns %v, want %v", gotCamp, want)
		}

		// without dates: lead 11 and the February booking count too
		all, err := s.Stats(ctx, query.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total != 11 || all.ByStatus[won] != 2 || all.BySource[lead.SourcePartner] != 1 || all.Reached[won] != 3 ||
			all.BookingsByCampaign[0].Bookings != 4 {
			t.Errorf("all-time stats %+v", all)
		}

		// an empty range: zeros everywhere, rates null
		empty, err := s.Stats(ctx, query.Filter{CreatedFrom: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if empty.Total != 0 || len(empty.ByStatus) != 10 || len(empty.BySource) != 10 || len(empty.Conversion) != 7 ||
			empty.Conversion[0].Rate != nil || len(empty.BookingsByCampaign) != 0 {
			t.Errorf("empty stats %+v", empty)
		}
	})
}
