package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/generate"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store/storetest"
)

var csvHeader = []string{"id", "first_name", "last_name", "email", "phone", "organization_name",
	"organization_type", "organization_size", "role_title", "source", "status", "notes", "message",
	"utm_source", "utm_medium", "utm_campaign", "ip_address", "consent_given", "consent_timestamp",
	"created_at", "updated_at", "anonymized_at", "language", "owner_id", "first_contacted_at", "contact_due_at"}

func readCSV(t *testing.T, resp *http.Response, data []byte) [][]string {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="leads.csv"` {
		t.Errorf("content disposition %q", cd)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(csvHeader)
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, data)
	}
	if !slices.Equal(recs[0], csvHeader) {
		t.Fatalf("header %v", recs[0])
	}
	return recs
}

func TestExportCSV(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		created := time.Date(2026, 4, 1, 10, 0, 0, 123456000, time.UTC)
		tricky := insertListLead(t, h.Store, listSeed{first: "=HYPERLINK(\"http://evil.example\")", last: "+SUM(A1)",
			email: "tricky@example.org", org: "@Org, \"Quoted\" & Co", phone: "+4722334455", status: lead.StatusWon,
			source: lead.SourceEvent, message: "-2+3\nsecond line, with a comma", notes: "\tindented", created: created})
		plain := insertListLead(t, h.Store, listSeed{first: "Åse", last: "Berg", email: "ase@example.org", org: "Fjord Network",
			created: created.Add(time.Hour)})

		resp, data := h.do("GET", "/api/v1/leads.csv", h.Sales, nil)
		recs := readCSV(t, resp, data)
		if len(recs) != 3 || recs[1][0] != plain || recs[2][0] != tricky {
			t.Fatalf("rows %v", recs)
		}
		got := map[string]string{}
		for i, col := range csvHeader {
			got[col] = recs[2][i]
		}
		want := map[string]string{
			"first_name":        "'=HYPERLINK(\"http://evil.example\")",
			"last_name":         "'+SUM(A1)",
			"organization_name": "'@Org, \"Quoted\" & Co",
			"phone":             "'+4722334455",
			"message":           "'-2+3\nsecond line, with a comma",
			"notes":             "'\tindented",
			"email":             "tricky@example.org",
			"status":            "won",
			"source":            "event",
			"consent_given":     "true",
			"created_at":        "2026-04-01T10:00:00.123456Z",
			"consent_timestamp": "2026-04-01T10:00:00.123456Z",
			"utm_campaign":      "",
			"anonymized_at":     "",
		}
		for col, w := range want {
			if got[col] != w {
				t.Errorf("%s = %q, want %q", col, got[col], w)
			}
		}
		if recs[1][1] != "Åse" {
			t.Errorf("UTF-8 name %q", recs[1][1])
		}
		if !bytes.HasPrefix(data, []byte(strings.Join(csvHeader, ",")+"\n")) {
			t.Errorf("first line %q", data[:min(len(data), 300)])
		}

		// the list's filters apply; limit and cursor do not
		resp, data = h.do("GET", "/api/v1/leads.csv?status=won&limit=1&cursor=whatever", h.Sales, nil)
		if recs := readCSV(t, resp, data); len(recs) != 2 || recs[1][0] != tricky {
			t.Errorf("status=won: %v", recs)
		}
		resp, data = h.do("GET", "/api/v1/leads.csv?q=fjord", h.Sales, nil)
		if recs := readCSV(t, resp, data); len(recs) != 2 || recs[1][0] != plain {
			t.Errorf("q=fjord: %v", recs)
		}
		resp, data = h.do("GET", "/api/v1/leads.csv?status=nope", h.Sales, nil)
		if p := mustProblem(t, resp, data, http.StatusUnprocessableEntity); !hasIssue(p.Errors, "status", lead.RuleStatusEnum) {
			t.Errorf("errors %+v", p.Errors)
		}
		// nothing matches: still a CSV with its header
		resp, data = h.do("GET", "/api/v1/leads.csv?source=partner", h.Sales, nil)
		if recs := readCSV(t, resp, data); len(recs) != 1 {
			t.Errorf("empty export %v", recs)
		}
	})
}

func TestExportCSVStreams(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		const n = 5000
		if err := generate.Leads(t.Context(), h.Store, n, generate.Options{Seed: 7}); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", h.URL+"/api/v1/leads.csv", nil)
		req.Header.Set("Authorization", "Bearer "+h.Sales)
		resp, err := h.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		// written as it is read: no Content-Length, chunked
		if resp.ContentLength != -1 || !slices.Equal(resp.TransferEncoding, []string{"chunked"}) {
			t.Errorf("Content-Length %d, Transfer-Encoding %v", resp.ContentLength, resp.TransferEncoding)
		}
		r := csv.NewReader(resp.Body)
		rows := 0
		var prev time.Time
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if rows++; rows == 1 {
				continue
			}
			c, err := time.Parse(time.RFC3339Nano, rec[19])
			if err != nil {
				t.Fatal(err)
			}
			if !prev.IsZero() && c.After(prev) {
				t.Fatalf("row %d is newer than the one before", rows)
			}
			prev = c
		}
		if rows != n+1 {
			t.Fatalf("%d lines, want %d", rows, n+1)
		}
	})
}
