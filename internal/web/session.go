package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

const (
	// cookieName holds the raw session id; the store keeps only its hash.
	cookieName  = "leads_console"
	cookiePath  = "/console"
	csrfField   = "csrf"
	maxFormBody = 1 << 20 // a note may hold 100,000 characters of up to 4 bytes
	// uploadDeadline is how long reading and handling an upload may take.
	uploadDeadline = 10 * time.Minute
)

type sessionKey struct{}

// staffSession is the signed-in user of a console request.
type staffSession struct {
	store.Session
	CSRF string
}

func sessionOf(r *http.Request) *staffSession {
	s, _ := r.Context().Value(sessionKey{}).(*staffSession)
	return s
}

// csrfToken is the session's form token: derived from the raw session id, which only the
// browser holding the cookie knows (the database has its hash, not this).
func csrfToken(rawSession string) string {
	sum := sha256.Sum256([]byte("leads console csrf\x00" + rawSession))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Staff wraps a console page that needs a signed-in user whose role allows need. Without a
// live session a GET goes to the sign-in page and anything else gets 401. Unsafe methods
// must carry the session's CSRF token, on top of the cross-origin check of Console.
func (p *Pages) Staff(need lead.Role, h http.HandlerFunc) http.Handler {
	return p.staff(need, maxFormBody, h)
}

// StaffUpload is Staff for a multipart/form-data form of at most maxBody bytes (a file
// upload): the body, CSRF field included, is parsed before h runs; files beyond 32 MiB wait
// on disk (the server removes them after the request).
func (p *Pages) StaffUpload(need lead.Role, maxBody int64, h http.HandlerFunc) http.Handler {
	return p.staff(need, maxBody, h)
}

func (p *Pages) staff(need lead.Role, maxBody int64, h http.HandlerFunc) http.Handler {
	return p.Console(func(w http.ResponseWriter, r *http.Request) {
		sess, err := p.session(r)
		if err != nil {
			if lead.ErrorCode(err) != lead.CodeUnauthorized {
				p.internalError(w, r, err)
				return
			}
			p.clearCookie(w, r)
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
				return
			}
			p.errorPage(w, r, http.StatusUnauthorized, p.tr(r).T("errors.signed_out"), p.tr(r).T("errors.signed_out_text"))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
		if !sess.Token.Role.Allows(need) {
			p.errorPage(w, r, http.StatusForbidden, p.tr(r).T("errors.not_allowed"), p.tr(r).T("errors.not_allowed_text", string(need)))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if maxBody > maxFormBody {
				// a 50 MiB file on a slow line outlasts the server's general timeouts
				rc := http.NewResponseController(w)
				rc.SetReadDeadline(time.Now().Add(uploadDeadline))
				rc.SetWriteDeadline(time.Now().Add(uploadDeadline))
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			var err error
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" && maxBody > maxFormBody {
				err = r.ParseMultipartForm(32 << 20)
			} else {
				err = r.ParseForm()
			}
			if err != nil {
				p.formError(w, r, err)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get(csrfField)), []byte(sess.CSRF)) != 1 {
				p.errorPage(w, r, http.StatusForbidden, p.tr(r).T("errors.refused"), p.tr(r).T("errors.csrf"))
				return
			}
		}
		h(w, r)
	})
}

// session is the live session of r's cookie, or a CodeUnauthorized error.
func (p *Pages) session(r *http.Request) (*staffSession, error) {
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil, lead.Errorf(lead.CodeUnauthorized, "not signed in")
	}
	sess, err := p.cfg.Store.SessionFor(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &staffSession{Session: sess, CSRF: csrfToken(c.Value)}, nil
}

func (p *Pages) setCookie(w http.ResponseWriter, r *http.Request, raw string, sess store.Session) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: raw, Path: cookiePath, Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: p.cfg.SecureCookies || r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

func (p *Pages) clearCookie(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(cookieName); errors.Is(err, http.ErrNoCookie) {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: cookiePath, MaxAge: -1,
		HttpOnly: true, Secure: p.cfg.SecureCookies || r.TLS != nil, SameSite: http.SameSiteStrictMode})
}
