package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/webhook"
)

func allowPrivateWebhooks(d *httpapi.Deps) { d.Webhooks = &webhook.Guard{AllowPrivate: true} }

type webhookBody struct {
	ID        string   `json:"id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Active    bool     `json:"active"`
	Secret    *string  `json:"secret"`
	CreatedAt string   `json:"created_at"`
}

type deliveryLog struct {
	Items []struct {
		ID             string  `json:"id"`
		Event          string  `json:"event"`
		Status         string  `json:"status"`
		Attempts       int     `json:"attempts"`
		LastStatusCode *int    `json:"last_status_code"`
		UpdatedAt      string  `json:"updated_at"`
		LeadID         string  `json:"lead_id"`
		LastError      *string `json:"last_error"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func TestWebhooksAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		const public = "https://203.0.113.10/hooks/leads"

		resp, data := h.do("POST", "/api/v1/webhooks", h.Admin, map[string]any{"url": public, "events": []string{"booking.created", "lead.created"}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", resp.StatusCode, data)
		}
		created := decode[webhookBody](t, data)
		if created.Secret == nil || !strings.HasPrefix(*created.Secret, "whsec_") || created.URL != public || !created.Active ||
			strings.Join(created.Events, ",") != "lead.created,booking.created" || created.CreatedAt == "" ||
			resp.Header.Get("Location") != "/api/v1/webhooks/"+created.ID {
			t.Fatalf("created %s", data)
		}
		if key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(*created.Secret, "whsec_")); err != nil || len(key) < 24 {
			t.Fatalf("secret key of %d bytes: %v", len(key), err)
		}
		secret := *created.Secret

		t.Run("the secret is never shown again", func(t *testing.T) {
			for _, path := range []string{"/api/v1/webhooks", "/api/v1/webhooks/" + created.ID} {
				resp, data := h.do("GET", path, h.Admin, nil)
				if resp.StatusCode != 200 || !strings.Contains(string(data), created.ID) ||
					strings.Contains(string(data), secret[6:]) || strings.Contains(string(data), `"secret"`) {
					t.Errorf("GET %s: %d %s", path, resp.StatusCode, data)
				}
			}
		})

		t.Run("admin only", func(t *testing.T) {
			for _, c := range []struct{ method, path string }{
				{"POST", "/api/v1/webhooks"}, {"GET", "/api/v1/webhooks"}, {"GET", "/api/v1/webhooks/" + created.ID},
				{"PATCH", "/api/v1/webhooks/" + created.ID}, {"DELETE", "/api/v1/webhooks/" + created.ID},
				{"GET", "/api/v1/webhooks/" + created.ID + "/deliveries"},
				{"POST", "/api/v1/webhooks/" + created.ID + "/deliveries/" + store.NewID() + "/redeliver"},
			} {
				resp, data := h.do(c.method, c.path, h.Sales, map[string]any{"url": public, "events": []string{"lead.created"}})
				mustProblem(t, resp, data, http.StatusForbidden)
				resp, data = h.do(c.method, c.path, "", nil)
				mustProblem(t, resp, data, http.StatusUnauthorized)
			}
		})

		t.Run("invalid subscriptions", func(t *testing.T) {
			for _, c := range []struct {
				name        string
				body        any
				field, rule string
			}{
				{"unknown event", map[string]any{"url": public, "events": []string{"lead.created", "lead.deleted"}}, "events", webhook.RuleEventEnum},
				{"no events", map[string]any{"url": public, "events": []string{}}, "events", lead.RuleRequiredFields},
				{"events missing", map[string]any{"url": public}, "events", lead.RuleRequiredFields},
				{"url missing", map[string]any{"events": []string{"lead.created"}}, "url", lead.RuleRequiredFields},
				{"unknown field", map[string]any{"url": public, "events": []string{"lead.created"}, "colour": "red"}, "colour", "unknown_field"},
				{"secret chosen by client", map[string]any{"url": public, "events": []string{"lead.created"}, "secret": "whsec_x"}, "secret", "read_only_field"},
			} {
				resp, data := h.do("POST", "/api/v1/webhooks", h.Admin, c.body)
				p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
				if !hasIssue(p.Errors, c.field, c.rule) {
					t.Errorf("%s: %s", c.name, data)
				}
			}
			resp, data := h.do("POST", "/api/v1/webhooks", h.Admin, map[string]any{"url": public, "events": "lead.created"})
			mustProblem(t, resp, data, http.StatusBadRequest)
			resp, data = h.do("POST", "/api/v1/webhooks", h.Admin, `{"url":`)
			mustProblem(t, resp, data, http.StatusBadRequest)
		})

		t.Run("internal addresses and other schemes are refused", func(t *testing.T) {
			for _, u := range []string{"http://127.0.0.1:8080/hook", "http://10.0.0.5/", "http://172.16.0.1/", "http://192.168.1.10/",
				"http://[::1]/", "http://169.254.169.254/latest/meta-data", "http://100.64.0.1/", "http://[fd00::1]/",
				"http://0.0.0.0/", "http://localhost:9000/", "http://[::ffff:10.0.0.1]/", "http://224.0.0.1/",
				"ftp://203.0.113.10/", "file:///etc/passwd", "javascript:alert(1)", "//203.0.113.10/x"} {
				resp, data := h.do("POST", "/api/v1/webhooks", h.Admin, map[string]any{"url": u, "events": []string{"lead.created"}})
				p := mustProblem(t, resp, data, http.StatusUnprocessableEntity)
				if !hasIssue(p.Errors, "url", webhook.RuleURLNotAllowed) {
					t.Errorf("%s: %s", u, data)
				}
			}
			resp, data := h.do("PATCH", "/api/v1/webhooks/"+created.ID, h.Admin, map[string]any{"url": "http://10.1.1.1/"})
			if p := mustProblem(t, resp, data, http.StatusUnprocessableEntity); !hasIssue(p.Errors, "url", webhook.RuleURLNotAllowed) {
				t.Errorf("patch onto a private URL: %s", data)
			}
		})

		t.Run("deliveries and redelivery", func(t *testing.T) {
			resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("hooked@example.org"), "X-Forwarded-For", "198.51.100.40")
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("booking %d %s", resp.StatusCode, data)
			}
			resp, data = h.do("GET", "/api/v1/webhooks/"+created.ID+"/deliveries", h.Admin, nil)
			log := decode[deliveryLog](t, data)
			if resp.StatusCode != 200 || len(log.Items) != 2 || log.NextCursor != nil {
				t.Fatalf("log %d %s", resp.StatusCode, data)
			}
			for _, d := range log.Items {
				if d.Status != "pending" || d.Attempts != 0 || d.LastStatusCode != nil || d.UpdatedAt == "" || d.LeadID == "" {
					t.Errorf("entry %+v", d)
				}
			}
			if log.Items[0].Event != "booking.created" || log.Items[1].Event != "lead.created" {
				t.Errorf("log not newest first: %s", data)
			}
			resp, data = h.do("GET", "/api/v1/webhooks/"+created.ID+"/deliveries?limit=1", h.Admin, nil)
			if page := decode[deliveryLog](t, data); len(page.Items) != 1 || page.NextCursor == nil || *page.NextCursor != log.Items[0].ID {
				t.Errorf("first page %s", data)
			}

			path := "/api/v1/webhooks/" + created.ID + "/deliveries/" + log.Items[1].ID + "/redeliver"
			resp, data = h.do("POST", path, h.Admin, nil)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("redeliver %d %s", resp.StatusCode, data)
			}
			for _, path := range []string{
				"/api/v1/webhooks/" + created.ID + "/deliveries/" + store.NewID() + "/redeliver",
				"/api/v1/webhooks/" + store.NewID() + "/deliveries/" + log.Items[1].ID + "/redeliver",
				"/api/v1/webhooks/" + created.ID + "/deliveries/not-an-id/redeliver",
			} {
				resp, data := h.do("POST", path, h.Admin, nil)
				mustProblem(t, resp, data, http.StatusNotFound)
			}
			for _, q := range []string{"?limit=0", "?limit=201", "?limit=x", "?cursor=abc"} {
				resp, data := h.do("GET", "/api/v1/webhooks/"+created.ID+"/deliveries"+q, h.Admin, nil)
				mustProblem(t, resp, data, http.StatusUnprocessableEntity)
			}
			resp, data = h.do("GET", "/api/v1/webhooks/"+store.NewID()+"/deliveries", h.Admin, nil)
			mustProblem(t, resp, data, http.StatusNotFound)
		})

		t.Run("update", func(t *testing.T) {
			resp, data := h.do("PATCH", "/api/v1/webhooks/"+created.ID, h.Admin,
				`{"active": false, "events": ["lead.status_changed", "lead.anonymized"]}`, "Content-Type", "application/merge-patch+json")
			got := decode[webhookBody](t, data)
			if resp.StatusCode != 200 || got.Active || got.URL != public || strings.Join(got.Events, ",") != "lead.status_changed,lead.anonymized" || got.Secret != nil {
				t.Fatalf("patch %d %s", resp.StatusCode, data)
			}
			resp, data = h.do("PATCH", "/api/v1/webhooks/"+created.ID, h.Admin, map[string]any{"url": "https://203.0.113.11/v2", "active": true})
			if got := decode[webhookBody](t, data); resp.StatusCode != 200 || got.URL != "https://203.0.113.11/v2" || !got.Active {
				t.Fatalf("patch url %d %s", resp.StatusCode, data)
			}
			for _, body := range []string{`{"url": null}`, `{"events": null}`, `{"active": null}`, `{"events": ["nope"]}`, `{"id": "x"}`} {
				resp, data := h.do("PATCH", "/api/v1/webhooks/"+created.ID, h.Admin, body)
				mustProblem(t, resp, data, http.StatusUnprocessableEntity)
			}
			resp, data = h.do("PATCH", "/api/v1/webhooks/"+store.NewID(), h.Admin, `{"active": true}`)
			mustProblem(t, resp, data, http.StatusNotFound)
		})

		t.Run("delete", func(t *testing.T) {
			resp, data := h.do("DELETE", "/api/v1/webhooks/"+created.ID, h.Admin, nil)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("delete %d %s", resp.StatusCode, data)
			}
			for _, c := range []struct{ method, path string }{
				{"GET", "/api/v1/webhooks/" + created.ID}, {"DELETE", "/api/v1/webhooks/" + created.ID},
				{"GET", "/api/v1/webhooks/" + created.ID + "/deliveries"}, {"GET", "/api/v1/webhooks/nope"},
			} {
				resp, data := h.do(c.method, c.path, h.Admin, nil)
				mustProblem(t, resp, data, http.StatusNotFound)
			}
			resp, data = h.do("GET", "/api/v1/webhooks", h.Admin, nil)
			if strings.Contains(string(data), created.ID) {
				t.Fatalf("deleted subscription listed: %s", data)
			}
		})
	})
}

// With --allow-private-webhooks (as tests of a local receiver need) internal addresses are
// accepted; other schemes still are not.
func TestWebhooksAllowPrivate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e, allowPrivateWebhooks)
		resp, data := h.do("POST", "/api/v1/webhooks", h.Admin, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"lead.created"}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("private URL with the flag: %d %s", resp.StatusCode, data)
		}
		resp, data = h.do("POST", "/api/v1/webhooks", h.Admin, map[string]any{"url": "gopher://127.0.0.1/", "events": []string{"lead.created"}})
		mustProblem(t, resp, data, http.StatusUnprocessableEntity)
	})
}
