// Package web is the server-rendered HTML of the service: the public demo booking form and
// the sales console. Pages use html/template (every value escaped), assets are embedded,
// no page carries inline script or style, so a strict Content-Security-Policy holds.
// Routes are registered in internal/httpapi/routes.go with the wrappers of middleware.go.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

//go:embed templates static
var assets embed.FS

// Config is what the pages need; Store, Intake and ClientIP are required.
type Config struct {
	Store *store.Store
	// Catalog is the process's message catalog, shared with the email renderers; nil builds
	// one for the pages.
	Catalog *i18n.Catalog
	Intake  *intake.Service
	// ClientIP resolves the client address of a request (httpapi.ClientIP.Of): the booking
	// form must rate-limit exactly like the JSON API.
	ClientIP func(*http.Request) string
	Logger   *slog.Logger
	Now      func() time.Time
	// SessionTTL is how long a console sign-in lasts; 12 hours when zero.
	SessionTTL time.Duration
	// IPRetention is stated on the privacy notice; 30 days when zero.
	IPRetention time.Duration
	// InactiveRetention is stated on the privacy notice (--inactive-retention; 0: off).
	InactiveRetention time.Duration
	// SecureCookies marks the console cookie Secure even on plain-HTTP requests: behind a
	// TLS-terminating proxy (--public-url https://…) the browser speaks HTTPS, the proxy
	// speaks HTTP to us, and the cookie must never travel without TLS.
	SecureCookies bool
	// Location is the time zone of dates and times shown to people (--timezone);
	// Europe/Oslo when nil.
	Location *time.Location
	// OIDC, when set, offers single sign-on on the sign-in page.
	OIDC *OIDCConfig
	// Demos are the demo settings (SPEC §13): the form's preferred times and the lead
	// page's schedule control; nil shows neither.
	Demos *store.DemoRules
}

// Pages serves every HTML page. Build it with New.
type Pages struct {
	cfg       Config
	pages     map[string]map[i18n.Lang]*pageTemplate
	cat       *i18n.Catalog
	static    fs.FS
	assetHash map[string]string
	oidc      *oidcClient // nil without single sign-on
}

// New parses the templates and fingerprints the static files.
func New(cfg Config) (*Pages, error) {
	if cfg.Store == nil || cfg.Intake == nil || cfg.ClientIP == nil {
		return nil, fmt.Errorf("web: Store, Intake and ClientIP are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.IPRetention <= 0 {
		cfg.IPRetention = 30 * 24 * time.Hour
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Europe/Oslo")
		if err != nil {
			return nil, fmt.Errorf("web: time zone: %w", err)
		}
		cfg.Location = loc
	}
	cat := cfg.Catalog
	if cat == nil {
		var err error
		if cat, err = i18n.NewCatalog(); err != nil {
			return nil, err
		}
	}
	p := &Pages{cfg: cfg, pages: map[string]map[i18n.Lang]*pageTemplate{}, assetHash: map[string]string{}, cat: cat}
	if cfg.OIDC != nil {
		p.oidc = newOIDCClient(*cfg.OIDC)
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	p.static = static
	err = fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, name)
		sum := sha256.Sum256(b)
		p.assetHash[name] = hex.EncodeToString(sum[:6])
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := p.parseTemplates(); err != nil {
		return nil, err
	}
	return p, nil
}

// pageTemplate is one page's template set in one language: its layout, the shared
// partials, and the page itself, parsed when the page is first shown. Parsed at start,
// the sixty-odd sets held 4 MB that an idle service never uses (SPEC §8: < 30 MB idle);
// the templates are embedded, and TestEveryPageParses parses each of them.
type pageTemplate struct {
	once   sync.Once
	layout string
	file   string
	funcs  template.FuncMap
	t      *template.Template
	err    error
}

func (pt *pageTemplate) get() (*template.Template, error) {
	pt.once.Do(func() {
		pt.t, pt.err = template.New(strings.TrimSuffix(path.Base(pt.file), ".html")).Funcs(pt.funcs).ParseFS(assets,
			"templates/layout_"+pt.layout+".html", "templates/partials.html", pt.file)
		if pt.err != nil {
			pt.err = fmt.Errorf("web: parse %s: %w", pt.file, pt.err)
		}
	})
	return pt.t, pt.err
}

// parseTemplates readies one template set per page and language. Page files are named
// public_*.html or console_*.html after their layout.
func (p *Pages) parseTemplates() error {
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	funcs := map[i18n.Lang]template.FuncMap{}
	for _, l := range i18n.Langs {
		funcs[l] = p.funcs(l)
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		layout, _, ok := strings.Cut(name, "_")
		if !ok || (layout != "public" && layout != "console") {
			continue // layouts and partials
		}
		p.pages[name] = map[i18n.Lang]*pageTemplate{}
		for _, l := range i18n.Langs {
			p.pages[name][l] = &pageTemplate{layout: layout, file: f, funcs: funcs[l]}
		}
	}
	return nil
}

// parseAll parses every page's templates now (tests).
func (p *Pages) parseAll() error {
	for _, langs := range p.pages {
		for _, pt := range langs {
			if _, err := pt.get(); err != nil {
				return err
			}
		}
	}
	return nil
}

// funcs are the template functions of one language: t and th look texts up in the
// catalog, when formats times in --timezone.
func (p *Pages) funcs(l i18n.Lang) template.FuncMap {
	tr := p.cat.For(l)
	return template.FuncMap{
		"asset": func(name string) string {
			return "/static/" + name + "?v=" + p.assetHash[name]
		},
		"mailto": mailto,
		"t":      func(key string, args ...any) string { return tr.T(key, args...) },
		// th is a trusted markup text (key ends in .html); its arguments are escaped
		"th": func(key string, args ...any) template.HTML {
			for i, a := range args {
				args[i] = template.HTMLEscapeString(fmt.Sprint(a))
			}
			return template.HTML(tr.T(key, args...))
		},
		"statusLabel": func(s lead.Status) string { return statusLabel(tr, s) },
		"sourceLabel": func(s lead.Source) string { return sourceLabel(tr, s) },
		// the spam defence's words (SPEC §15): why a booking was held, a blocklist kind
		"reasonLabel": func(r string) string { return label(tr, "reason.", r) },
		"kindLabel":   func(k string) string { return label(tr, "blocklist.kind_", k) },
		"when":        func(t time.Time) string { return i18n.DateTime(l, p.cfg.Location, t) },
		"whenPtr": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return i18n.DateTime(l, p.cfg.Location, *t)
		},
		"percent": func(r *float64) string { return percent(l, *r) },
		"overdue": func(l lead.Lead) bool { return overdue(&l, p.cfg.Now()) },
		"hours": func(h *float64) string {
			if h == nil {
				return tr.T("none")
			}
			return tr.T("speed.hours", *h)
		},
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
	}
}

// render writes page with status. The template runs into a buffer first, so a template
// error becomes a clean 500 instead of half a page.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	pt, ok := p.pages[page][langOf(r)]
	if !ok {
		panic("web: no page " + page)
	}
	t, err := pt.get()
	var buf bytes.Buffer
	if err == nil {
		err = t.ExecuteTemplate(&buf, "layout", data)
	}
	if err != nil {
		p.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "render page", slog.String("page", page),
			slog.String("request_id", w.Header().Get("X-Request-Id")), slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// Static serves the embedded CSS and images. URLs carry a content hash (asset), so they
// may be cached for long.
func (p *Pages) Static() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(p.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'")
		h.Set("Cache-Control", "public, max-age=86400")
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		files.ServeHTTP(w, r)
	})
}

// statusLabel is a status's name as people read it: "demo_scheduled" → "Demo avtalt" /
// "Demo scheduled"; an unknown value is humanized.
func statusLabel(tr i18n.Printer, s lead.Status) string { return label(tr, "status.", string(s)) }

func sourceLabel(tr i18n.Printer, s lead.Source) string { return label(tr, "source.", string(s)) }

func label(tr i18n.Printer, prefix, v string) string {
	if s := tr.T(prefix + v); s != prefix+v {
		return s
	}
	return humanize(v)
}

// percent is a share as people write it: "42 %" in Norwegian, "42%" in English.
func percent(l i18n.Lang, r float64) string {
	if l == i18n.NB {
		return fmt.Sprintf("%.0f\u00a0%%", r*100)
	}
	return fmt.Sprintf("%.0f%%", r*100)
}

func humanize(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// mailto is the mailto: link of an address with every character that means something in
// a URL percent-encoded (RFC 6068), so the address is one recipient and nothing else:
// (a comma or semicolon would add recipients) "jane%40corp.example?bcc=x@evil.example" must not become a mail to jane@corp.example
// with a hidden Bcc. html/template leaves existing %XX escapes and "?" alone, so the
// template cannot be trusted to do this.
func mailto(addr string) string {
	var b strings.Builder
	b.WriteString("mailto:")
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("@.-_~!$'()*+", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
