package web

import (
	"net/http"
	"strings"

	"github.com/norsedigital/leads/internal/lead"
)

type signInData struct {
	chrome
	Error     string
	SignedOut bool
}

// ConsoleHome is GET /console: when signed in, My leads for a member and the lead list for
// a service token; else the sign-in page.
func (p *Pages) ConsoleHome(w http.ResponseWriter, r *http.Request) {
	if sess, err := p.session(r); err == nil {
		http.Redirect(w, r, landing(sess.Session), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
}

// SignInForm is GET /console/sign-in.
func (p *Pages) SignInForm(w http.ResponseWriter, r *http.Request) {
	if _, err := p.session(r); err == nil {
		http.Redirect(w, r, "/console/leads", http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "console_signin", signInData{chrome: p.base(r, p.tr(r).T("signin.title")),
		SignedOut: r.URL.Query().Get("signed_out") == "1"})
}

// SignIn is POST /console/sign-in: a staff API token opens a session. The cookie carries
// a fresh random session id, never the token.
func (p *Pages) SignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		p.formError(w, r, err)
		return
	}
	tok, err := p.cfg.Store.Authenticate(r.Context(), strings.TrimSpace(r.PostForm.Get("token")))
	if err != nil {
		if lead.ErrorCode(err) != lead.CodeUnauthorized {
			p.internalError(w, r, err)
			return
		}
		tr := p.tr(r)
		p.render(w, r, http.StatusUnauthorized, "console_signin", signInData{chrome: p.base(r, tr.T("error.prefix", tr.T("signin.title"))),
			Error: tr.T("signin.invalid")})
		return
	}
	if old, err := r.Cookie(cookieName); err == nil {
		// signing in again (perhaps as someone else) ends the session the browser had
		if err := p.cfg.Store.RevokeSession(r.Context(), old.Value); err != nil {
			p.internalError(w, r, err)
			return
		}
	}
	raw, sess, err := p.cfg.Store.CreateSession(r.Context(), tok, p.cfg.SessionTTL)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	p.setCookie(w, r, raw, sess)
	http.Redirect(w, r, landing(sess), http.StatusSeeOther)
}

// SignOut is POST /console/sign-out: the session is revoked in the database, not only
// forgotten by the browser.
func (p *Pages) SignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		if err := p.cfg.Store.RevokeSession(r.Context(), c.Value); err != nil {
			p.internalError(w, r, err)
			return
		}
	}
	p.clearCookie(w, r)
	http.Redirect(w, r, "/console/sign-in?signed_out=1", http.StatusSeeOther)
}
