package web

import (
	"context"
	"errors"
	"fmt"
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
	p.render(w, r, http.StatusOK, "console_import", importData{chrome: chrome{Title: "Import leads", Session: sessionOf(r), Nav: "import"}})
}

// Import is POST /console/import (sales): store the leads of the uploaded CSV file with
// csvimport and store.Import and show its report. A file that is not readable CSV stores nothing and
// comes back to the form with the reason (422).
func (p *Pages) Import(w http.ResponseWriter, r *http.Request) {
	d := importData{chrome: chrome{Title: "Import leads", Session: sessionOf(r), Nav: "import"}}
	fail := func(msg string) {
		d.Title, d.Error = "Error: "+d.Title, msg
		p.render(w, r, http.StatusUnprocessableEntity, "console_import", d)
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		fail("Choose a CSV file to import.")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, csvimport.MaxBytes+1))
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	if len(data) > csvimport.MaxBytes {
		p.errorPage(w, r, http.StatusRequestEntityTooLarge, "File too large",
			fmt.Sprintf("The file is larger than %d MiB, so nothing was imported. Split it and try again.", csvimport.MaxBytes>>20))
		return
	}
	// once started, an import runs to its end even if the browser goes away, like the API's
	file, err := csvimport.Read(data, p.cfg.Store.Now())
	var fe *csvimport.FormatError
	var le *lead.Error
	switch {
	case errors.As(err, &fe):
		fail("Nothing was imported: " + fe.Error() + ".")
		return
	case errors.As(err, &le) && le.Code == lead.CodeInvalid && len(le.Issues) > 0:
		// a header naming a column twice: the file as a whole is refused, as the API does
		fail("Nothing was imported: " + le.Issues[0].Message)
		return
	case err != nil:
		p.internalError(w, r, err)
		return
	}
	res, err := p.cfg.Store.Import(context.WithoutCancel(r.Context()), file.Rows(), sessionOf(r).Token.Name)
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	rep := file.Report(res.Created, res.Linked, res.NotesLeftOut, store.MaxNotesLength)
	d.Title, d.Report = "Import report", &rep
	p.render(w, r, http.StatusOK, "console_import", d)
}
