package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/corpora"
	"github.com/norsedigital/leads/internal/lead"
)

// Run it for longer with: go test ./internal/httpapi -run '^$' -fuzz FuzzMergePatch -fuzztime 30s

// FuzzMergePatch drives the PATCH /api/v1/leads/{id} decoder (readLeadObject, then
// decodeLeadInput) and lead.ValidatePatch with arbitrary bodies: it never panics, a refused
// body gets a well-formed 400/413/422 problem, and an accepted one decodes like lead.Input's
// own JSON decoding and changes no field it does not name.
func FuzzMergePatch(f *testing.F) {
	for _, body := range []string{``, `{`, `[]`, `null`, `{}`, `{} {}`, `{"status": "contacted"}`, `{"status": null}`,
		`{"status": ""}`, `{"status": "won"}`, `{"phone": null}`, `{"phone": ""}`, `{"first_name": null}`,
		`{"first_name": 7}`, `{"notes": "x"}`, `{"source": "import"}`, `{"id": "x", "created_at": 1}`, `{"nope": 1}`,
		`{"First_Name": "case"}`, `{"email": "a@b.co", "email": "c@d.co"}`, `{"message": "a\r\nb"}`,
		`{"organization_size": "11-50", "utm_source": null}`, "{\"last_name\": \"\xff\"}", `{"role_title": "\u0000"}`} {
		f.Add([]byte(body))
	}
	if p := corpora.Optional("blns.json"); p != "" {
		if data, err := os.ReadFile(p); err == nil {
			var list []string
			if json.Unmarshal(data, &list) == nil {
				for i, s := range list {
					field := []string{"first_name", "email", "message", "phone", "status"}[i%5]
					b, _ := json.Marshal(map[string]string{field: s})
					f.Add(b)
				}
			}
		}
	}
	s := &server{Deps: Deps{Logger: slog.New(slog.DiscardHandler), Now: time.Now}}
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	phone, msg := "+4722334455", "Hello"
	current := lead.Lead{ID: "0190f7c8-0000-7000-8000-000000000001", FirstName: "Kari", LastName: "Nordmann",
		Email: "kari@example.no", Phone: &phone, OrganizationName: "Frivillig Norge", Source: lead.SourceDemoBooking,
		Status: lead.StatusNew, Message: &msg, ConsentGiven: true, ConsentTimestamp: &created, CreatedAt: created, UpdatedAt: created}

	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("PATCH", "/api/v1/leads/"+current.ID, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/merge-patch+json")
		w := httptest.NewRecorder()
		known, readOnly := leadKeys(lead.WritePatch)
		raw, ok := s.readLeadObject(w, r, []string{"application/merge-patch+json", "application/json"},
			known, readOnly)
		if ok {
			var in lead.Input
			if in, ok = s.decodeLeadInput(w, r, raw); ok {
				if w.Body.Len() != 0 {
					t.Fatalf("accepted, yet an answer was written: %s", w.Body)
				}
				checkPatch(t, body, raw, in, current)
				return
			}
		}
		if w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge && w.Code != http.StatusUnprocessableEntity {
			t.Fatalf("refused with status %d: %s", w.Code, w.Body)
		}
		if len(body) > maxBody && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("a body of %d bytes answered %d, want 413", len(body), w.Code)
		}
		var p Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code || p.Type == "" || p.Title == "" {
			t.Fatalf("bad problem (%v): %s", err, w.Body)
		}
		if w.Code == http.StatusUnprocessableEntity && len(p.Errors) == 0 {
			t.Fatalf("422 without errors: %s", w.Body)
		}
	})
}

func checkPatch(t *testing.T, body []byte, raw map[string]json.RawMessage, in lead.Input, current lead.Lead) {
	t.Helper()
	// Differential: lead.Input decodes the same body itself (Opt.UnmarshalJSON).
	var direct lead.Input
	if err := json.Unmarshal(body, &direct); err != nil {
		t.Fatalf("decoder accepted %q, lead.Input refuses it: %v", body, err)
	}
	if !reflect.DeepEqual(direct, in) {
		t.Fatalf("decoders disagree on %q:\n%+v\n%+v", body, in, direct)
	}
	for _, f := range lead.Fields() {
		if f.Input(&lead.Input{}) == nil {
			continue
		}
		name, o := f.Name, f.Input(&in)
		if _, sent := raw[name]; sent != o.Set {
			t.Fatalf("field %s sent=%v, decoded Set=%v", name, sent, o.Set)
		}
	}
	l, res := lead.ValidatePatch(current, in)
	l2, res2 := lead.ValidatePatch(current, in)
	if !reflect.DeepEqual(l, l2) || !reflect.DeepEqual(res, res2) {
		t.Fatalf("ValidatePatch is not deterministic")
	}
	if !res.OK() {
		return
	}
	if l.ID != current.ID || l.Source != current.Source || l.ConsentGiven != current.ConsentGiven ||
		l.ConsentTimestamp != current.ConsentTimestamp || !l.CreatedAt.Equal(current.CreatedAt) || l.Notes != current.Notes {
		t.Fatalf("a read-only field changed: %+v", l)
	}
	if strings.TrimSpace(l.FirstName) == "" || strings.TrimSpace(l.LastName) == "" || l.Email == "" || l.OrganizationName == "" {
		t.Fatalf("a required field was cleared: %+v", l)
	}
	if !lead.ValidEmail(l.Email) {
		t.Fatalf("accepted email %q", l.Email)
	}
	unchanged := func(name string, a, b any) {
		if _, sent := raw[name]; !sent && !reflect.DeepEqual(a, b) {
			t.Fatalf("%s changed though the patch does not name it: %v -> %v", name, b, a)
		}
	}
	unchanged("first_name", l.FirstName, current.FirstName)
	unchanged("last_name", l.LastName, current.LastName)
	unchanged("email", l.Email, current.Email)
	unchanged("phone", l.Phone, current.Phone)
	unchanged("organization_name", l.OrganizationName, current.OrganizationName)
	unchanged("message", l.Message, current.Message)
	unchanged("status", l.Status, current.Status)
	if l.Status != current.Status && !lead.CanTransition(current.Status, l.Status) {
		t.Fatalf("status %s -> %s is not allowed", current.Status, l.Status)
	}
}

// FuzzParseIfMatch: any If-Match header gives nil (any version) or tags that are each
// non-empty, trimmed and free of the list separator.
func FuzzParseIfMatch(f *testing.F) {
	for _, h := range []string{``, `*`, `"a"`, `W/"a"`, `"a", "b"`, `,,`, ` , * `, `"a,b"`} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tags := parseIfMatch(http.Header{"If-Match": {v}})
		for _, tag := range tags {
			if tag == "" || tag != strings.TrimSpace(tag) || strings.Contains(tag, ",") {
				t.Fatalf("tag %q from %q", tag, v)
			}
		}
	})
}
