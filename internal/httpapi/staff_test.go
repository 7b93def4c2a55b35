package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store/storetest"
)

func TestStaffAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		members := func() []map[string]any {
			t.Helper()
			resp, body := h.do("GET", "/api/v1/staff", h.Sales, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("list: %d %s", resp.StatusCode, body)
			}
			return decode[struct{ Items []map[string]any }](t, body).Items
		}
		if got := members(); len(got) != 0 {
			t.Fatalf("empty team: %v", got)
		}

		resp, body := h.do("POST", "/api/v1/staff", h.Sales, map[string]any{"name": "Kari", "email": "kari@norse.example", "role": "sales"})
		mustProblem(t, resp, body, http.StatusForbidden)

		resp, body = h.do("POST", "/api/v1/staff", h.Admin, map[string]any{"name": "Kari Selger", "email": "Kari@Norse.example",
			"role": "sales", "weight": 3, "language": "en"})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		kari := decode[map[string]any](t, body)
		want := map[string]any{"name": "Kari Selger", "email": "Kari@Norse.example", "role": "sales", "language": "en",
			"weight": 3.0, "active": true, "away_until": nil}
		for k, v := range want {
			if kari[k] != v {
				t.Errorf("%s = %v, want %v", k, kari[k], v)
			}
		}
		if len(kari) != 8 || resp.Header.Get("Location") != "/api/v1/staff/"+kari["id"].(string) {
			t.Errorf("member %v, Location %q", kari, resp.Header.Get("Location"))
		}
		id := kari["id"].(string)

		t.Run("refusals name the rule and store nothing", func(t *testing.T) {
			resp, body := h.do("POST", "/api/v1/staff", h.Admin, map[string]any{"name": "Other", "email": " kari@norse.EXAMPLE", "role": "admin"})
			mustProblem(t, resp, body, http.StatusConflict)
			for _, w := range []any{0, 11, 2.5, -1} {
				resp, body = h.do("POST", "/api/v1/staff", h.Admin, map[string]any{"name": "Per", "email": "per@norse.example", "role": "sales", "weight": w})
				if p := mustProblem(t, resp, body, 422); !hasIssue(p.Errors, "weight", lead.RuleStaffWeight) {
					t.Errorf("weight %v: %+v", w, p.Errors)
				}
			}
			resp, body = h.do("POST", "/api/v1/staff", h.Admin, map[string]any{"email": "bad", "role": "boss", "language": "de", "colour": "red"})
			p := mustProblem(t, resp, body, 422)
			if !hasIssue(p.Errors, "colour", "unknown_field") {
				t.Errorf("unknown field: %+v", p.Errors)
			}
			resp, body = h.do("POST", "/api/v1/staff", h.Admin, map[string]any{"email": "bad", "role": "boss", "language": "de"})
			p = mustProblem(t, resp, body, 422)
			for f, r := range map[string]string{"name": lead.RuleRequiredFields, "email": lead.RuleEmailFormat,
				"role": lead.RuleRequiredFields, "language": lead.RuleLanguageEnum} {
				if !hasIssue(p.Errors, f, r) {
					t.Errorf("%s: want rule %s in %+v", f, r, p.Errors)
				}
			}
			// strict JSON: a member named twice is refused before anything reads it
			resp, body = h.do("POST", "/api/v1/staff", h.Admin, `{"name":"Per","email":"per@norse.example","role":"sales","role":"admin"}`)
			mustProblem(t, resp, body, http.StatusBadRequest)
			resp, body = h.do("POST", "/api/v1/staff", h.Admin, `{"name":"Per","email":"per@norse.example","role":"sales","weight":"2"}`)
			mustProblem(t, resp, body, http.StatusBadRequest)
			if n := len(members()); n != 1 {
				t.Fatalf("%d members after refusals", n)
			}
		})

		t.Run("patch", func(t *testing.T) {
			resp, body := h.do("PATCH", "/api/v1/staff/"+id, h.Sales, map[string]any{"weight": 2})
			mustProblem(t, resp, body, http.StatusForbidden)
			resp, body = h.do("PATCH", "/api/v1/staff/"+id, h.Admin, `{"weight": 5, "role": "admin", "away_until": "2031-01-02T08:00:00+01:00", "name": "Kari S."}`,
				"Content-Type", "application/merge-patch+json")
			if resp.StatusCode != 200 {
				t.Fatalf("patch: %d %s", resp.StatusCode, body)
			}
			m := decode[map[string]any](t, body)
			if m["weight"] != 5.0 || m["role"] != "admin" || m["away_until"] != "2031-01-02T07:00:00Z" || m["name"] != "Kari S." || m["language"] != "en" {
				t.Fatalf("patched: %v", m)
			}
			resp, body = h.do("PATCH", "/api/v1/staff/"+id, h.Admin, `{"away_until": null}`)
			if m := decode[map[string]any](t, body); resp.StatusCode != 200 || m["away_until"] != nil || m["weight"] != 5.0 {
				t.Fatalf("clear away: %d %s", resp.StatusCode, body)
			}
			resp, body = h.do("PATCH", "/api/v1/staff/"+id, h.Admin, `{"email": "x@norse.example"}`)
			if p := mustProblem(t, resp, body, 422); !hasIssue(p.Errors, "email", "read_only_field") {
				t.Errorf("email: %+v", p.Errors)
			}
			resp, body = h.do("PATCH", "/api/v1/staff/"+id, h.Admin, `{"weight": 11, "name": null}`)
			p := mustProblem(t, resp, body, 422)
			if !hasIssue(p.Errors, "weight", lead.RuleStaffWeight) || !hasIssue(p.Errors, "name", lead.RuleRequiredFields) {
				t.Errorf("weight 11, name null: %+v", p.Errors)
			}
			resp, body = h.do("PATCH", "/api/v1/staff/"+id, h.Admin, `{"weight": 2, "weight": 3}`)
			mustProblem(t, resp, body, http.StatusBadRequest)
			resp, body = h.do("PATCH", "/api/v1/staff/0190e0c0-0000-7000-8000-000000000000", h.Admin, `{"weight": 2}`)
			mustProblem(t, resp, body, http.StatusNotFound)
			if m := members()[0]; m["weight"] != 5.0 || m["name"] != "Kari S." {
				t.Fatalf("a refused patch changed the member: %v", m)
			}
		})

		t.Run("me", func(t *testing.T) {
			resp, body := h.do("GET", "/api/v1/me", h.Sales, nil)
			var svc map[string]any
			if json.Unmarshal(body, &svc); resp.StatusCode != 200 || svc["id"] != nil || svc["name"] != "sally-sales" || svc["role"] != "sales" || len(svc) != 3 {
				t.Fatalf("service token: %d %s", resp.StatusCode, body)
			}
			tok, _, err := h.Store.CreateMemberToken(t.Context(), "kari@norse.example")
			if err != nil {
				t.Fatal(err)
			}
			resp, body = h.do("GET", "/api/v1/me", tok, nil)
			if m := decode[map[string]any](t, body); resp.StatusCode != 200 || m["id"] != id || m["email"] != "Kari@Norse.example" || m["role"] != "admin" {
				t.Fatalf("member token: %d %s", resp.StatusCode, body)
			}
			resp, body = h.do("GET", "/api/v1/me", "", nil)
			mustProblem(t, resp, body, http.StatusUnauthorized)

			// deactivating a member stops their token
			resp, body = h.do("PATCH", "/api/v1/staff/"+id, h.Admin, `{"active": false}`)
			if resp.StatusCode != 200 {
				t.Fatalf("deactivate: %d %s", resp.StatusCode, body)
			}
			resp, body = h.do("GET", "/api/v1/me", tok, nil)
			mustProblem(t, resp, body, http.StatusUnauthorized)
		})
	})
}
