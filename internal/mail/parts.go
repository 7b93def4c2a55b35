package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"regexp"
	"strings"
	texttemplate "text/template"

	"github.com/norsedigital/leads/internal/i18n"
)

// parts are the text and HTML templates of one kind of email, parsed once per language
// with the catalog's texts as t. They are safe for concurrent use.
type parts struct {
	text map[i18n.Lang]*texttemplate.Template
	html map[i18n.Lang]*htmltemplate.Template
}

// parseParts parses the templates textPath and htmlPath of fsys for every language, with
// every translation that takes no arguments written into the template (pretranslate).
func parseParts(cat *i18n.Catalog, fsys fs.FS, textPath, htmlPath string) (parts, error) {
	return parsePartsAs(cat, fsys, textPath, htmlPath, true)
}

func parsePartsAs(cat *i18n.Catalog, fsys fs.FS, textPath, htmlPath string, pre bool) (parts, error) {
	p := parts{text: map[i18n.Lang]*texttemplate.Template{}, html: map[i18n.Lang]*htmltemplate.Template{}}
	textSrc, err := fs.ReadFile(fsys, textPath)
	if err != nil {
		return parts{}, fmt.Errorf("mail: read %s: %w", textPath, err)
	}
	htmlSrc, err := fs.ReadFile(fsys, htmlPath)
	if err != nil {
		return parts{}, fmt.Errorf("mail: read %s: %w", htmlPath, err)
	}
	for _, l := range i18n.Langs {
		tr := cat.For(l)
		t := func(key string, args ...any) string { return tr.T(key, args...) }
		ts, hs := string(textSrc), string(htmlSrc)
		if pre {
			if ts, err = pretranslate(ts, tr, false); err != nil {
				return parts{}, err
			}
			if hs, err = pretranslate(hs, tr, true); err != nil {
				return parts{}, err
			}
		}
		text, err := texttemplate.New(path.Base(textPath)).Funcs(texttemplate.FuncMap{"t": t}).Parse(ts)
		if err != nil {
			return parts{}, fmt.Errorf("mail: parse %s: %w", textPath, err)
		}
		html, err := htmltemplate.New(path.Base(htmlPath)).Funcs(htmltemplate.FuncMap{"t": t}).Parse(hs)
		if err != nil {
			return parts{}, fmt.Errorf("mail: parse %s: %w", htmlPath, err)
		}
		p.text[l], p.html[l] = text, html
	}
	return p, nil
}

// pretranslate writes the text of every action that translates a key without arguments
// ({{t "mail.regards"}}) into src: the catalog does not change, and each such action cost
// every email a reflective call of t (two in HTML, with its escaper): half of rendering a
// confirmation. In HTML the text is escaped as html/template escapes it in text, which is
// where the templates translate (a test renders every email both ways). A text that would
// open an action is left to the action.
func pretranslate(src string, tr i18n.Printer, html bool) (string, error) {
	argless := regexp.MustCompile(`\{\{t "([a-z0-9_.]+)"\}\}`)
	htmlText := htmltemplate.Must(htmltemplate.New("text").Parse(`{{.}}`))
	var err error
	out := argless.ReplaceAllStringFunc(src, func(action string) string {
		s := tr.T(argless.FindStringSubmatch(action)[1])
		if html {
			var b strings.Builder
			if e := htmlText.Execute(&b, s); e != nil {
				err = e
				return action
			}
			s = b.String()
		}
		if strings.Contains(s, "{{") {
			return action
		}
		return s
	})
	return out, err
}

// execute renders both parts in l (nb for anything else); html/template escapes every
// value and refuses unsafe URL schemes.
func (p parts) execute(l i18n.Lang, data any) (text, html string, err error) {
	if l != i18n.EN {
		l = i18n.NB
	}
	var tb, hb bytes.Buffer
	if err := p.text[l].Execute(&tb, data); err != nil {
		return "", "", fmt.Errorf("mail: render text part: %w", err)
	}
	if err := p.html[l].Execute(&hb, data); err != nil {
		return "", "", fmt.Errorf("mail: render html part: %w", err)
	}
	return tb.String(), hb.String(), nil
}

// catalogOr is the process's one catalog when the caller shares it (the renderers and the
// pages of one service hold one, not one each: about 250 KB of the idle heap apiece), else
// a catalog of the renderer's own.
func catalogOr(shared *i18n.Catalog) (*i18n.Catalog, error) {
	if shared != nil {
		return shared, nil
	}
	return i18n.NewCatalog()
}
