package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/store/storetest"
)

// inlineCode finds what a strict CSP would block in our own markup: script elements,
// style elements or attributes, event handler attributes and javascript: URLs.
var inlineCode = regexp.MustCompile(`(?i)<script|<style|\sstyle=|\son[a-z]+=|javascript:`)

// externalScript is the only script element a page may carry: a file of ours, by src.
var externalScript = regexp.MustCompile(`(?i)<script\s+src="/static/[a-z-]+\.js\?v=[0-9a-f]+"\s+defer></script>`)

func TestSecurityHeaders(t *testing.T) {
	s := newSite(t, storetest.SQLiteURL(t), siteOpts{})
	id := s.seed(person("Ada", "Lovelace", "ada@example.org", "Analytical Mentors"))
	admin := s.signIn(s.Admin)
	anon := s.client()

	const (
		public  = "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors *"
		console = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	)
	for _, tc := range []struct {
		path   string
		c      *http.Client
		status int
		csp    string
	}{
		{"/", anon, 200, public},
		{"/?utm_source=news&embed=1", anon, 200, public},
		{"/thanks?ref=0190a0b1-0000-7000-8000-000000000000", anon, 200, public},
		{"/privacy", anon, 200, public},
		{"/console/sign-in", anon, 200, console},
		{"/console/leads", admin, 200, console},
		{"/console/leads?q=ada&status=new&source=demo_booking", admin, 200, console},
		{"/console/leads/" + id, admin, 200, console},
		{"/console/leads/" + id + "/anonymize", admin, 200, console},
		{"/console/stats", admin, 200, console},
		{"/console/leads/0190a0b1-0000-7000-8000-000000000000", admin, 404, console},
		{"/console/nowhere", anon, 404, console},
		{"/console/leads", anon, 303, console},
	} {
		t.Run(tc.path, func(t *testing.T) {
			p := s.get(tc.c, tc.path)
			if p.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", p.StatusCode, tc.status)
			}
			h := p.Header
			if got := h.Get("Content-Security-Policy"); got != tc.csp {
				t.Errorf("CSP %q", got)
			}
			want := map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
			if tc.csp == console {
				want["X-Frame-Options"] = "DENY"
			} else if xfo := h.Get("X-Frame-Options"); xfo != "" {
				t.Errorf("the embeddable form sends X-Frame-Options %q", xfo)
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tc.status != 303 {
				if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				if m := inlineCode.FindString(externalScript.ReplaceAllString(p.Body, "")); m != "" {
					t.Errorf("page carries inline code the CSP would block: %q", m)
				}
			}
		})
	}

	t.Run("static assets", func(t *testing.T) {
		p := s.get(anon, "/static/site.css")
		if p.StatusCode != 200 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/css") ||
			p.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(p.Body, "--brand") {
			t.Fatalf("site.css: %d %q", p.StatusCode, p.Header.Get("Content-Type"))
		}
		if p := s.get(anon, "/static/"); p.StatusCode != 404 {
			t.Fatalf("directory listing: %d", p.StatusCode)
		}
		if p := s.get(anon, "/static/nope.js"); p.StatusCode != 404 {
			t.Fatalf("missing asset: %d", p.StatusCode)
		}
	})
}
