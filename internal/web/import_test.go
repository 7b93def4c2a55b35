package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/csvimport"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// upload posts file as the multipart form of /console/import.
func (s *site) upload(c *http.Client, csrf, file string) response {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csrf != "" {
		mw.WriteField("csrf", csrf)
	}
	if file != "" {
		fw, err := mw.CreateFormFile("file", "leads.csv")
		if err != nil {
			s.t.Fatal(err)
		}
		io.WriteString(fw, file)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/console/import", &body)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{Response: resp, Body: string(b)}
}

func TestConsoleImport(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		forEachLang(t, func(t *testing.T, l i18n.Lang) { testConsoleImport(t, e, l) })
	})
}

func testConsoleImport(t *testing.T, e storetest.Engine, lang i18n.Lang) {
	{
		s := newSite(t, e.URL(t), siteOpts{lang: lang})
		ada := s.seed(person("Ada", "Lovelace", "ada@example.org", "Analytical Mentors"))
		sales := s.signIn(s.Sales)
		csrf := s.csrf(sales)
		const file = "first_name,last_name,email,organization_name,consent_given,consent_timestamp,favourite_colour\n" +
			"Grace,Hopper,grace@example.org,Navy Labs,yes,2026-01-10T09:00:00Z,blue\n" +
			"Alan,Turing,alan@example.org,Bletchley Tutors,true,2026-01-10T09:00:00Z,green\n" +
			"Ada,Lovelace,ADA@example.org,Analytical Mentors,1,2026-01-10T09:00:00Z,red\n" +
			"Bad,Email,not-an-email,Nowhere,yes,2026-01-10T09:00:00Z,grey\n"

		t.Run("the form page", func(t *testing.T) {
			p := s.get(sales, "/console/import")
			if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `enctype="multipart/form-data"`) ||
				!strings.Contains(p.Body, `name="csrf" value="`+csrf+`"`) || !strings.Contains(p.Body, `href="/console/import" aria-current="page"`) {
				t.Fatalf("form: %d\n%s", p.StatusCode, p.Body)
			}
			if p := s.get(s.client(), "/console/import"); p.StatusCode != http.StatusSeeOther {
				t.Errorf("signed out: %d", p.StatusCode)
			}
		})

		t.Run("without a valid CSRF token nothing is imported", func(t *testing.T) {
			for _, tok := range []string{"", "forged"} {
				if p := s.upload(sales, tok, file); p.StatusCode != http.StatusForbidden {
					t.Errorf("csrf %q: %d", tok, p.StatusCode)
				}
			}
			if _, ok := s.leadByEmail("grace@example.org"); ok {
				t.Fatal("a refused upload imported leads")
			}
		})

		t.Run("format errors come back to the form", func(t *testing.T) {
			p := s.upload(sales, csrf, "first_name,last_name\n\"Grace,Hopper\n")
			if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, map[i18n.Lang]string{i18n.EN: "not valid CSV", i18n.NB: "ikke gyldig CSV"}[lang]) ||
				!strings.Contains(p.Body, `type="file"`) {
				t.Fatalf("broken CSV: %d\n%s", p.StatusCode, p.Body)
			}
			if p := s.upload(sales, csrf, ""); p.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("no file: %d", p.StatusCode)
			}
			p = s.upload(sales, csrf, "email,Email,first_name\nx@example.org,y@example.org,A\n")
			if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, map[i18n.Lang]string{i18n.EN: "appears more than once", i18n.NB: "finnes mer enn én gang"}[lang]) ||
				!strings.Contains(p.Body, `type="file"`) {
				t.Fatalf("duplicate column: %d\n%s", p.StatusCode, p.Body)
			}
			if _, ok := s.leadByEmail("x@example.org"); ok {
				t.Fatal("a file with a duplicate column imported a lead")
			}
		})

		t.Run("the report", func(t *testing.T) {
			p := s.upload(sales, csrf, file)
			if p.StatusCode != http.StatusOK {
				t.Fatalf("upload: %d\n%s", p.StatusCode, p.Body)
			}
			if got := regexpFind(p.Body, `id="created">(\d+)<`); got != "2" {
				t.Errorf("created %q", got)
			}
			if got := regexpFind(p.Body, `id="linked">(\d+)<`); got != "1" {
				t.Errorf("linked %q", got)
			}
			if !strings.Contains(p.Body, "<code>favourite_colour</code>") {
				t.Error("ignored column not shown")
			}
			row := regexpFind(p.Body, `(?s)<table id="refused">.*?<tbody>(.*?)</tbody>`)
			if !strings.Contains(row, `<td class="num">4</td>`) || !strings.Contains(row, "<code>email</code>") ||
				!strings.Contains(row, "<code>"+lead.RuleEmailFormat+"</code>") || strings.Count(row, "<tr>") != 1 {
				t.Errorf("refused rows: %s", row)
			}
			for _, email := range []string{"grace@example.org", "alan@example.org"} {
				l, ok := s.leadByEmail(email)
				if !ok || l.Source != lead.SourceImport {
					t.Errorf("%s: found %v, source %q", email, ok, l.Source)
				}
			}
			if n := s.count("SELECT count(*) FROM leads WHERE lower(email) = 'ada@example.org'"); n != 1 {
				t.Errorf("%d leads for the linked email", n)
			}
			if n := s.count("SELECT count(*) FROM lead_events WHERE lead_id = $1 AND actor = 'sally-sales'", ada); n != 1 {
				t.Errorf("%d events by the signed-in user on the linked lead", n)
			}
		})
	}
}

func TestConsoleImportTooLarge(t *testing.T) {
	s := newSite(t, storetest.SQLiteURL(t), siteOpts{lang: i18n.EN})
	sales := s.signIn(s.Sales)
	big := "first_name\n" + strings.Repeat("x", csvimport.MaxBytes+(1<<20))
	p := s.upload(sales, s.csrf(sales), big)
	if p.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(p.Body, "File too large") {
		t.Fatalf("too large: %d\n%s", p.StatusCode, p.Body)
	}
}
