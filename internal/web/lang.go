package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/norsedigital/leads/internal/i18n"
)

type langKey struct{}

// withLang negotiates the language of a page request (?lang=, the lang cookie,
// Accept-Language, nb) and keeps it in the request context for the handler and render.
func withLang(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := i18n.Negotiate(w, r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey{}, l)))
	})
}

// langOf is the language of r: negotiated by withLang, else (a request that did not pass
// through it) from its headers without remembering anything.
func langOf(r *http.Request) i18n.Lang {
	if l, ok := r.Context().Value(langKey{}).(i18n.Lang); ok {
		return l
	}
	if l, ok := i18n.Parse(r.URL.Query().Get("lang")); ok {
		return l
	}
	if c, err := r.Cookie(i18n.CookieName); err == nil {
		if l, ok := i18n.Parse(c.Value); ok {
			return l
		}
	}
	if l, ok := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language")); ok {
		return l
	}
	return i18n.NB
}

// tr is the printer of r's language.
func (p *Pages) tr(r *http.Request) i18n.Printer { return p.cat.For(langOf(r)) }

// langLink is one entry of the language switch.
type langLink struct {
	Lang    string
	Name    string
	URL     string
	Current bool
}

// base is the chrome of a page in r's language: title, <html lang> and the language switch
// (the page's own URL with ?lang= set; after a POST, the GET of the same path).
func (p *Pages) base(r *http.Request, title string) chrome {
	l := langOf(r)
	c := chrome{Title: title, Lang: string(l), Session: sessionOf(r)}
	for _, other := range i18n.Langs {
		q := url.Values{}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			q = r.URL.Query()
		}
		q.Del("lang")
		q.Set("lang", string(other))
		c.Langs = append(c.Langs, langLink{Lang: string(other), Name: p.cat.T(other, "lang."+string(other)),
			URL: r.URL.Path + "?" + q.Encode(), Current: other == l})
	}
	return c
}
