package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
)

// formField is one input of the booking form as the template draws it.
type formField struct {
	Name, Label, Type, Autocomplete, Hint string
	MaxLength                             int
	Options                               []string // of a select
	Required                              bool
	Value, Error, Warning                 string
}

// DescribedBy lists the ids of the texts that describe the field: hint, error, warning.
func (f formField) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.Name+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.Name+"-error")
	}
	if f.Warning != "" {
		ids = append(ids, f.Name+"-warning")
	}
	return strings.Join(ids, " ")
}

// bookingFields are the visible fields in form order; the error summary follows it. The
// form's layout (widget, and Label and Hint as catalog keys, replaced by their text in
// newBookingData) is the page's; the limit and whether a field is required come from the
// field table.
var bookingFields = withTable([]formField{
	{Name: "first_name", Label: "booking.first_name", Type: "text", Autocomplete: "given-name"},
	{Name: "last_name", Label: "booking.last_name", Type: "text", Autocomplete: "family-name"},
	{Name: "email", Label: "booking.email", Type: "email", Autocomplete: "email", Hint: "booking.email_hint"},
	{Name: "phone", Label: "booking.phone", Type: "tel", Autocomplete: "tel", Hint: "booking.phone_hint"},
	{Name: "organization_name", Label: "booking.org_name", Type: "text", Autocomplete: "organization"},
	{Name: "organization_type", Label: "booking.org_type", Type: "text", Hint: "booking.org_type_hint"},
	{Name: "organization_size", Label: "booking.org_size", Type: "select",
		Options: []string{"1-9", "10-49", "50-249", "250-999", "1000+"}},
	{Name: "role_title", Label: "booking.role", Type: "text", Autocomplete: "organization-title"},
	{Name: "message", Label: "booking.message", Type: "textarea"},
})

// utmFields are the text fields a booking takes that the form does not show: they come
// hidden, from the page's own URL (utm_*).
var utmFields = hiddenFields(bookingFields)

// consentField is the name of the consent checkbox: the booking's boolean field.
var consentField = lead.FieldNames(func(f *lead.Field) bool {
	return f.Writable(lead.WriteBooking) && f.Type == lead.TypeBool
})[0]

// withTable sets each field's MaxLength and Required from the lead's field table.
func withTable(fields []formField) []formField {
	for i := range fields {
		f, ok := lead.LookupField(fields[i].Name)
		if !ok || !bookingText(f) {
			panic("web: the booking form shows " + fields[i].Name + ", which a booking does not take")
		}
		fields[i].MaxLength, fields[i].Required = f.Limit, f.Required
	}
	return fields
}

// bookingText reports whether f is a text field a booking takes.
func bookingText(f *lead.Field) bool { return f.Type == lead.TypeText && f.Writable(lead.WriteBooking) }

// hiddenFields are the booking's text fields not among shown, in table order.
func hiddenFields(shown []formField) []string {
	return lead.FieldNames(func(f *lead.Field) bool {
		return bookingText(f) && !slices.ContainsFunc(shown, func(s formField) bool { return s.Name == f.Name })
	})
}

type issueLink struct{ Field, Message string }

type bookingData struct {
	chrome
	Fields         map[string]formField
	UTM            map[string]string
	ConsentChecked bool
	ConsentError   string
	ConsentVersion string
	IdempotencyKey string
	// FormStamp is the signed time the form was first served (SPEC §15): posted sooner than
	// the minimum form age, the booking is held for review.
	FormStamp string
	Summary   []issueLink
	// Banner is a message for the whole form (rate limit, outage).
	Banner string
	// SlotDays are the offered demo slots as checkboxes (preferred_times); PreferredError
	// is their refusal.
	SlotDays       []slotDay
	PreferredError string
}

// BookingForm is GET /: the empty form, with utm_* carried over from the page's own URL.
func (p *Pages) BookingForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := p.newBookingData(r, url.Values{}, q.Get("embed") == "1")
	for _, name := range utmFields {
		d.UTM[name] = q.Get(name)
	}
	dropInvalidUTM(d.UTM)
	p.render(w, r, http.StatusOK, "public_booking", d)
}

// SubmitBooking is POST /: the form-encoded booking through the same intake as the JSON
// API. Errors re-render the form (422) with what was typed; success redirects to the
// thank-you page (POST-redirect-GET); a full rate limit re-renders with 429.
func (p *Pages) SubmitBooking(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.formError(w, r, err)
		return
	}
	form := r.PostForm
	in, honeypot := intake.DecodeForm(form)
	embed := form.Get("embed") == "1"
	key := form.Get("idempotency_key")
	if !idemKey.MatchString(key) {
		key = ""
	}
	tr := p.tr(r)
	res, err := p.cfg.Intake.Book(r.Context(), in, intake.Meta{
		IP: p.cfg.ClientIP(r), UserAgent: lead.Clip(r.UserAgent(), 500), IdempotencyKey: key, BodyHash: intake.FormHash(form), Honeypot: honeypot,
		Language: string(tr.L), // a form booking is in the page's language
		Altcha:   form.Get(intake.AltchaField), Form: true, FormStamp: form.Get(intake.FormStampField),
	})
	if err == nil {
		// the page's language travels in the URL: an embedded form gets no lang cookie
		v := url.Values{"ref": {res.BookingID}, "lang": {string(tr.L)}}
		for _, wi := range res.Warnings {
			if wi.Field == "phone" {
				v.Set("phone", "unrecognized")
			}
		}
		if embed {
			v.Set("embed", "1")
		}
		http.Redirect(w, r, "/thanks?"+v.Encode(), http.StatusSeeOther)
		return
	}
	d := p.newBookingData(r, form, embed)
	if key != "" {
		d.IdempotencyKey = key // nothing was stored under it: the corrected form may reuse it
	}
	var de *lead.Error
	if !errors.As(err, &de) {
		p.internalErrorForm(w, r, d, err)
		return
	}
	switch {
	case de.Rule == lead.RuleIdempotencyReused:
		// the form was sent before with other values (edited after going back): a fresh key
		// lets this one be booked when sent again
		d.IdempotencyKey = newIdemKey()
		d.Banner = tr.T("booking.reused")
		d.Title = tr.T("error.prefix", d.Title)
		p.render(w, r, http.StatusUnprocessableEntity, "public_booking", d)
	case de.Code == lead.CodeInvalid:
		d.applyIssues(p.cat, tr, de.Issues, de.Warnings)
		d.Title = tr.T("error.prefix", d.Title)
		p.render(w, r, http.StatusUnprocessableEntity, "public_booking", d)
	case de.Code == lead.CodeRateLimited:
		wait := de.RetryAfter
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
		d.Banner = tr.T("booking.rate_limited", humanDuration(tr, wait), i18n.Clock(tr.L, p.cfg.Location, p.cfg.Now().Add(wait)))
		d.Title = tr.T("booking.try_later")
		p.render(w, r, http.StatusTooManyRequests, "public_booking", d)
	default:
		p.internalErrorForm(w, r, d, err)
	}
}

// internalErrorForm keeps the typed form on an outage, with a banner instead of an error page.
func (p *Pages) internalErrorForm(w http.ResponseWriter, r *http.Request, d bookingData, err error) {
	status := http.StatusServiceUnavailable
	if lead.ErrorCode(err) != lead.CodeUnavailable {
		status = http.StatusInternalServerError
		p.cfg.Logger.Error("booking form: internal error", "request_id", w.Header().Get("X-Request-Id"), "error", err.Error())
	}
	d.Banner = p.tr(r).T("booking.failed")
	d.RequestID = w.Header().Get("X-Request-Id")
	p.render(w, r, status, "public_booking", d)
}

func (p *Pages) newBookingData(r *http.Request, form url.Values, embed bool) bookingData {
	tr := p.tr(r)
	c := p.base(r, tr.T("booking.title"))
	c.Embed = embed
	d := bookingData{
		chrome:         c,
		Fields:         map[string]formField{},
		UTM:            map[string]string{},
		ConsentChecked: form.Get(consentField) != "",
		ConsentVersion: p.cfg.Intake.ConsentVersion,
		IdempotencyKey: newIdemKey(),
		// a form shown again (to correct it) keeps the time it was first served
		FormStamp: form.Get(intake.FormStampField),
	}
	if d.FormStamp == "" {
		// without a stamp the booking is held for review, which is the safe way to fail
		stamp, err := p.cfg.Intake.FormStamp(r.Context())
		if err != nil {
			p.cfg.Logger.Warn("booking form: no time stamp", "error", err.Error())
		}
		d.FormStamp = stamp
	}
	for _, f := range bookingFields {
		f.Value = form.Get(f.Name)
		f.Label = tr.T(f.Label)
		if f.Hint != "" {
			f.Hint = tr.T(f.Hint)
		}
		if f.Options != nil && f.Value != "" && !slices.Contains(f.Options, f.Value) {
			// the column is free text: keep a value the list does not offer
			f.Options = append(slices.Clip(f.Options), f.Value)
		}
		d.Fields[f.Name] = f
	}
	for _, name := range utmFields {
		d.UTM[name] = form.Get(name)
	}
	d.SlotDays = p.slotDays(tr, p.offered(r.Context()), form[lead.FieldPreferredTimes])
	return d
}

// applyIssues puts each error and warning beside its field and builds the summary in form
// order; the page focuses the summary (autofocus), whose links lead to the fields.
func (d *bookingData) applyIssues(cat *i18n.Catalog, tr i18n.Printer, errs, warns []lead.Issue) {
	errs, warns = cat.Issues(tr.L, errs), cat.Issues(tr.L, warns)
	for _, is := range warns {
		if f, ok := d.Fields[is.Field]; ok {
			f.Warning = is.Message
			d.Fields[is.Field] = f
		}
	}
	byField := map[string]string{}
	for _, is := range errs {
		if byField[is.Field] == "" {
			byField[is.Field] = is.Message
		} else {
			byField[is.Field] += " " + is.Message
		}
	}
	for _, f := range bookingFields {
		msg := byField[f.Name]
		if msg == "" {
			continue
		}
		ff := d.Fields[f.Name]
		ff.Error = msg
		d.Fields[f.Name] = ff
		d.Summary = append(d.Summary, issueLink{Field: f.Name, Message: msg})
	}
	if msg := byField[lead.FieldPreferredTimes]; msg != "" {
		d.PreferredError = msg
		d.Summary = append(d.Summary, issueLink{Field: lead.FieldPreferredTimes, Message: msg})
	}
	if msg := byField[consentField]; msg != "" {
		d.ConsentError = tr.T("booking.consent_error")
		d.Summary = append(d.Summary, issueLink{Field: consentField, Message: d.ConsentError})
	}
	// hidden fields cannot be fixed by the person; say so rather than hide the refusal
	for _, name := range utmFields {
		if msg := byField[name]; msg != "" {
			d.Summary = append(d.Summary, issueLink{Message: tr.T("booking.hidden_field", msg)})
		}
	}
}

// dropInvalidUTM blanks utm_* values that the booking would refuse: they are hidden, so
// the person could not fix them, and campaign data is not worth a failed booking.
func dropInvalidUTM(utm map[string]string) {
	consent := true
	in := lead.BookingInput{FirstName: "x", LastName: "x", Email: "x@example.org", OrganizationName: "x", ConsentGiven: &consent}
	for _, name := range utmFields {
		f, _ := lead.LookupField(name)
		*f.BookingText(&in) = utm[name]
	}
	_, res := lead.ValidateBooking(in)
	for _, is := range res.Errors {
		delete(utm, is.Field)
	}
}

// idemKey is the shape of the form's own Idempotency-Key: a double-clicked submit button
// books once.
var idemKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

func newIdemKey() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func humanDuration(tr i18n.Printer, d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	switch {
	case m <= 1:
		return tr.T("duration.minute")
	case m < 60:
		return tr.T("duration.minutes", m)
	}
	h := (m + 59) / 60
	if h == 1 {
		return tr.T("duration.hour")
	}
	return tr.T("duration.hours", h)
}
