package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/webhook"
)

// createdWebhook is the answer to POST /api/v1/webhooks: the one time the secret is shown.
type createdWebhook struct {
	store.Webhook
	Secret string `json:"secret"`
}

func (s *server) webhookGuard() *webhook.Guard {
	if s.Webhooks != nil {
		return s.Webhooks
	}
	return &webhook.Guard{}
}

// webhookInput is a decoded create or patch body; nil fields were absent.
type webhookInput struct {
	URL    *string
	Events []string
	Active *bool
}

// decodeWebhook reads a subscription body: url (string), events (list of strings),
// active (patch only). Wrong types are 400; a null or missing required value, a refused
// URL and unknown events are 422, all at once.
func (s *server) decodeWebhook(w http.ResponseWriter, r *http.Request, create bool) (webhookInput, bool) {
	known := map[string]bool{"url": true, "events": true}
	types := []string{"application/json"}
	if !create {
		known["active"] = true
		types = append(types, "application/merge-patch+json")
	}
	raw, ok := s.readLeadObject(w, r, types, known, []string{"id", "secret", "created_at", "updated_at"})
	if !ok {
		return webhookInput{}, false
	}
	var in webhookInput
	var issues []lead.Issue
	required := func(field, msg string) {
		issues = append(issues, lead.Issue{Field: field, Rule: lead.RuleRequiredFields, Message: msg})
	}
	malformed := func(msg string) (webhookInput, bool) {
		s.badRequest(w, r, http.StatusBadRequest, "malformed-request", "Malformed request", msg)
		return webhookInput{}, false
	}
	if v, ok := raw["url"]; ok && string(v) != "null" {
		var u string
		if json.Unmarshal(v, &u) != nil {
			return malformed("field url must be a string")
		}
		canonical, err := s.webhookGuard().CheckURL(r.Context(), u)
		if err != nil {
			reason := "it cannot be checked"
			var ue *webhook.URLError
			if errors.As(err, &ue) {
				reason = ue.Reason
			}
			issues = append(issues, lead.Issue{Field: "url", Rule: webhook.RuleURLNotAllowed, Message: "The URL is not allowed: " + reason + "."})
		} else {
			in.URL = &canonical
		}
	} else if create || ok {
		required("url", "A URL (http or https) is required.")
	}
	if v, ok := raw["events"]; ok && string(v) != "null" {
		if json.Unmarshal(v, &in.Events) != nil {
			return malformed("field events must be a list of strings")
		}
		if in.Events == nil {
			in.Events = []string{}
		}
		if len(in.Events) == 0 {
			required("events", "List at least one event.")
		}
		for _, e := range in.Events {
			if !webhook.ValidEvent(e) {
				issues = append(issues, lead.Issue{Field: "events", Rule: webhook.RuleEventEnum,
					Message: "Events must be among: " + strings.Join(webhook.Events, ", ") + "."})
				break
			}
		}
	} else if create || ok {
		required("events", "List at least one event.")
	}
	if v, ok := raw["active"]; ok {
		var b bool
		if string(v) == "null" {
			required("active", "active must be true or false.")
		} else if json.Unmarshal(v, &b) != nil {
			return malformed("field active must be a boolean")
		} else {
			in.Active = &b
		}
	}
	if len(issues) > 0 {
		s.writeError(w, r, lead.Invalid(lead.Result{Errors: issues}))
		return webhookInput{}, false
	}
	return in, true
}

// handleCreateWebhook is POST /api/v1/webhooks (admin): a subscription, with its secret
// shown this once.
func (s *server) handleCreateWebhook(w http.ResponseWriter, r *http.Request) {
	in, ok := s.decodeWebhook(w, r, true)
	if !ok {
		return
	}
	hook, secret, err := s.Store.CreateWebhook(r.Context(), *in.URL, in.Events)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+hook.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, createdWebhook{Webhook: hook, Secret: secret})
}

// handleListWebhooks is GET /api/v1/webhooks (admin).
func (s *server) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.Store.ListWebhooks(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"items": hooks})
}

// handleGetWebhook is GET /api/v1/webhooks/{id} (admin).
func (s *server) handleGetWebhook(w http.ResponseWriter, r *http.Request) {
	hook, err := s.Store.GetWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, hook)
}

// handlePatchWebhook is PATCH /api/v1/webhooks/{id} (admin): url, events, active.
func (s *server) handlePatchWebhook(w http.ResponseWriter, r *http.Request) {
	in, ok := s.decodeWebhook(w, r, false)
	if !ok {
		return
	}
	hook, err := s.Store.UpdateWebhook(r.Context(), r.PathValue("id"), store.WebhookPatch{URL: in.URL, Events: in.Events, Active: in.Active})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, hook)
}

// handleDeleteWebhook is DELETE /api/v1/webhooks/{id} (admin): the subscription stops, its
// queued deliveries are cancelled.
func (s *server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleWebhookDeliveries is GET /api/v1/webhooks/{id}/deliveries (admin): the delivery
// log, newest first; limit (1–200, default 50) and cursor page through it.
func (s *server) handleWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	v, ok := s.queryValues(w, r)
	if !ok {
		return
	}
	limit := 50
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			s.writeError(w, r, lead.Invalid(lead.Result{Errors: []lead.Issue{{Field: "limit", Rule: query.RuleQueryParameter,
				Message: "limit must be a whole number from 1 to 200."}}}))
			return
		}
		limit = n
	}
	items, next, err := s.Store.ListWebhookDeliveries(r.Context(), r.PathValue("id"), limit, v.Get("cursor"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var cursor *string
	if next != "" {
		cursor = &next
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": cursor})
}

// handleRedeliver is POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver
// (admin): the same delivery (same webhook-id) is queued again, due now.
func (s *server) handleRedeliver(w http.ResponseWriter, r *http.Request) {
	if err := s.Store.RedeliverWebhook(r.Context(), r.PathValue("id"), r.PathValue("delivery_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"id": r.PathValue("delivery_id"), "status": "pending"})
}
