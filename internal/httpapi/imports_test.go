package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/csvimport"
	"github.com/norsedigital/leads/internal/store/storetest"
)

type importAnswer struct {
	Created int `json:"created"`
	Linked  int `json:"linked"`
	Refused []struct {
		Row   int    `json:"row"`
		Field string `json:"field"`
		Rule  string `json:"rule"`
	} `json:"refused"`
	IgnoredColumns []string `json:"ignored_columns"`
}

func csvBody(t testing.TB, records [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestImportAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e)
		consent := h.Clock.Now().Add(-time.Hour).Format(time.RFC3339)
		resp, data := h.do("POST", "/api/v1/bookings", "", validBooking("Booked@Example.org"), "X-Forwarded-For", "198.51.100.60")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("booking %d %s", resp.StatusCode, data)
		}
		file := csvBody(t, [][]string{
			{"first_name", "last_name", "email", "organization_name", "consent_given", "consent_timestamp", "status", "shoe_size"},
			{"Ann", "New", "ann@example.org", "Org", "yes", consent, "demo_scheduled", "42"},
			{"Bob", "Known", "BOOKED@example.org", "Org", "1", consent, "", ""},
			{"Cy", "Bad", "cy@", "Org", "yes", consent, "", ""},
			{"Di", "NoConsent", "di@example.org", "Org", "", "", "", ""},
			{"Ann", "Again", "Ann@Example.org", "Org", "true", consent, "", ""},
		})
		resp, data = h.do("POST", "/api/v1/imports", h.Sales, file, "Content-Type", "text/csv; charset=utf-8")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("import %d %s", resp.StatusCode, data)
		}
		got := decode[importAnswer](t, data)
		if got.Created != 1 || got.Linked != 2 || len(got.Refused) != 2 ||
			got.Refused[0].Row != 3 || got.Refused[0].Field != "email" || got.Refused[0].Rule != "email_format_validation" ||
			got.Refused[1].Row != 4 || got.Refused[1].Field != "consent_given" || got.Refused[1].Rule != "gdpr_consent_required" ||
			len(got.IgnoredColumns) != 1 || got.IgnoredColumns[0] != "shoe_size" {
			t.Fatalf("report %s", data)
		}
		if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM leads`); n != 2 {
			t.Fatalf("%d leads", n)
		}
		if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM email_jobs`); n != 1 {
			t.Fatalf("%d email jobs: only the booking's", n)
		}
		if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM lead_events WHERE type = 'import_linked' AND actor = 'sally-sales'`); n != 2 {
			t.Fatalf("%d import_linked events by the token's name", n)
		}
		if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM leads WHERE status = 'demo_scheduled' AND source = 'import'`); n != 1 {
			t.Fatal("the status column sets the new lead's status")
		}

		for _, c := range []struct {
			name, ctype string
			body        string
			status      int
		}{
			{"json", "application/json", `{"email": "x"}`, http.StatusUnsupportedMediaType},
			{"latin-1", "text/csv; charset=iso-8859-1", "email\n", http.StatusUnsupportedMediaType},
			{"broken quoting", "text/csv", "email,first_name\n\"x@example.org,A\n", http.StatusBadRequest},
			{"empty", "text/csv", "", http.StatusBadRequest},
			{"duplicate column", "text/csv", "email,EMAIL\n", http.StatusUnprocessableEntity},
		} {
			resp, data := h.do("POST", "/api/v1/imports", h.Sales, c.body, "Content-Type", c.ctype)
			mustProblem(t, resp, data, c.status)
		}
		resp, data = h.do("POST", "/api/v1/imports", "", string(file), "Content-Type", "text/csv")
		mustProblem(t, resp, data, http.StatusUnauthorized)
		resp, data = h.do("POST", "/api/v1/imports", h.Admin, "email\n", "Content-Type", "text/csv")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("admin import %d %s", resp.StatusCode, data)
		}
	})
}

// An import over 50 MiB is refused whole, whether its length is announced or not.
func TestImportTooLarge(t *testing.T) {
	h := newHarness(t, storetest.Engines()[0])
	header := "first_name,last_name,email,organization_name,consent_given,consent_timestamp\n"
	row := "A,B,%d@example.org,Org,yes," + h.Clock.Now().Format(time.RFC3339) + "\n"
	var b bytes.Buffer
	b.WriteString(header)
	for i := 0; b.Len() <= csvimport.MaxBytes; i++ {
		fmt.Fprintf(&b, row, i)
	}
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(b.Bytes())
		if chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
		req, _ := http.NewRequest("POST", h.URL+"/api/v1/imports", body)
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+h.Sales)
		resp, err := h.Client.Do(req)
		if err != nil {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mustProblem(t, resp, data, http.StatusRequestEntityTooLarge)
		if !strings.Contains(string(data), "50 MiB") {
			t.Errorf("problem %s", data)
		}
	}
	if n := rowCount(t, h.Store, `SELECT COUNT(*) FROM leads`); n != 0 {
		t.Fatalf("%d leads stored from a refused file", n)
	}
}

// BenchmarkImport100k imports files of 100,000 new leads through the API.
func BenchmarkImport100k(b *testing.B) {
	const rows = 100_000
	for _, e := range storetest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			h := newHarness(b, e)
			consent := h.Clock.Now().Add(-time.Hour).Format(time.RFC3339)
			file := func(n int) []byte {
				var buf bytes.Buffer
				buf.WriteString("first_name,last_name,email,phone,organization_name,organization_type,role_title,message,source,status,consent_given,consent_timestamp\n")
				for i := range rows {
					fmt.Fprintf(&buf, "Ada%d,Lovelace,ada.%d.%d@example.org,+47 22 33 %02d %02d,Analytical Mentors %d,non-profit,Coordinator,"+
						"\"We run 40 mentors, and would like a demo.\",event,new,yes,%s\n", i, n, i, i%100, i/100%100, i%1000, consent)
				}
				return buf.Bytes()
			}
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				body := file(i)
				b.StartTimer()
				resp, data := h.do("POST", "/api/v1/imports", h.Sales, body, "Content-Type", "text/csv")
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("import %d %.300s", resp.StatusCode, data)
				}
				if got := decode[importAnswer](b, data); got.Created != rows {
					b.Fatalf("created %d of %d: %.300s", got.Created, rows, data)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
