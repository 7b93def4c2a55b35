package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// staffLeadBody is a POST /api/v1/leads body that passes every rule.
func staffLeadBody(email string) map[string]any {
	return map[string]any{
		"first_name": "Grace", "last_name": "Hopper", "email": email, "organization_name": "Compiler Club",
		"organization_type": "membership organization", "source": "event",
		"consent_given": true, "consent_timestamp": "2026-01-02T03:04:05Z",
	}
}

// staffEvent is one item of GET /api/v1/leads/{id}/events.
type staffEvent struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Actor     string         `json:"actor"`
	Details   map[string]any `json:"details"`
	CreatedAt time.Time      `json:"created_at"`
}

// staffAPI wraps the harness with the calls these tests repeat.
type staffAPI struct{ *harness }

// create posts a lead (extra keys override the valid body) and returns it with its ETag.
func (a staffAPI) create(email string, extra map[string]any) (lead.Lead, string) {
	a.t.Helper()
	body := staffLeadBody(email)
	for k, v := range extra {
		body[k] = v
	}
	resp, data := a.do("POST", "/api/v1/leads", a.Sales, body)
	if resp.StatusCode != http.StatusCreated {
		a.t.Fatalf("create %s: %d %s", email, resp.StatusCode, data)
	}
	return decode[lead.Lead](a.t, data), resp.Header.Get("ETag")
}

func (a staffAPI) events(id string) []staffEvent {
	a.t.Helper()
	resp, data := a.do("GET", "/api/v1/leads/"+id+"/events", a.Sales, nil)
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("events: %d %s", resp.StatusCode, data)
	}
	return decode[struct{ Items []staffEvent }](a.t, data).Items
}

func (a staffAPI) eventTypes(id string) string {
	var types []string
	for _, e := range a.events(id) {
		types = append(types, e.Type)
	}
	return strings.Join(types, ",")
}

func (a staffAPI) get(id string) (lead.Lead, string) {
	a.t.Helper()
	resp, data := a.do("GET", "/api/v1/leads/"+id, a.Sales, nil)
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("get: %d %s", resp.StatusCode, data)
	}
	return decode[lead.Lead](a.t, data), resp.Header.Get("ETag")
}

// erase marks a lead anonymized in the database, as an erasure leaves it.
func (a staffAPI) erase(id string) {
	a.t.Helper()
	if _, err := a.Store.DB().Exec(`UPDATE leads SET email_normalized = $2, anonymized_at = $3 WHERE id = $1`,
		id, "erased+"+id+"@invalid", a.Clock.Now().UTC().Format("2006-01-02T15:04:05.000000Z")); err != nil {
		a.t.Fatal(err)
	}
}

func (a staffAPI) leadCount() int {
	a.t.Helper()
	var n int
	if err := a.Store.DB().QueryRow(`SELECT COUNT(*) FROM leads`).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func TestStaffLeadRoutesNeedALiveToken(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		a := staffAPI{h}
		l, _ := a.create("auth@example.org", nil)
		revoked, _, err := h.Store.CreateToken(t.Context(), "rita-revoked", lead.RoleSales)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Store.RevokeToken(t.Context(), "rita-revoked"); err != nil {
			t.Fatal(err)
		}
		routes := []struct {
			method, path string
			body         any
			ctype        string
			admin        int // what an admin (who may do what sales may) gets
		}{
			{"POST", "/api/v1/leads", staffLeadBody("admin-made@example.org"), "application/json", http.StatusCreated},
			{"GET", "/api/v1/leads/" + l.ID, nil, "", http.StatusOK},
			{"PATCH", "/api/v1/leads/" + l.ID, map[string]any{"status": "contacted"}, "application/merge-patch+json", http.StatusOK},
			{"DELETE", "/api/v1/leads/" + l.ID, nil, "", http.StatusMethodNotAllowed},
			{"POST", "/api/v1/leads/" + l.ID + "/notes", map[string]any{"text": "hi"}, "application/json", http.StatusCreated},
			{"GET", "/api/v1/leads/" + l.ID + "/events", nil, "", http.StatusOK},
			{"GET", "/api/v1/leads/" + l.ID + "/bookings", nil, "", http.StatusOK},
		}
		for _, rt := range routes {
			t.Run(rt.method+" "+strings.Replace(rt.path, l.ID, "{id}", 1), func(t *testing.T) {
				before := a.leadCount()
				for _, tc := range []struct{ name, auth string }{
					{"no header", ""},
					{"not bearer", "Basic c2FsbHk6c2VjcmV0"},
					{"unknown token", "Bearer lds_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
					{"revoked token", "Bearer " + revoked},
				} {
					hdr := []string{}
					if tc.auth != "" {
						hdr = append(hdr, "Authorization", tc.auth)
					}
					if rt.ctype != "" {
						hdr = append(hdr, "Content-Type", rt.ctype)
					}
					resp, data := h.do(rt.method, rt.path, "", rt.body, hdr...)
					mustProblem(t, resp, data, http.StatusUnauthorized)
					if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("%s: WWW-Authenticate %q", tc.name, resp.Header.Get("WWW-Authenticate"))
					}
				}
				if n := a.leadCount(); n != before {
					t.Fatalf("an unauthenticated request changed the lead count: %d → %d", before, n)
				}
				hdr := []string{}
				if rt.ctype != "" {
					hdr = []string{"Content-Type", rt.ctype}
				}
				if resp, data := h.do(rt.method, rt.path, h.Admin, rt.body, hdr...); resp.StatusCode != rt.admin {
					t.Fatalf("admin token: %d, want %d: %s", resp.StatusCode, rt.admin, data)
				}
			})
		}
		// the actor of what a token does is its name
		events := a.events(l.ID)
		if last := events[len(events)-1]; last.Type != lead.EventNoteAdded || last.Actor != "adam-admin" {
			t.Fatalf("last event %+v", last)
		}
	})
}

func TestStaffCreateLead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		a := staffAPI{h}

		t.Run("201 with the stored lead, its location and ETag, a created event, and no email", func(t *testing.T) {
			resp, data := h.do("POST", "/api/v1/leads", h.Sales, staffLeadBody("Grace@Example.org"))
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			l := decode[lead.Lead](t, data)
			if resp.Header.Get("Location") != "/api/v1/leads/"+l.ID {
				t.Fatalf("Location %q", resp.Header.Get("Location"))
			}
			got, etag := a.get(l.ID)
			if etag != resp.Header.Get("ETag") || etag != httpapi.LeadETag(got) {
				t.Fatalf("ETag %q on create, %q on read", resp.Header.Get("ETag"), etag)
			}
			if l.Email != "Grace@Example.org" || l.Source != lead.SourceEvent || l.Status != lead.StatusNew || !l.ConsentGiven ||
				l.ConsentTimestamp == nil || !l.ConsentTimestamp.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) ||
				!l.CreatedAt.Equal(h.Clock.Now()) {
				t.Fatalf("lead %+v", l)
			}
			// exactly the seed's column names plus anonymized_at, null when absent
			var raw map[string]any
			json.Unmarshal(data, &raw)
			var keys []string
			for k := range raw {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			want := "anonymized_at,consent_given,consent_timestamp,contact_due_at,created_at,email,first_contacted_at,first_name,id," +
				"ip_address,language,last_name,message,notes,organization_name,organization_size,organization_type,owner_id,phone," +
				"role_title,source,status,updated_at,utm_campaign,utm_medium,utm_source"
			if strings.Join(keys, ",") != want {
				t.Fatalf("keys %s", strings.Join(keys, ","))
			}
			for _, k := range []string{"phone", "notes", "ip_address", "anonymized_at", "message"} {
				if raw[k] != nil {
					t.Errorf("%s = %v, want null", k, raw[k])
				}
			}
			events := a.events(l.ID)
			if len(events) != 1 || events[0].Type != "created" || events[0].Actor != "sally-sales" || events[0].Details["source"] != "event" {
				t.Fatalf("events %+v", events)
			}
			var jobs int
			h.Store.DB().QueryRow(`SELECT COUNT(*) FROM email_jobs`).Scan(&jobs)
			if jobs != 0 {
				t.Fatalf("staff create enqueued %d emails", jobs)
			}
		})

		t.Run("any source and any status may be given", func(t *testing.T) {
			l, _ := a.create("won@example.org", map[string]any{"source": "referral", "status": "won", "phone": "+47 22 33 44 55"})
			if l.Source != lead.SourceReferral || l.Status != lead.StatusWon || l.Phone == nil || *l.Phone != "+4722334455" {
				t.Fatalf("lead %+v", l)
			}
		})

		t.Run("an address a live lead has, in any case, is 409 naming that lead, and nothing is stored", func(t *testing.T) {
			resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("booked@example.org"), "X-Forwarded-For", "198.51.100.7")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("booking: %d %s", resp.StatusCode, data)
			}
			var holder string
			h.Store.DB().QueryRow(`SELECT lead_id FROM bookings WHERE id = $1`, decode[struct {
				BookingID string `json:"booking_id"`
			}](t, data).BookingID).Scan(&holder)
			before := a.leadCount()
			resp, data = h.do("POST", "/api/v1/leads", h.Sales, staffLeadBody(" BOOKED@Example.ORG"))
			p := mustProblem(t, resp, data, http.StatusConflict)
			if p.ExistingLeadID != holder || p.Rule != lead.RuleDeduplication {
				t.Fatalf("problem %+v, want existing lead %s", p, holder)
			}
			if a.leadCount() != before {
				t.Fatal("a refused create stored a lead")
			}
		})

		t.Run("every failing rule is reported at once", func(t *testing.T) {
			future := h.Clock.Now().Add(10 * time.Minute).Format(time.RFC3339)
			tests := []struct {
				name string
				body map[string]any
				want [][2]string // field, rule
			}{
				{"empty body", map[string]any{}, [][2]string{
					{"first_name", lead.RuleRequiredFields}, {"last_name", lead.RuleRequiredFields}, {"email", lead.RuleRequiredFields},
					{"organization_name", lead.RuleRequiredFields}, {"source", lead.RuleRequiredFields}, {"consent_given", lead.RuleGDPRConsent}}},
				{"consent false with a timestamp", map[string]any{"consent_given": false}, [][2]string{
					{"consent_given", lead.RuleGDPRConsent}, {"consent_timestamp", lead.RuleConsentTimestamp}}},
				{"consent missing", map[string]any{"consent_given": nil, "consent_timestamp": nil}, [][2]string{{"consent_given", lead.RuleGDPRConsent}}},
				{"consent without timestamp", map[string]any{"consent_timestamp": nil}, [][2]string{{"consent_timestamp", lead.RuleConsentTimestamp}}},
				{"consent in the future", map[string]any{"consent_timestamp": future}, [][2]string{{"consent_timestamp", lead.RuleConsentTimestamp}}},
				{"unknown status and source", map[string]any{"status": "archived", "source": "fax"}, [][2]string{
					{"status", lead.RuleStatusEnum}, {"source", lead.RuleSourceEnum}}},
				{"markup, bad email, long name", map[string]any{"organization_name": "<script>x</script>", "email": "a@b",
					"last_name": strings.Repeat("x", 101)}, [][2]string{
					{"organization_name", lead.RuleXSS}, {"email", lead.RuleEmailFormat}, {"last_name", lead.RuleFieldLength}}},
				{"read-only and unknown fields", map[string]any{"id": "x", "notes": "x", "ip_address": "x", "created_at": "x",
					"updated_at": "x", "anonymized_at": nil, "frist_name": "x"}, [][2]string{
					{"id", "read_only_field"}, {"notes", "read_only_field"}, {"ip_address", "read_only_field"},
					{"created_at", "read_only_field"}, {"updated_at", "read_only_field"}, {"anonymized_at", "read_only_field"},
					{"frist_name", "unknown_field"}}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					body := staffLeadBody("refused@example.org")
					if len(tt.body) == 0 {
						body = map[string]any{}
					}
					for k, v := range tt.body {
						body[k] = v
					}
					before := a.leadCount()
					resp, data := h.do("POST", "/api/v1/leads", h.Sales, body)
					p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
					if len(p.Errors) != len(tt.want) {
						t.Errorf("errors %+v, want %v", p.Errors, tt.want)
					}
					for _, w := range tt.want {
						if !hasIssue(p.Errors, w[0], w[1]) {
							t.Errorf("missing %s/%s in %+v", w[0], w[1], p.Errors)
						}
					}
					if a.leadCount() != before {
						t.Fatal("a refused create stored a lead")
					}
				})
			}
		})

		t.Run("unreadable requests are 400, 413 and 415", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				body   any
				ctype  string
				status int
			}{
				{"not JSON", "{", "application/json", 400},
				{"an array", "[]", "application/json", 400},
				{"null", "null", "application/json", 400},
				{"two objects", "{}{}", "application/json", 400},
				{"a number as a name", `{"first_name": 5}`, "application/json", 400},
				{"consent as a string", `{"consent_given": "yes"}`, "application/json", 400},
				{"a timestamp that is not RFC 3339", `{"consent_timestamp": "yesterday"}`, "application/json", 400},
				{"plain text", "first_name=Grace", "text/plain", 415},
				{"a form", "first_name=Grace", "application/x-www-form-urlencoded", 415},
				{"no content type", "{}", "", 415},
				{"over 64 KiB", `{"message": "` + strings.Repeat("x", 70000) + `"}`, "application/json", 413},
			} {
				resp, data := h.do("POST", "/api/v1/leads", h.Sales, tc.body, "Content-Type", tc.ctype)
				p := mustProblem(t, resp, data, tc.status)
				if strings.Contains(p.Detail, "Grace") || strings.Contains(p.Detail, "yesterday") {
					t.Errorf("%s: the detail echoes the value: %q", tc.name, p.Detail)
				}
			}
		})
	})
}

func TestStaffGetLead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		a := staffAPI{h}
		l, created := a.create("read@example.org", nil)
		resp, data := h.do("GET", "/api/v1/leads/"+l.ID, h.Sales, nil)
		if resp.StatusCode != 200 || resp.Header.Get("ETag") != created || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%d ETag %q (created %q) Cache-Control %q", resp.StatusCode, resp.Header.Get("ETag"), created, resp.Header.Get("Cache-Control"))
		}
		if got := decode[lead.Lead](t, data); got.ID != l.ID || got.Email != "read@example.org" {
			t.Fatalf("lead %+v", got)
		}
		if _, again := a.get(l.ID); again != created {
			t.Fatalf("ETag changed between reads: %s, %s", created, again)
		}
		for _, id := range []string{"0190f0a0-0000-7000-8000-000000000000", "not-a-uuid", "'%20OR%201=1", strings.ToUpper(l.ID) + "0"} {
			resp, data := h.do("GET", "/api/v1/leads/"+id, h.Sales, nil)
			mustProblem(t, resp, data, http.StatusNotFound)
		}
	})
}

func TestStaffPatchLead(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		a := staffAPI{h}
		mergePatch := []string{"Content-Type", "application/merge-patch+json"}

		t.Run("a merge patch sets and clears fields, moves status and updated_at, and logs names not values", func(t *testing.T) {
			l, etag := a.create("patch@example.org", map[string]any{"role_title": "Coordinator"})
			h.Clock.Advance(time.Minute)
			resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, map[string]any{
				"first_name": "Amazing", "phone": "+47 22 33 44 55", "organization_type": nil, "role_title": "Coordinator",
				"status": "contacted",
			}, append(mergePatch, "If-Match", etag)...)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			got := decode[lead.Lead](t, data)
			if got.FirstName != "Amazing" || *got.Phone != "+4722334455" || got.OrganizationType != nil || *got.RoleTitle != "Coordinator" ||
				got.Status != lead.StatusContacted || !got.UpdatedAt.Equal(h.Clock.Now()) || !got.CreatedAt.Equal(l.CreatedAt) {
				t.Fatalf("patched %+v", got)
			}
			newTag := resp.Header.Get("ETag")
			if _, read := a.get(l.ID); newTag == etag || read != newTag {
				t.Fatalf("ETag after patch %q, read %q, before %q", newTag, read, etag)
			}
			events := a.events(l.ID)
			if len(events) != 3 {
				t.Fatalf("events %+v", events)
			}
			if fmt.Sprintf("%s %s %v", events[1].Type, events[1].Actor, events[1].Details) != "updated sally-sales map[fields:[first_name phone organization_type]]" {
				t.Fatalf("updated event %+v", events[1])
			}
			if fmt.Sprintf("%s %v", events[2].Type, events[2].Details) != "status_changed map[from:new to:contacted]" {
				t.Fatalf("status event %+v", events[2])
			}
			// Only the details: event ids are random and could contain "2233" by chance.
			details := make([]map[string]any, len(events))
			for i, ev := range events {
				details[i] = ev.Details
			}
			raw, _ := json.Marshal(details)
			if strings.Contains(string(raw), "Amazing") || strings.Contains(string(raw), "2233") {
				t.Fatalf("events carry personal data: %s", raw)
			}
		})

		t.Run("application/json is accepted too; other media types are 415", func(t *testing.T) {
			l, _ := a.create("types@example.org", nil)
			if resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, `{"last_name": "Murray"}`); resp.StatusCode != 200 {
				t.Fatalf("application/json: %d %s", resp.StatusCode, data)
			}
			for _, ct := range []string{"text/plain", "application/json-patch+json", "application/x-www-form-urlencoded", ""} {
				resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, `{"last_name": "X"}`, "Content-Type", ct)
				mustProblem(t, resp, data, http.StatusUnsupportedMediaType)
			}
			if got, _ := a.get(l.ID); got.LastName != "Murray" {
				t.Fatalf("last name %q", got.LastName)
			}
		})

		t.Run("read-only and unknown fields are 422, each named, and nothing changes", func(t *testing.T) {
			l, etag := a.create("readonly@example.org", nil)
			body := map[string]any{"first_name": "Changed", "shoe_size": 44}
			readOnly := []string{"notes", "id", "source", "ip_address", "consent_given", "consent_timestamp", "created_at", "updated_at", "anonymized_at"}
			for _, f := range readOnly {
				body[f] = nil
			}
			resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, body, mergePatch...)
			p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
			for _, f := range readOnly {
				if !hasIssue(p.Errors, f, "read_only_field") {
					t.Errorf("%s not refused as read-only: %+v", f, p.Errors)
				}
			}
			if !hasIssue(p.Errors, "shoe_size", "unknown_field") || len(p.Errors) != len(readOnly)+1 {
				t.Errorf("errors %+v", p.Errors)
			}
			if _, now := a.get(l.ID); now != etag {
				t.Fatal("a refused patch changed the lead")
			}
		})

		t.Run("the same validation as create, every error at once", func(t *testing.T) {
			l, etag := a.create("validate@example.org", nil)
			resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, map[string]any{
				"first_name": nil, "email": "not an address", "message": strings.Repeat("m", 5001), "utm_campaign": "<img src=x onerror=alert(1)>",
				"status": "sleeping",
			}, mergePatch...)
			p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
			for _, w := range [][2]string{{"first_name", lead.RuleRequiredFields}, {"email", lead.RuleEmailFormat},
				{"message", lead.RuleMessageLength}, {"utm_campaign", lead.RuleXSS}, {"status", lead.RuleStatusEnum}} {
				if !hasIssue(p.Errors, w[0], w[1]) {
					t.Errorf("missing %v in %+v", w, p.Errors)
				}
			}
			if _, now := a.get(l.ID); now != etag {
				t.Fatal("a refused patch changed the lead")
			}
			resp, data = h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, `{"first_name": ["a"]}`, mergePatch...)
			mustProblem(t, resp, data, http.StatusBadRequest)
			resp, data = h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, `"replace everything"`, mergePatch...)
			mustProblem(t, resp, data, http.StatusBadRequest)
		})

		t.Run("If-Match: a stale tag is 412 even when the patch changes nothing; current, listed and * pass", func(t *testing.T) {
			l, stale := a.create("ifmatch@example.org", nil)
			if resp, data := h.do("POST", "/api/v1/leads/"+l.ID+"/notes", h.Sales, map[string]any{"text": "called"}); resp.StatusCode != 201 {
				t.Fatalf("note: %d %s", resp.StatusCode, data)
			}
			_, current := a.get(l.ID)
			for _, body := range []string{`{}`, `{"status": "new"}`, `{"first_name": "Grace"}`, `{"first_name": "Other"}`} {
				resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, body, append(mergePatch, "If-Match", stale)...)
				mustProblem(t, resp, data, http.StatusPreconditionFailed)
			}
			for _, tag := range []string{"W/" + current, strings.Trim(current, `"`), `""`, ","} {
				resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, `{}`, append(mergePatch, "If-Match", tag)...)
				mustProblem(t, resp, data, http.StatusPreconditionFailed)
			}
			if _, now := a.get(l.ID); now != current {
				t.Fatal("a refused patch changed the lead")
			}
			for _, tag := range []string{current, stale + ", " + current, "*"} {
				resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, `{}`, append(mergePatch, "If-Match", tag)...)
				if resp.StatusCode != 200 || resp.Header.Get("ETag") != current {
					t.Fatalf("If-Match %s: %d %s", tag, resp.StatusCode, data)
				}
			}
		})

		t.Run("concurrent patches with the same If-Match: one 200, the rest 412", func(t *testing.T) {
			l, etag := a.create("race@example.org", nil)
			const n = 8
			statuses := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					req, _ := http.NewRequest("PATCH", h.URL+"/api/v1/leads/"+l.ID,
						strings.NewReader(fmt.Sprintf(`{"role_title": "Writer %d", "status": "contacted"}`, i)))
					req.Header.Set("Authorization", "Bearer "+h.Sales)
					req.Header.Set("Content-Type", "application/merge-patch+json")
					req.Header.Set("If-Match", etag)
					if resp, err := h.Client.Do(req); err == nil {
						statuses[i] = resp.StatusCode
						resp.Body.Close()
					}
				})
			}
			wg.Wait()
			slices.Sort(statuses)
			if want := append([]int{200}, slices.Repeat([]int{412}, n-1)...); !slices.Equal(statuses, want) {
				t.Fatalf("statuses %v", statuses)
			}
			if types := a.eventTypes(l.ID); types != "created,updated,status_changed" {
				t.Fatalf("events %s", types)
			}
		})

		t.Run("moving the email onto another live lead's address is 409 naming it", func(t *testing.T) {
			holder, _ := a.create("holder@example.org", nil)
			mover, etag := a.create("mover@example.org", nil)
			resp, data := h.do("PATCH", "/api/v1/leads/"+mover.ID, h.Sales, map[string]any{"email": "Holder@Example.org"}, mergePatch...)
			if p := mustProblem(t, resp, data, http.StatusConflict); p.ExistingLeadID != holder.ID || p.Rule != lead.RuleDeduplication {
				t.Fatalf("problem %+v", p)
			}
			if _, now := a.get(mover.ID); now != etag {
				t.Fatal("a refused patch changed the lead")
			}
			// a free address is fine, and the old one is free afterwards
			resp, data = h.do("PATCH", "/api/v1/leads/"+mover.ID, h.Sales, map[string]any{"email": "moved@example.org"}, mergePatch...)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			a.create("mover@example.org", nil)
		})

		t.Run("an erased lead is 409; unknown and malformed ids are 404", func(t *testing.T) {
			l, _ := a.create("erased@example.org", nil)
			a.erase(l.ID)
			resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, `{"first_name": "Back"}`, mergePatch...)
			mustProblem(t, resp, data, http.StatusConflict)
			for _, id := range []string{"0190f0a0-0000-7000-8000-000000000000", "nope"} {
				resp, data := h.do("PATCH", "/api/v1/leads/"+id, h.Sales, `{"first_name": "X"}`, mergePatch...)
				mustProblem(t, resp, data, http.StatusNotFound)
			}
		})
	})
}

// specAllows is §3.4 written out independently of the lead package: one step forward along
// the pipeline; lost from anything but lost and disqualified; disqualified from anything but
// itself; nothing else.
func specAllows(from, to lead.Status) bool {
	pipeline := []lead.Status{"new", "contacted", "qualified", "demo_scheduled", "demo_completed", "proposal_sent", "negotiation", "won"}
	switch to {
	case lead.StatusDisqualified:
		return from != lead.StatusDisqualified
	case lead.StatusLost:
		return from != lead.StatusLost && from != lead.StatusDisqualified
	}
	i, j := slices.Index(pipeline, from), slices.Index(pipeline, to)
	return i >= 0 && j == i+1
}

func TestStaffPatchEveryStatusPair(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		a := staffAPI{h}
		moves := 0
		for _, from := range lead.Statuses {
			var allowed []lead.Status
			for _, to := range lead.Statuses {
				if specAllows(from, to) {
					allowed = append(allowed, to)
				}
			}
			if !slices.Equal(allowed, lead.NextStatuses(from)) {
				t.Fatalf("NextStatuses(%s) = %v, the spec says %v", from, lead.NextStatuses(from), allowed)
			}
			for _, to := range lead.Statuses {
				t.Run(string(from)+" to "+string(to), func(t *testing.T) {
					l, etag := a.create(fmt.Sprintf("%s-%s@example.org", from, to), map[string]any{"status": string(from)})
					if l.Status != from {
						t.Fatalf("created with status %s", l.Status)
					}
					resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, map[string]any{"status": string(to)},
						"Content-Type", "application/merge-patch+json", "If-Match", etag)
					got, _ := a.get(l.ID)
					switch {
					case from == to:
						if resp.StatusCode != 200 || resp.Header.Get("ETag") != etag || a.eventTypes(l.ID) != "created" {
							t.Fatalf("same status should be a no-op: %d %s, events %s", resp.StatusCode, data, a.eventTypes(l.ID))
						}
					case specAllows(from, to):
						moves++
						if resp.StatusCode != 200 || decode[lead.Lead](t, data).Status != to || got.Status != to {
							t.Fatalf("allowed move refused: %d %s", resp.StatusCode, data)
						}
						events := a.events(l.ID)
						if len(events) != 2 || events[1].Type != "status_changed" || events[1].Actor != "sally-sales" ||
							events[1].Details["from"] != string(from) || events[1].Details["to"] != string(to) {
							t.Fatalf("events %+v", events)
						}
					default:
						p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
						if len(p.Errors) != 1 || !hasIssue(p.Errors, "status", lead.RuleStatusTransition) {
							t.Fatalf("errors %+v", p.Errors)
						}
						if !slices.Equal(p.Allowed, allowed) {
							t.Fatalf("allowed %v, want %v", p.Allowed, allowed)
						}
						if got.Status != from || a.eventTypes(l.ID) != "created" {
							t.Fatalf("refused move changed something: %s, events %s", got.Status, a.eventTypes(l.ID))
						}
					}
				})
			}
		}
		// 7 forward steps, lost from 8 statuses, disqualified from 9
		if moves != 7+8+9 {
			t.Fatalf("%d allowed moves", moves)
		}
	})
}

func TestStaffPatchWalksThePipelineToWon(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		a := staffAPI{h}
		l, etag := a.create("walk@example.org", nil)
		path := []string{"contacted", "qualified", "demo_scheduled", "demo_completed", "proposal_sent", "negotiation", "won", "lost", "disqualified"}
		for _, to := range path {
			h.Clock.Advance(time.Second)
			resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, map[string]any{"status": to}, "If-Match", etag)
			if resp.StatusCode != 200 {
				t.Fatalf("to %s: %d %s", to, resp.StatusCode, data)
			}
			etag = resp.Header.Get("ETag")
		}
		resp, data := h.do("PATCH", "/api/v1/leads/"+l.ID, h.Sales, map[string]any{"status": "new"})
		if p := mustProblem(t, resp, data, http.StatusUnprocessableEntity); len(p.Allowed) != 0 {
			t.Fatalf("a disqualified lead can go nowhere, allowed %v", p.Allowed)
		}
		events := a.events(l.ID)
		if len(events) != 1+len(path) {
			t.Fatalf("events %+v", events)
		}
		for i := 1; i < len(events); i++ {
			if events[i].CreatedAt.Before(events[i-1].CreatedAt) {
				t.Fatalf("events out of order: %+v", events)
			}
		}
	})
}

func TestStaffNotes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		a := staffAPI{h}
		notes := func(id string, body any, hdr ...string) (*http.Response, []byte) {
			return h.do("POST", "/api/v1/leads/"+id+"/notes", h.Sales, body, hdr...)
		}

		t.Run("notes are stamped with time and author, appended on new lines, and logged without text", func(t *testing.T) {
			l, etag := a.create("notes@example.org", nil)
			h.Clock.Advance(time.Hour)
			resp, data := notes(l.ID, map[string]any{"text": "Called,\r\nleft a message"})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			first := "[" + h.Clock.Now().UTC().Format(time.RFC3339) + "] sally-sales: Called,\nleft a message"
			got := decode[lead.Lead](t, data)
			if got.Notes == nil || *got.Notes != first || resp.Header.Get("ETag") == etag || !got.UpdatedAt.Equal(h.Clock.Now()) {
				t.Fatalf("notes %q, ETag %q", staffDeref(got.Notes), resp.Header.Get("ETag"))
			}
			h.Clock.Advance(time.Minute)
			resp, data = h.do("POST", "/api/v1/leads/"+l.ID+"/notes", h.Admin, map[string]any{"text": "Booked a demo <50 volunteers"})
			want := first + "\n[" + h.Clock.Now().UTC().Format(time.RFC3339) + "] adam-admin: Booked a demo <50 volunteers"
			if got := decode[lead.Lead](t, data); resp.StatusCode != 201 || *got.Notes != want {
				t.Fatalf("second note: %d %q", resp.StatusCode, staffDeref(got.Notes))
			}
			events := a.events(l.ID)
			if a.eventTypes(l.ID) != "created,note_added,note_added" || events[2].Actor != "adam-admin" {
				t.Fatalf("events %+v", events)
			}
			if raw, _ := json.Marshal(events); strings.Contains(string(raw), "volunteers") || strings.Contains(string(raw), "Called") {
				t.Fatalf("events carry the note text: %s", raw)
			}
		})

		t.Run("a note is validated: required, no markup, no control characters, known keys only", func(t *testing.T) {
			l, etag := a.create("badnotes@example.org", nil)
			for _, tc := range []struct {
				body        any
				field, rule string
			}{
				{map[string]any{"text": "   "}, "text", lead.RuleRequiredFields},
				{map[string]any{}, "text", lead.RuleRequiredFields},
				{map[string]any{"text": "<script>alert(1)</script>"}, "text", lead.RuleXSS},
				{map[string]any{"text": "bell\a"}, "text", lead.RuleInvalidCharacters},
				{map[string]any{"text": "x", "author": "mallory"}, "author", "unknown_field"},
			} {
				resp, data := notes(l.ID, tc.body)
				if p := mustProblem(t, resp, data, http.StatusUnprocessableEntity); !hasIssue(p.Errors, tc.field, tc.rule) {
					t.Errorf("%v: errors %+v", tc.body, p.Errors)
				}
			}
			resp, data := notes(l.ID, `{"text": 5}`)
			mustProblem(t, resp, data, http.StatusBadRequest)
			resp, data = notes(l.ID, "text=x", "Content-Type", "application/x-www-form-urlencoded")
			mustProblem(t, resp, data, http.StatusUnsupportedMediaType)
			if _, now := a.get(l.ID); now != etag {
				t.Fatal("a refused note changed the lead")
			}
		})

		t.Run("notes stop at 100000 characters in total", func(t *testing.T) {
			l, _ := a.create("fullnotes@example.org", nil)
			chunk := strings.Repeat("a", 60000)
			if resp, data := notes(l.ID, map[string]any{"text": chunk}); resp.StatusCode != 201 {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			resp, data := notes(l.ID, map[string]any{"text": chunk})
			if p := mustProblem(t, resp, data, http.StatusUnprocessableEntity); !hasIssue(p.Errors, "text", lead.RuleFieldLength) {
				t.Fatalf("errors %+v", p.Errors)
			}
			if got, _ := a.get(l.ID); len(*got.Notes) > 61000 {
				t.Fatal("the refused note was stored")
			}
		})

		t.Run("an erased lead takes no notes; an unknown one is 404", func(t *testing.T) {
			l, _ := a.create("erasednotes@example.org", nil)
			a.erase(l.ID)
			resp, data := notes(l.ID, map[string]any{"text": "hello"})
			mustProblem(t, resp, data, http.StatusConflict)
			resp, data = notes("0190f0a0-0000-7000-8000-000000000000", map[string]any{"text": "hello"})
			mustProblem(t, resp, data, http.StatusNotFound)
		})
	})
}

func TestStaffLeadEventsAndBookings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		a := staffAPI{h}
		book := func(ip, ua string) string {
			resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("trail@example.org"), "X-Forwarded-For", ip, "User-Agent", ua)
			if resp.StatusCode != 201 {
				t.Fatalf("booking: %d %s", resp.StatusCode, data)
			}
			return decode[struct {
				BookingID string `json:"booking_id"`
			}](t, data).BookingID
		}
		firstAt := h.Clock.Now()
		first := book("198.51.100.1", "Firefox")
		h.Clock.Advance(time.Minute)
		second := book("198.51.100.2", "Safari")
		var leadID string
		h.Store.DB().QueryRow(`SELECT lead_id FROM bookings WHERE id = $1`, first).Scan(&leadID)
		h.Clock.Advance(time.Minute)
		if resp, data := h.do("PATCH", "/api/v1/leads/"+leadID, h.Sales, map[string]any{"status": "contacted"}); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}

		events := a.events(leadID)
		if a.eventTypes(leadID) != "created,booking_linked,status_changed" || events[0].Actor != "public" || events[2].Actor != "sally-sales" ||
			events[1].Details["booking_id"] != second || events[0].ID == "" || !events[0].CreatedAt.Equal(firstAt) {
			t.Fatalf("events %+v", events)
		}

		resp, data := h.do("GET", "/api/v1/leads/"+leadID+"/bookings", h.Sales, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
		bookings := decode[struct{ Items []lead.BookingRecord }](t, data).Items
		if len(bookings) != 2 || bookings[0].ID != second || bookings[1].ID != first {
			t.Fatalf("bookings not newest first: %+v", bookings)
		}
		b := bookings[1]
		if b.LeadID != leadID || b.FirstName != "Ada" || b.Email != "trail@example.org" || staffDeref(b.IPAddress) != "198.51.100.1" ||
			staffDeref(b.UserAgent) != "Firefox" || b.ConsentVersion != "test-1" || !b.ConsentTimestamp.Equal(firstAt) ||
			!b.CreatedAt.Equal(firstAt) || staffDeref(b.Message) != "We run 40 mentors." {
			t.Fatalf("booking %+v", b)
		}
		var raw struct{ Items []map[string]any }
		json.Unmarshal(data, &raw)
		for _, k := range []string{"id", "lead_id", "first_name", "email", "phone", "organization_name", "message", "utm_campaign",
			"ip_address", "user_agent", "consent_version", "consent_timestamp", "created_at"} {
			if _, ok := raw.Items[0][k]; !ok {
				t.Errorf("booking JSON lacks %s", k)
			}
		}

		// a lead entered by staff has no bookings: an empty list, not null
		l, _ := a.create("nobookings@example.org", nil)
		resp, data = h.do("GET", "/api/v1/leads/"+l.ID+"/bookings", h.Sales, nil)
		if resp.StatusCode != 200 || !strings.Contains(string(data), `"items":[]`) {
			t.Fatalf("%d %s", resp.StatusCode, data)
		}
		for _, path := range []string{"/events", "/bookings"} {
			for _, id := range []string{"0190f0a0-0000-7000-8000-000000000000", "nope"} {
				resp, data := h.do("GET", "/api/v1/leads/"+id+path, h.Sales, nil)
				mustProblem(t, resp, data, http.StatusNotFound)
			}
		}
	})
}

func TestStaffDeleteLeadIsRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		a := staffAPI{h}
		l, etag := a.create("keep@example.org", nil)
		resp, data := h.do("DELETE", "/api/v1/leads/"+l.ID, h.Sales, nil)
		p := mustProblem(t, resp, data, http.StatusMethodNotAllowed)
		if p.Rule != lead.RuleSoftDeleteOnly {
			t.Fatalf("rule %q", p.Rule)
		}
		for _, word := range []string{"disqualified", "lost", "erasure"} {
			if !strings.Contains(p.Detail, word) {
				t.Errorf("detail %q does not mention %s", p.Detail, word)
			}
		}
		if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PATCH") || strings.Contains(allow, "DELETE") {
			t.Fatalf("Allow %q", allow)
		}
		if _, now := a.get(l.ID); now != etag {
			t.Fatal("DELETE changed the lead")
		}
		resp, data = h.do("DELETE", "/api/v1/leads/"+l.ID, "", nil)
		mustProblem(t, resp, data, http.StatusUnauthorized)
	})
}

func staffDeref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
