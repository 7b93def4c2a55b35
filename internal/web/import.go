package web

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/norsedigital/leads/internal/csvimport"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

// MaxImportUpload is the largest body POST /console/import reads: the largest import file
// plus room for the multipart framing and the CSRF field.
const MaxImportUpload = csvimport.MaxBytes + 1<<20

type importData struct {
	chrome
	Error  string
	Report *csvimport.Report
}

// ImportForm is GET /console/import (sales): the CSV upload form.
func (p *Pages) ImportForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "console_import", importData{chrome: p.importChrome(r)})
}

func (p *Pages) importChrome(r *http.Request) chrome {
	c := p.base(r, p.tr(r).T("import.title"))
	c.Nav = "import"
	return c
}

// Import is POST /console/import (sales): store the leads of the uploaded CSV file with
// csvimport and store.Import and show its report. A file that is not readable CSV stores nothing and
// comes back to the form with the reason (422).
func (p *Pages) Import(w http.ResponseWriter, r *http.Request) {
	tr := p.tr(r)
	d := importData{chrome: p.importChrome(r)}
	fail := func(msg string) {
		d.Title, d.Error = tr.T("error.prefix", d.Title), msg
		p.render(w, r, http.StatusUnprocessableEntity, "console_import", d)
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		fail(tr.T("import.choose_file"))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, csvimport.MaxBytes+1))
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	if len(data) > csvimport.MaxBytes {
		p.errorPage(w, r, http.StatusRequestEntityTooLarge, tr.T("errors.file_too_large"), tr.T("errors.file_too_large_text", csvimport.MaxBytes>>20))
		return
	}
	// once started, an import runs to its end even if the browser goes away, like the API's
	file, err := csvimport.Read(data, p.cfg.Store.Now())
	var fe *csvimport.FormatError
	var le *lead.Error
	switch {
	case errors.As(err, &fe):
		msg := tr.T("import.bad_csv", fe.Reason)
		if fe.Line > 0 {
			msg = tr.T("import.bad_csv_line", fe.Line, fe.Reason)
		}
		fail(tr.T("import.nothing", msg))
		return
	case errors.As(err, &le) && le.Code == lead.CodeInvalid && len(le.Issues) > 0:
		// a header naming a column twice: the file as a whole is refused, as the API does
		fail(tr.T("import.nothing", p.cat.Issue(tr.L, le.Issues[0])))
		return
	case err != nil:
		p.internalError(w, r, err)
		return
	}
	members, err := p.cfg.Store.ListMembers(r.Context())
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	file.SetOwners(members) // the owner_email column (SPEC §11)
	res, err := p.cfg.Store.Import(context.WithoutCancel(r.Context()), file.Rows(), sessionOf(r).Token.Actor())
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	rep := file.Report(res.Created, res.Linked, res.NotesLeftOut, store.MaxNotesLength)
	for _, list := range [][]csvimport.Issue{rep.Refused, rep.Warnings} {
		for i, is := range list {
			list[i].Message = p.cat.Issue(tr.L, lead.Issue{Field: is.Field, Rule: is.Rule, Message: is.Message})
		}
	}
	d.Title, d.Report = tr.T("import.report"), &rep
	p.render(w, r, http.StatusOK, "console_import", d)
}
