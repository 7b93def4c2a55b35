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

	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/spam"
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
	demos *store.DemoRules // siteOpts.demos
}

type siteOpts struct {
	tls       bool
	rateLimit int
	// behindTLS is --public-url https://…: Secure cookie and HSTS on plain HTTP too
	behindTLS bool
	// lang is the language every client() asks for with the lang cookie; "" sends none
	// (the default, nb)
	lang i18n.Lang
	// spamPolicy is the booking's spam check; "" is off here (the tests about it set it),
	// and minFormAge shortens the form's 3 s for the browser
	spamPolicy   spam.Policy
	powMaxNumber int64
	minFormAge   time.Duration
	// oidc sets up single sign-on, given the site's URL
	oidc func(siteURL string) *web.OIDCConfig
	// demos turns demo scheduling on (09:00-15:00 Oslo, 30 minutes); clock, when set, is
	// the clock of the store and the pages
	demos bool
	clock *storetest.Clock
}

func newSite(t testing.TB, dbURL string, o siteOpts) *site {
	t.Helper()
	var now func() time.Time
	if o.clock != nil {
		now = o.clock.Now
	}
	st := storetest.MustOpen(t, dbURL, store.Options{Now: now})
	var demos *store.DemoRules
	if o.demos {
		loc, _ := time.LoadLocation("Europe/Oslo")
		demos = &store.DemoRules{Calendar: calendar.New(loc), Hours: calendar.Hours{Start: 9 * time.Hour, End: 15 * time.Hour}, Length: 30 * time.Minute}
	}
	// loopback is a trusted proxy here, so tests choose client IPs with X-Forwarded-For
	clientIP, err := httpapi.NewClientIP([]string{"127.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	if o.rateLimit == 0 {
		o.rateLimit = 5
	}
	if o.spamPolicy == "" {
		o.spamPolicy = spam.PolicyOff
	}
	booker := &intake.Service{Store: st, RateLimit: intake.RateLimit{Count: o.rateLimit, Window: time.Hour}, ConsentVersion: "test-1",
		SpamPolicy: o.spamPolicy, PowMaxNumber: o.powMaxNumber, MinFormAge: o.minFormAge, Demos: demos, Now: now}
	// the listener first: single sign-on needs the site's URL
	srv := httptest.NewUnstartedServer(nil)
	siteURL := "http://" + srv.Listener.Addr().String()
	if o.tls {
		siteURL = "https://" + srv.Listener.Addr().String()
	}
	var sso *web.OIDCConfig
	if o.oidc != nil {
		sso = o.oidc(siteURL)
	}
	pages, err := web.New(web.Config{Store: st, Intake: booker, ClientIP: clientIP.Of, SecureCookies: o.behindTLS, OIDC: sso,
		Demos: demos, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = httpapi.NewServer(httpapi.Deps{Store: st, Intake: booker, ClientIP: clientIP, Web: pages, HSTS: o.behindTLS,
		Demos: demos, Now: now})
	if o.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	s := &site{t: t, URL: srv.URL, Store: st, lang: o.lang, demos: demos}
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
	// a service token lands on the lead list, a member on My leads
	if loc := p.Header.Get("Location"); p.StatusCode != http.StatusSeeOther || (loc != "/console/leads" && loc != "/console/leads?owner_id=me") {
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

// salesMember adds an active sales member and returns their id and a token that acts as them.
func (s *site) salesMember(name, email string) (string, string) {
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
