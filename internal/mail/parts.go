package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	texttemplate "text/template"

	"github.com/norsedigital/leads/internal/i18n"
)

// parts are the text and HTML templates of one kind of email, parsed once per language
// with the catalog's texts as t. They are safe for concurrent use.
type parts struct {
	text map[i18n.Lang]*texttemplate.Template
	html map[i18n.Lang]*htmltemplate.Template
}

// parseParts parses the templates textPath and htmlPath of fsys for every language.
func parseParts(cat *i18n.Catalog, fsys fs.FS, textPath, htmlPath string) (parts, error) {
	p := parts{text: map[i18n.Lang]*texttemplate.Template{}, html: map[i18n.Lang]*htmltemplate.Template{}}
	for _, l := range i18n.Langs {
		tr := cat.For(l)
		t := func(key string, args ...any) string { return tr.T(key, args...) }
		text, err := texttemplate.New(path.Base(textPath)).Funcs(texttemplate.FuncMap{"t": t}).ParseFS(fsys, textPath)
		if err != nil {
			return parts{}, fmt.Errorf("mail: parse %s: %w", textPath, err)
		}
		html, err := htmltemplate.New(path.Base(htmlPath)).Funcs(htmltemplate.FuncMap{"t": t}).ParseFS(fsys, htmlPath)
		if err != nil {
			return parts{}, fmt.Errorf("mail: parse %s: %w", htmlPath, err)
		}
		p.text[l], p.html[l] = text, html
	}
	return p, nil
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
