package web

import (
	"net/http"
)

// Content-Security-Policy of the pages: nothing but our own stylesheet and images, forms
// post only to us, no inline script or style anywhere. The booking form may be framed by
// any site (it is meant to be embedded); the console by none. The public pages run our own
// script files only (the booking form's proof of work, SPEC §15: a Web Worker that fetches
// its challenge from us).
const (
	cspPublic  = "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors *"
	cspConsole = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

// Public wraps a public page (booking form, thank-you page, privacy notice): embeddable
// headers and cross-origin protection for its form posts. A form inside an iframe posts
// from the frame's own origin, so embedding keeps working.
func (p *Pages) Public(h http.HandlerFunc) http.Handler {
	return headers(cspPublic, false, withLang(p.crossOrigin(h)))
}

// Console wraps a console page that needs no session (the sign-in form): no framing,
// cross-origin protection.
func (p *Pages) Console(h http.HandlerFunc) http.Handler {
	return headers(cspConsole, true, withLang(p.crossOrigin(h)))
}

// headers sets the security headers of every page.
func headers(csp string, console bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		// pages hold personal data (typed into the form, or the console's leads)
		h.Set("Cache-Control", "no-store")
		if console {
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses unsafe requests that a browser marks as coming from another origin
// (Sec-Fetch-Site, else Origin versus Host) with a 403 page. It is the first of the
// console's two CSRF defences; the per-session token of session.go is the second.
func (p *Pages) crossOrigin(h http.HandlerFunc) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr := p.tr(r)
		p.errorPage(w, r, http.StatusForbidden, tr.T("errors.refused"), tr.T("errors.cross_origin"))
	}))
	return cop.Handler(h)
}
