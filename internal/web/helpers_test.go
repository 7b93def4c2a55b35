package web_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/web"
)

// site is the whole service (API and pages) over real TCP on a fresh database, with a
// sales and an admin token.
type site struct {
	t     testing.TB
	URL   string
	Store *store.Store
	Sales string
	Admin string
	lang  i18n.Lang
}

type siteOpts struct {
	tls       bool
	rateLimit int
	// behindTLS is --public-url https://…: Secure cookie and HSTS on plain HTTP too
	behindTLS bool
	// lang is the language every client() asks for with the lang cookie; "" sends none
	// (the default, nb)
	lang i18n.Lang
}

func newSite(t testing.TB, dbURL string, o siteOpts) *site {
	t.Helper()
	st := storetest.MustOpen(t, dbURL, store.Options{})
	// loopback is a trusted proxy here, so tests choose client IPs with X-Forwarded-For
	clientIP, err := httpapi.NewClientIP([]string{"127.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	if o.rateLimit == 0 {
		o.rateLimit = 5
	}
	booker := &intake.Service{Store: st, RateLimit: intake.RateLimit{Count: o.rateLimit, Window: time.Hour}, ConsentVersion: "test-1"}
	pages, err := web.New(web.Config{Store: st, Intake: booker, ClientIP: clientIP.Of, SecureCookies: o.behindTLS})
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.NewServer(httpapi.Deps{Store: st, Intake: booker, ClientIP: clientIP, Web: pages, HSTS: o.behindTLS})
	var srv *httptest.Server
	if o.tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	s := &site{t: t, URL: srv.URL, Store: st, lang: o.lang}
	if s.Sales, _, err = st.CreateToken(t.Context(), "sally-sales", lead.RoleSales); err != nil {
		t.Fatal(err)
	}
	if s.Admin, _, err = st.CreateToken(t.Context(), "adam-admin", lead.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	return s
}

// client returns a client with a cookie jar that does not follow redirects, so that
// tests see the 303s.
func (s *site) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	if s.lang != "" {
		u, _ := url.Parse(s.URL)
		jar.SetCookies(u, []*http.Cookie{{Name: i18n.CookieName, Value: string(s.lang), Path: "/"}})
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// response is one answer, read whole.
type response struct {
	*http.Response
	Body string
}

// do sends a request; hdr is name, value pairs.
func (s *site) do(c *http.Client, method, path string, form url.Values, hdr ...string) response {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
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

func (s *site) get(c *http.Client, path string) response { return s.do(c, http.MethodGet, path, nil) }

// signIn opens a console session for token and returns a client that carries it.
func (s *site) signIn(token string) *http.Client {
	s.t.Helper()
	c := s.client()
	p := s.do(c, http.MethodPost, "/console/sign-in", url.Values{"token": {token}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/console/leads" {
		s.t.Fatalf("sign in: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	return c
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the session's form token from a console page.
func (s *site) csrf(c *http.Client) string {
	s.t.Helper()
	m := csrfRe.FindStringSubmatch(s.get(c, "/console/leads").Body)
	if m == nil {
		s.t.Fatal("no csrf field on the lead list")
	}
	return m[1]
}

// seed stores a booking straight through the store (no rate limit) and returns the lead id.
func (s *site) seed(in lead.BookingInput) string {
	s.t.Helper()
	yes := true
	if in.ConsentGiven == nil {
		in.ConsentGiven = &yes
	}
	b, res := lead.ValidateBooking(in)
	if !res.OK() {
		s.t.Fatalf("seed booking invalid: %+v", res.Errors)
	}
	out, err := s.Store.Book(s.t.Context(), store.BookingParams{Booking: b, IP: "192.0.2.10", UserAgent: "seed",
		ConsentVersion: "test-1"})
	if err != nil {
		s.t.Fatal(err)
	}
	return out.LeadID
}

// member adds an active sales member and returns their id and a token that acts as them.
func (s *site) member(name, email string) (string, string) {
	s.t.Helper()
	m, err := s.Store.CreateMember(s.t.Context(), lead.MemberInput{Name: &name, Email: &email, Role: new(string(lead.RoleSales))})
	if err != nil {
		s.t.Fatal(err)
	}
	token, _, err := s.Store.CreateMemberToken(s.t.Context(), email)
	if err != nil {
		s.t.Fatal(err)
	}
	return m.ID, token
}

func person(first, last, email, org string) lead.BookingInput {
	return lead.BookingInput{FirstName: first, LastName: last, Email: email, OrganizationName: org}
}

// leadByEmail finds the one live lead with email.
func (s *site) leadByEmail(email string) (lead.Lead, bool) {
	s.t.Helper()
	page, err := s.Store.ListLeads(s.t.Context(), query.Filter{Query: email}, 10, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, l := range page.Items {
		if strings.EqualFold(l.Email, email) {
			return l, true
		}
	}
	return lead.Lead{}, false
}

func (s *site) count(q string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.Store.DB().QueryRow(q, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func bookingForm(first, last, email, org string) url.Values {
	return url.Values{"first_name": {first}, "last_name": {last}, "email": {email}, "organization_name": {org},
		"consent_given": {"on"}}
}

func regexpFind(s, re string) string {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

func regexpAll(s, re string) []string {
	var out []string
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

// tx is the catalog text of key in l, what a page in l must show.
func tx(l i18n.Lang, key string, args ...any) string {
	return i18n.MustNewCatalog().T(l, key, args...)
}

// forEachLang runs fn once per language, as a subtest named after it.
func forEachLang(t *testing.T, fn func(t *testing.T, l i18n.Lang)) {
	for _, l := range i18n.Langs {
		t.Run(string(l), func(t *testing.T) { fn(t, l) })
	}
}
