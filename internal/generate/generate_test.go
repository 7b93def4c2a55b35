package generate_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/generate"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func count(t *testing.T, s *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func ids(items []lead.Lead) []string {
	out := make([]string, len(items))
	for i, l := range items {
		out[i] = l.ID
	}
	return out
}

func TestGenerate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		clock := storetest.NewClock(t0)
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		const n = 12000
		var progress []int
		// the bulk load drops and rebuilds indexes and triggers on SQLite: all come back
		schema := func() string {
			t.Helper()
			q := `SELECT indexname || indexdef FROM pg_indexes WHERE schemaname = 'public' UNION ALL
				SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`
			if e.Name == "sqlite" {
				q = `SELECT type || name || COALESCE(sql, '') FROM sqlite_schema ORDER BY 1`
			}
			rows, err := s.DB().Query(q)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var all []string
			for rows.Next() {
				var x string
				rows.Scan(&x)
				all = append(all, x)
			}
			return strings.Join(all, "\n")
		}
		before := schema()
		if err := generate.Leads(ctx, s, n, generate.Options{Seed: 1, Progress: func(d int) { progress = append(progress, d) }}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(progress, []int{10000, 12000}) {
			t.Errorf("progress %v", progress)
		}
		if got := count(t, s, `SELECT COUNT(*) FROM leads`); got != n {
			t.Fatalf("%d leads", got)
		}
		if after := schema(); after != before || !strings.Contains(after, "idx_leads_status_created") ||
			e.Name == "sqlite" && !strings.Contains(after, "leads_search_insert") {
			t.Errorf("schema after a bulk load:\n%s\nwant\n%s", after, before)
		}
		if e.Name == "sqlite" { // the load's merge settings do not outlive it
			if got := count(t, s, `SELECT COUNT(*) FROM leads_search_config WHERE k = 'automerge' AND v = 4 OR k = 'crisismerge' AND v = 16`); got != 2 {
				t.Errorf("FTS5 merge settings after a bulk load: %d of 2 as before", got)
			}
		}
		if got, want := count(t, s, `SELECT COUNT(*) FROM bookings`), count(t, s, `SELECT COUNT(*) FROM leads WHERE source = 'demo_booking'`); got != want || got == 0 {
			t.Errorf("%d bookings for %d demo_booking leads", got, want)
		}
		if got := count(t, s, `SELECT COUNT(DISTINCT email_normalized) FROM leads`); got != n {
			t.Errorf("%d distinct emails", got)
		}
		for _, col := range []string{"status", "source", "first_name", "last_name", "organization_name", "utm_campaign"} {
			if got := count(t, s, `SELECT COUNT(DISTINCT `+col+`) FROM leads`); got < 8 {
				t.Errorf("only %d distinct %s", got, col)
			}
		}

		var all []lead.Lead
		if err := s.ExportLeads(ctx, query.Filter{}, func(l *lead.Lead) error { all = append(all, *l); return nil }); err != nil {
			t.Fatal(err)
		}
		oldest, newest := all[len(all)-1].CreatedAt, all[0].CreatedAt
		if oldest.Before(t0.Add(-2*365*24*time.Hour)) || newest.After(t0) || newest.Sub(oldest) < 700*24*time.Hour {
			t.Errorf("created_at from %s to %s", oldest, newest)
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID > all[i-1].ID { // ids are UUIDv7 of created_at
				t.Fatalf("ids out of created_at order at %d", i)
			}
		}

		// the search index agrees with a brute-force scan of the same data, in full (the
		// export) and page by page (where SQLite reads pages off its index in order)
		checkSearch := func(terms ...string) {
			t.Helper()
			var all []lead.Lead
			if err := s.ExportLeads(ctx, query.Filter{}, func(l *lead.Lead) error { all = append(all, *l); return nil }); err != nil {
				t.Fatal(err)
			}
			for _, term := range terms {
				var want []string
				for _, l := range all {
					doc := strings.ToLower(l.FirstName + " " + l.LastName + "\n" + l.Email + "\n" + l.OrganizationName)
					if strings.Contains(doc, strings.ToLower(term)) {
						want = append(want, l.ID)
					}
				}
				var got []string
				if err := s.ExportLeads(ctx, query.Filter{Query: term}, func(l *lead.Lead) error { got = append(got, l.ID); return nil }); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("q=%q: %d hits, brute force %d", term, len(got), len(want))
				}
				var paged []string
				var after *query.Cursor
				for {
					page, err := s.ListLeads(ctx, query.Filter{Query: term}, 200, after)
					if err != nil {
						t.Fatal(err)
					}
					paged = append(paged, ids(page.Items)...)
					if after = page.Next; after == nil {
						break
					}
				}
				if !slices.Equal(paged, want) {
					t.Errorf("q=%q: %d paged hits, brute force %d", term, len(paged), len(want))
				}
			}
		}
		checkSearch("sen", "Åberg", "øy", "ÅS", "o'b", "ll", "-", ".EXAMPLE.NO", "ada lovelace", "s\u00f8ren", "z", "volunteer", "ØYVIND")

		st, err := s.Stats(ctx, query.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, v := range st.ByStatus {
			sum += v
		}
		if sum != n || st.Reached[lead.StatusNew] < n/2 || st.Reached[lead.StatusWon] == 0 {
			t.Errorf("stats of generated data: %+v", st)
		}

		if err := generate.Leads(ctx, s, 10, generate.Options{Seed: 1}); err == nil || !strings.Contains(err.Error(), "another seed") {
			t.Errorf("same seed again: %v", err)
		}
		// another seed adds leads again; spread over the same two years, they arrive out of
		// created_at order, which the search must still get right: a few of them, then many
		if err := generate.Leads(ctx, s, 10, generate.Options{Seed: 2}); err != nil {
			t.Errorf("another seed: %v", err)
		}
		if got := count(t, s, `SELECT COUNT(*) FROM leads`); got != n+10 {
			t.Errorf("%d leads after a failed and a good run", got)
		}
		if e.Name == "sqlite" {
			if late := count(t, s, `SELECT COUNT(*) FROM leads_search_late`); late == 0 || late > 10 {
				t.Errorf("%d leads recorded as out of order, want 1 to 10", late)
			}
		}
		checkSearch("sen", "ØYVIND", ".example")
		if err := generate.Leads(ctx, s, 1500, generate.Options{Seed: 3}); err != nil {
			t.Fatal(err)
		}
		checkSearch("sen", "ØYVIND", ".example")
		if _, err := s.Book(ctx, store.BookingParams{Booking: lead.Booking{FirstName: "Quentin", LastName: "Zyxwvut",
			Email: "qz@example.org", EmailNormalized: "qz@example.org", OrganizationName: "After Bulk"}, IP: "192.0.2.9",
			ConsentVersion: "test"}); err != nil {
			t.Fatal(err)
		}
		checkSearch("zyxwvut", "after bulk")
	})
}
