package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// listSeed is a lead written with raw SQL, so that a test chooses its status, source and
// created_at freely.
type listSeed struct {
	first, last, email, org string
	status                  lead.Status
	source                  lead.Source
	created                 time.Time
	phone, message, notes   string
}

func insertListLead(t testing.TB, s *store.Store, l listSeed) string {
	t.Helper()
	if l.status == "" {
		l.status = lead.StatusNew
	}
	if l.source == "" {
		l.source = lead.SourceContactForm
	}
	opt := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	id := store.NewID()
	c := l.created.UTC().Format("2006-01-02T15:04:05.000000Z")
	if _, err := s.DB().Exec(`INSERT INTO leads (id, first_name, last_name, email, email_normalized, phone,
	organization_name, source, status, message, notes, consent_given, consent_timestamp, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, TRUE, $12, $12, $12)`,
		id, l.first, l.last, l.email, lead.NormalizeEmail(l.email), opt(l.phone), l.org, string(l.source),
		string(l.status), opt(l.message), opt(l.notes), c); err != nil {
		t.Fatalf("insert lead: %v", err)
	}
	return id
}

type listBody struct {
	Items      []lead.Lead `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

func listIDs(items []lead.Lead) []string {
	out := make([]string, len(items))
	for i, l := range items {
		out[i] = l.ID
	}
	return out
}

func TestListRoutesNeedAToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		revoked, _, err := h.Store.CreateToken(t.Context(), "gone", lead.RoleSales)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Store.RevokeToken(t.Context(), "gone"); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/v1/leads", "/api/v1/leads.csv", "/api/v1/stats/pipeline",
			"/api/v1/leads?status=bogus", "/api/v1/leads.csv?limit=0"} {
			for _, tok := range []string{"", "lds_not-a-token", revoked} {
				resp, data := h.do("GET", path, tok, nil)
				mustProblem(t, resp, data, http.StatusUnauthorized)
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: no WWW-Authenticate", path)
				}
			}
			// the lowest role is enough, and admin includes it
			for _, tok := range []string{h.Sales, h.Admin} {
				if resp, data := h.do("GET", path, tok, nil); resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					t.Errorf("%s: %d %s", path, resp.StatusCode, data)
				}
			}
		}
	})
}

func TestListLeadsAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		day := func(d int) time.Time { return time.Date(2026, 5, d, 8, 30, 0, 0, time.UTC) }
		var all []string // newest first
		for _, l := range []listSeed{
			{first: "Ada", last: "Lovelace", email: "ada@example.org", org: "Analytical Mentors", status: lead.StatusWon, source: lead.SourceReferral, created: day(1)},
			{first: "Grace", last: "Hopper", email: "grace@example.org", org: "100% Compilers_Club", status: lead.StatusNew, source: lead.SourceEvent, created: day(2)},
			{first: "Kari", last: "Nordmann", email: "kari@example.org", org: "Bergen Mentors", status: lead.StatusContacted, source: lead.SourceDemoBooking, created: day(3)},
			{first: "Ola", last: "Nordmann", email: "ola@example.org", org: "Oslo Mentors", status: lead.StatusWon, source: lead.SourceEvent, created: day(4)},
			{first: "Åse", last: "Berg", email: "ase@example.org", org: "Fjord Network", status: lead.StatusLost, source: lead.SourceImport, created: day(5)},
		} {
			all = append([]string{insertListLead(t, h.Store, l)}, all...)
		}
		get := func(query string) listBody {
			t.Helper()
			resp, data := h.do("GET", "/api/v1/leads"+query, h.Sales, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", query, resp.StatusCode, data)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			return decode[listBody](t, data)
		}

		t.Run("newest first, lead objects, null cursor on the last page", func(t *testing.T) {
			resp, data := h.do("GET", "/api/v1/leads", h.Sales, nil)
			raw := decode[map[string][]map[string]any](t, data)
			if resp.StatusCode != 200 || len(raw["items"]) != 5 {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			for _, key := range []string{"id", "first_name", "phone", "notes", "utm_campaign", "consent_timestamp", "anonymized_at"} {
				if _, ok := raw["items"][0][key]; !ok {
					t.Errorf("item has no %q", key)
				}
			}
			body := get("")
			if !slices.Equal(listIDs(body.Items), all) || body.NextCursor != nil {
				t.Fatalf("got %v next %v, want %v", listIDs(body.Items), body.NextCursor, all)
			}
			if m := decode[map[string]any](t, data); m["next_cursor"] != nil || len(m) != 2 {
				t.Errorf("want items and a null next_cursor: %s", data)
			}
		})

		t.Run("filters", func(t *testing.T) {
			for query, want := range map[string][]string{
				"?status=won":                  {all[1], all[4]},
				"?status=won,lost":             {all[0], all[1], all[4]},
				"?source=event":                {all[1], all[3]},
				"?status=won&source=event":     {all[1]},
				"?q=NORDMANN":                  {all[1], all[2]},
				"?q=nordmann&status=contacted": {all[2]},
				"?q=%25":                       {all[3]},
				"?q=s_c":                       {all[3]},
				"?q=%C3%A5se":                  {all[0]}, // åse
				"?q=mentors&created_from=2026-05-02&created_to=2026-05-03": {all[2]},
				"?created_to=2026-05-01":                                   {all[4]},
				"?q=nobody":                                                {},
			} {
				if got := listIDs(get(query).Items); !slices.Equal(got, want) {
					t.Errorf("%s: got %v, want %v", query, got, want)
				}
			}
		})

		t.Run("pages through next_cursor", func(t *testing.T) {
			var seen []string
			query := "?limit=2"
			for pages := 1; ; pages++ {
				body := get(query)
				seen = append(seen, listIDs(body.Items)...)
				if body.NextCursor == nil {
					if pages != 3 {
						t.Errorf("%d pages", pages)
					}
					break
				}
				query = "?limit=2&cursor=" + url.QueryEscape(*body.NextCursor)
			}
			if !slices.Equal(seen, all) {
				t.Fatalf("paged %v, want %v", seen, all)
			}
		})

		t.Run("anonymized leads are listed", func(t *testing.T) {
			if _, err := h.Store.DB().Exec(`UPDATE leads SET first_name = 'Anonymized', last_name = 'Anonymized',
				anonymized_at = created_at WHERE id = $1`, all[0]); err != nil {
				t.Fatal(err)
			}
			body := get("?status=lost")
			if len(body.Items) != 1 || body.Items[0].AnonymizedAt == nil || body.Items[0].FirstName != "Anonymized" {
				t.Fatalf("got %+v", body.Items)
			}
			if got := listIDs(get("?q=%C3%A5se%20berg").Items); len(got) != 0 {
				t.Errorf("erased name still found: %v", got)
			}
		})

		t.Run("bad parameters are 422 problems naming each", func(t *testing.T) {
			for _, c := range []struct{ query, field, rule string }{
				{"?status=open", "status", lead.RuleStatusEnum},
				{"?status=new,WON", "status", lead.RuleStatusEnum},
				{"?source=web", "source", lead.RuleSourceEnum},
				{"?limit=0", "limit", query.RuleQueryParameter},
				{"?limit=201", "limit", query.RuleQueryParameter},
				{"?limit=many", "limit", query.RuleQueryParameter},
				{"?cursor=tampered", "cursor", query.RuleQueryParameter},
				{"?cursor=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor", query.RuleQueryParameter},
				{"?created_from=last-week", "created_from", query.RuleQueryParameter},
				{"?created_to=2026-13-01", "created_to", query.RuleQueryParameter},
				{"?created_from=2026-05-03&created_to=2026-05-01", "created_to", query.RuleQueryParameter},
				{"?q=a%00b", "q", lead.RuleInvalidCharacters},
			} {
				resp, data := h.do("GET", "/api/v1/leads"+c.query, h.Sales, nil)
				p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
				if !hasIssue(p.Errors, c.field, c.rule) {
					t.Errorf("%s: errors %+v, want %s/%s", c.query, p.Errors, c.field, c.rule)
				}
			}
			// a cursor that decodes but was edited still answers, never 500
			body := get("?limit=1")
			c := []byte(*body.NextCursor)
			c[10] ^= 1
			if resp, data := h.do("GET", "/api/v1/leads?cursor="+url.QueryEscape(string(c)), h.Sales, nil); resp.StatusCode != 200 && resp.StatusCode != 422 {
				t.Errorf("edited cursor: %d %s", resp.StatusCode, data)
			}
			resp, data := h.do("GET", "/api/v1/leads?status=%zz", h.Sales, nil)
			mustProblem(t, resp, data, http.StatusBadRequest)
		})

		t.Run("limit bounds", func(t *testing.T) {
			for i := range 205 {
				insertListLead(t, h.Store, listSeed{first: "Bulk", last: fmt.Sprint(i), email: fmt.Sprintf("bulk%d@example.org", i),
					org: "Bulk Org", created: day(10).Add(time.Duration(i) * time.Minute)})
			}
			if n := len(get("").Items); n != 50 {
				t.Errorf("default page %d", n)
			}
			if n := len(get("?limit=200").Items); n != 200 {
				t.Errorf("max page %d", n)
			}
			if body := get("?limit=1"); len(body.Items) != 1 || body.NextCursor == nil {
				t.Errorf("limit=1: %d items", len(body.Items))
			}
		})
	})
}
