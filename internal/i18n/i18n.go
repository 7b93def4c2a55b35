// Package i18n holds every text a person reads, in Norwegian bokmål (nb, the default) and
// English (en), and picks the language of a request.
//
// The catalog is golang.org/x/text/message/catalog: the same module gives
// golang.org/x/text/language for Accept-Language, it is already in the module graph, and
// its printers localize numbers. The messages live in Go (catalog.go), one entry per key
// with both languages side by side, so a missing translation is a test failure
// (TestCatalogComplete), not a runtime surprise.
package i18n

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Lang is a supported language: NB or EN.
type Lang string

const (
	NB Lang = "nb"
	EN Lang = "en"
)

// Langs are the supported languages, the default first.
var Langs = []Lang{NB, EN}

// Parse returns the language named by s ("nb", "en"; "no" and "nn" are nb), ok false for
// anything else.
func Parse(s string) (Lang, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "nb", "no", "nn":
		return NB, true
	case "en":
		return EN, true
	}
	return "", false
}

// Tag is the BCP 47 tag of l.
func (l Lang) Tag() language.Tag {
	if l == EN {
		return language.English
	}
	return language.MustParse("nb")
}

// FromAcceptLanguage is the first supported language of an Accept-Language header in the
// client's order of preference (no, nn and nb count as nb), ok false when none is.
func FromAcceptLanguage(header string) (Lang, bool) {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil {
		return "", false
	}
	for _, t := range tags {
		base, _ := t.Base()
		if l, ok := Parse(base.String()); ok {
			return l, true
		}
	}
	return "", false
}

// CookieName is the cookie that remembers a ?lang= choice.
const CookieName = "lang"

// Negotiate picks the language of a page request: ?lang= (then remembered in the lang
// cookie, set on w), else the lang cookie, else Accept-Language, else nb.
func Negotiate(w http.ResponseWriter, r *http.Request) Lang {
	if l, ok := Parse(r.URL.Query().Get("lang")); ok {
		if c, err := r.Cookie(CookieName); err != nil || c.Value != string(l) {
			http.SetCookie(w, &http.Cookie{Name: CookieName, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		}
		return l
	}
	if c, err := r.Cookie(CookieName); err == nil {
		if l, ok := Parse(c.Value); ok {
			return l
		}
	}
	if l, ok := FromAcceptLanguage(r.Header.Get("Accept-Language")); ok {
		return l
	}
	return NB
}

// APILang is the language of API problem messages: Accept-Language, else English.
func APILang(r *http.Request) Lang {
	if l, ok := FromAcceptLanguage(r.Header.Get("Accept-Language")); ok {
		return l
	}
	return EN
}

// Catalog is the compiled message catalog. Build it once with NewCatalog.
type Catalog struct {
	printers map[Lang]*message.Printer
	keys     map[string]bool
}

// NewCatalog compiles the entries of catalog.go. It fails on a key defined twice or
// lacking a language.
func NewCatalog() (*Catalog, error) {
	b := catalog.NewBuilder(catalog.Fallback(language.MustParse("nb")))
	c := &Catalog{printers: map[Lang]*message.Printer{}, keys: map[string]bool{}}
	for _, e := range entries {
		if c.keys[e.Key] {
			return nil, fmt.Errorf("i18n: key %q defined twice", e.Key)
		}
		if e.NB == "" || e.EN == "" {
			return nil, fmt.Errorf("i18n: key %q lacks a language", e.Key)
		}
		c.keys[e.Key] = true
		if err := b.SetString(NB.Tag(), e.Key, e.NB); err != nil {
			return nil, err
		}
		if err := b.SetString(EN.Tag(), e.Key, e.EN); err != nil {
			return nil, err
		}
	}
	for _, l := range Langs {
		c.printers[l] = message.NewPrinter(l.Tag(), message.Catalog(b))
	}
	return c, nil
}

// Has reports whether key is in the catalog.
func (c *Catalog) Has(key string) bool { return c.keys[key] }

// T is the text of key in l with args filled in (fmt verbs). An unknown key comes back
// as itself, which the catalog tests catch.
func (c *Catalog) T(l Lang, key string, args ...any) string {
	p, ok := c.printers[l]
	if !ok {
		p = c.printers[NB]
	}
	return p.Sprintf(key, args...)
}

// Printer binds a catalog to one language.
type Printer struct {
	c *Catalog
	L Lang
}

// For is the printer of l.
func (c *Catalog) For(l Lang) Printer { return Printer{c: c, L: l} }

// T is Catalog.T in p's language.
func (p Printer) T(key string, args ...any) string { return p.c.T(p.L, key, args...) }

var monthsNB = [...]string{"jan.", "feb.", "mar.", "apr.", "mai", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "des."}

// DateTime formats t for people in loc: "3. des. 2026 kl. 09.30" (nb) or
// "3 Dec 2026, 09:30" (en), without a zone label.
func DateTime(l Lang, loc *time.Location, t time.Time) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	if l == EN {
		return t.Format("2 Jan 2006, 15:04")
	}
	return fmt.Sprintf("%d. %s %d kl. %02d.%02d", t.Day(), monthsNB[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

// Clock is the time of day of t in loc: "09.30" (nb) or "09:30" (en).
func Clock(l Lang, loc *time.Location, t time.Time) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	if l == EN {
		return t.Format("15:04")
	}
	return t.Format("15.04")
}

// MustNewCatalog is NewCatalog for constructors that cannot fail: the catalog is a fixed
// table, and TestCatalogComplete proves it compiles.
func MustNewCatalog() *Catalog {
	c, err := NewCatalog()
	if err != nil {
		panic(err)
	}
	return c
}
