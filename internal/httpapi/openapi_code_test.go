package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/metrics"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/web"
	"github.com/norsedigital/leads/internal/webhook"
)

// The document is written by hand (openapi.yaml): these tests hold what it says against
// what the code enforces, so it cannot drift: enums, field limits and required roles.

func openAPIRaw(t *testing.T) map[string]any {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(fetchOpenAPI(t), &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// openAPIAt follows a JSON pointer from the document's root and fails the test when it
// leads nowhere.
func openAPIAt(t *testing.T, raw map[string]any, ptr string) map[string]any {
	t.Helper()
	m, ok := openAPIResolve(raw, ptr).(map[string]any)
	if !ok {
		t.Fatalf("%s: not in the document", ptr)
	}
	return m
}

func stringsOf(v any) []string {
	var out []string
	a, _ := v.([]any)
	for _, e := range a {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func TestOpenAPIEnumsAgreeWithCode(t *testing.T) {
	raw := openAPIRaw(t)
	var statuses, sources []string
	for _, s := range lead.Statuses {
		statuses = append(statuses, string(s))
	}
	for _, s := range lead.Sources {
		sources = append(sources, string(s))
	}
	events := []string{lead.EventCreated, lead.EventBookingLinked, lead.EventUpdated, lead.EventStatusChanged,
		lead.EventNoteAdded, lead.EventAnonymized, lead.EventExported, lead.EventImportLinked, lead.EventOwnerAssigned}
	var hooks []string
	for name := range raw["webhooks"].(map[string]any) {
		hooks = append(hooks, name)
	}
	slices.Sort(hooks)
	sortedEvents := slices.Sorted(slices.Values(webhook.Events))
	sorted := func(s []string) []string { return slices.Sorted(slices.Values(s)) }

	for _, c := range []struct {
		ptr  string
		got  func(map[string]any) []string
		want []string
	}{
		// order matters where the code has one (pipeline order, the documented list)
		{"#/components/schemas/Status", func(m map[string]any) []string { return stringsOf(m["enum"]) }, statuses},
		{"#/components/schemas/Source", func(m map[string]any) []string { return stringsOf(m["enum"]) }, sources},
		{"#/components/schemas/Language", func(m map[string]any) []string { return stringsOf(m["enum"]) }, []string{lead.LanguageNB, lead.LanguageEN}},
		{"#/components/schemas/WebhookEvent", func(m map[string]any) []string { return stringsOf(m["enum"]) }, webhook.Events},
		{"#/components/schemas/Event/properties/type", func(m map[string]any) []string { return stringsOf(m["enum"]) }, events},
		{"#/components/schemas/PipelineStats/properties/by_status", func(m map[string]any) []string { return stringsOf(m["required"]) }, statuses},
		{"#/components/schemas/PipelineStats/properties/by_source", func(m map[string]any) []string { return stringsOf(m["required"]) }, sources},
		{"#/components/schemas/PipelineStats/properties/by_status/properties", func(m map[string]any) []string {
			return sorted(slices.Collect(mapKeys(m)))
		}, sorted(statuses)},
		{"#/components/schemas/PipelineStats/properties/by_source/properties", func(m map[string]any) []string {
			return sorted(slices.Collect(mapKeys(m)))
		}, sorted(sources)},
	} {
		if got := c.got(openAPIAt(t, raw, c.ptr)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, the code has %v", c.ptr, got, c.want)
		}
	}
	if !slices.Equal(hooks, sortedEvents) {
		t.Errorf("webhooks: %v, webhook.Events %v", hooks, sortedEvents)
	}
	for _, ev := range webhook.Events {
		op := openAPIAt(t, raw, "#/webhooks/"+strings.ReplaceAll(ev, "/", "~1")+"/post")
		if id := "webhook_" + strings.ReplaceAll(ev, ".", "_"); op["operationId"] != id || op["summary"] != "The "+ev+" event" {
			t.Errorf("webhook %s: operationId %v, summary %v", ev, op["operationId"], op["summary"])
		}
	}

	limit := openAPIAt(t, raw, "#/components/parameters/limit/schema")
	if limit["maximum"] != float64(query.MaxLimit) || limit["default"] != float64(query.DefaultLimit) || limit["minimum"] != 1.0 {
		t.Errorf("limit: %v; the store has 1..%d, default %d", limit, query.MaxLimit, query.DefaultLimit)
	}
	if n := openAPIAt(t, raw, "#/components/schemas/Note")["maxLength"]; n != float64(store.MaxNotesLength) {
		t.Errorf("Note maxLength %v, store.MaxNotesLength %d", n, store.MaxNotesLength)
	}
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// leadTextFields are the text fields of lead.Input (every lead.Opt but source and status),
// by JSON name: the fields with a length limit.
func leadTextFields(t *testing.T) []string {
	t.Helper()
	var names []string
	typ := reflect.TypeFor[lead.Input]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Type == reflect.TypeFor[lead.Opt]() && name != "source" && name != "status" && name != "language" &&
			name != lead.FieldOwnerID { // an id, not text
			names = append(names, name)
		}
	}
	if len(names) < 12 {
		t.Fatalf("only %d text fields in lead.Input: %v", len(names), names)
	}
	return names
}

// setInput sets the lead.Input field with JSON name name to v.
func setInput(in *lead.Input, name, v string) {
	val := reflect.ValueOf(in).Elem()
	for i := range val.NumField() {
		if n, _, _ := strings.Cut(val.Type().Field(i).Tag.Get("json"), ","); n == name {
			val.Field(i).Set(reflect.ValueOf(lead.Val(v)))
		}
	}
}

// maxLengthOf is the maxLength a property's schema allows: its own, its $ref's, or that of
// the non-null branch of an anyOf.
func maxLengthOf(raw map[string]any, s map[string]any) (float64, bool) {
	if ref, ok := s["$ref"].(string); ok {
		s, _ = openAPIResolve(raw, ref).(map[string]any)
	}
	if n, ok := s["maxLength"].(float64); ok {
		return n, true
	}
	alts, _ := s["anyOf"].([]any)
	for _, a := range alts {
		if m, ok := a.(map[string]any); ok && m["type"] != "null" {
			return maxLengthOf(raw, m)
		}
	}
	return 0, false
}

// TestOpenAPILimitsAgreeWithValidation checks each text field's maxLength, in every request
// schema that takes lead fields, against the domain's validation: a value of that many
// characters passes the length rule, one more fails it.
func TestOpenAPILimitsAgreeWithValidation(t *testing.T) {
	raw := openAPIRaw(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lengthRule := func(r lead.Result, field string) bool {
		return slices.ContainsFunc(r.Errors, func(i lead.Issue) bool {
			return i.Field == field && (i.Rule == lead.RuleFieldLength || i.Rule == lead.RuleMessageLength)
		})
	}
	for _, schema := range []string{"LeadCreate", "LeadPatch", "BookingRequest", "BookingForm"} {
		props := openAPIAt(t, raw, "#/components/schemas/"+schema+"/properties")
		for _, name := range leadTextFields(t) {
			p, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s: no property %s", schema, name)
				continue
			}
			n, ok := maxLengthOf(raw, p)
			if !ok {
				t.Errorf("%s.%s: no maxLength", schema, name)
				continue
			}
			for _, c := range []struct {
				length   int
				tooLong  bool
				describe string
			}{{int(n), false, "at the limit"}, {int(n) + 1, true, "one over"}} {
				var in lead.Input
				setInput(&in, name, strings.Repeat("a", c.length))
				_, r := lead.ValidateCreate(in, now)
				if got := lengthRule(r, name); got != c.tooLong {
					t.Errorf("%s.%s maxLength %v: %d characters (%s): length rule failed = %v", schema, name, n, c.length, c.describe, got)
				}
			}
		}
	}

	note := openAPIAt(t, raw, "#/components/schemas/NoteRequest/properties/text")
	n, _ := maxLengthOf(raw, note)
	if _, r := lead.ValidateNote(strings.Repeat("a", int(n))); !r.OK() {
		t.Errorf("a note of maxLength %v characters is refused: %v", n, r.Errors)
	}
	if _, r := lead.ValidateNote(strings.Repeat("a", int(n)+1)); !lengthRule(r, "text") {
		t.Errorf("a note of maxLength+1 (%v) characters passes: %v", n+1, r.Errors)
	}

	q, _ := maxLengthOf(raw, openAPIAt(t, raw, "#/components/parameters/q/schema"))
	if _, err := query.Parse(query.Params{Q: strings.Repeat("a", int(q))}); err != nil {
		t.Errorf("q of maxLength %v characters: %v", q, err)
	}
	if _, err := query.Parse(query.Params{Q: strings.Repeat("a", int(q)+1)}); err == nil {
		t.Errorf("q of maxLength+1 (%v) characters is accepted", q+1)
	}
}

// TestOpenAPIStaffOperationsShareTheirShape: every operation that takes a bearer token
// names its role (x-required-role, one of lead's roles) in its description and lists the
// answers every staff route can give.
func TestOpenAPIStaffOperationsShareTheirShape(t *testing.T) {
	raw := openAPIRaw(t)
	n := 0
	for path, item := range raw["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			where := strings.ToUpper(method) + " " + path
			sec, _ := json.Marshal(op["security"])
			role, hasRole := op["x-required-role"].(string)
			desc, _ := op["description"].(string)
			responses, _ := op["responses"].(map[string]any)
			switch string(sec) {
			case `[{"bearerAuth":[]}]`, `[{"consoleSession":[]}]`:
				n++
				r, ok := lead.ParseRole(role)
				if !ok {
					t.Errorf("%s: x-required-role %q is not a role", where, role)
					continue
				}
				sentence := "Requires a bearer token with role `" + role + "`"
				need := []string{"401", "403", "500", "503"}
				if string(sec) != `[{"bearerAuth":[]}]` {
					sentence = "Needs a console session of a token with role `" + role + "`"
					need = []string{"403"}
				}
				if r == lead.RoleSales {
					sentence += " (or `admin`)"
				}
				if !strings.HasSuffix(desc, sentence+".") {
					t.Errorf("%s: the description does not end with %q: %q", where, sentence+".", desc)
				}
				for _, code := range need {
					if _, ok := responses[code]; !ok {
						t.Errorf("%s: no %s answer", where, code)
					}
				}
			default:
				if hasRole {
					t.Errorf("%s: x-required-role %q without the security that checks it (%s)", where, role, sec)
				}
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d operations with a required role", n)
	}
}

// TestOpenAPIRolesAgreeWithRoutes sends every documented operation that needs a role to the
// real server: without a token (or session) it is refused 401 (a console GET: sent to sign
// in), and with a sales token it is refused 403 exactly when the document says admin.
func TestOpenAPIRolesAgreeWithRoutes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e, func(d *httpapi.Deps) {
			d.Metrics = metrics.New(d.Store, metrics.Options{})
			pages, err := web.New(web.Config{Store: d.Store, Intake: d.Intake, ClientIP: d.ClientIP.Of})
			if err != nil {
				t.Fatal(err)
			}
			d.Web = pages
		})
		client := *h.Client
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		session := consoleSession(t, h, &client, h.Sales)
		template := regexp.MustCompile(`\{[^}]+\}`)
		send := func(method, path, token, cookie string) int {
			t.Helper()
			req, err := http.NewRequest(method, h.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			if cookie != "" {
				req.Header.Set("Cookie", cookie)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		checked := 0
		for path, item := range openAPIRaw(t)["paths"].(map[string]any) {
			for method, o := range item.(map[string]any) {
				op := o.(map[string]any)
				role, ok := op["x-required-role"].(string)
				if !ok {
					continue
				}
				method = strings.ToUpper(method)
				url := template.ReplaceAllLiteralString(path, store.NewID())
				where := method + " " + path
				console := strings.HasPrefix(path, "/console")
				if console && method != http.MethodGet {
					continue // a form post without the session's CSRF token is 403 whatever the role
				}
				checked++
				anonymous, wantAnonymous := send(method, url, "", ""), http.StatusUnauthorized
				if console {
					wantAnonymous = http.StatusSeeOther
				}
				if anonymous != wantAnonymous {
					t.Errorf("%s without credentials: %d, want %d", where, anonymous, wantAnonymous)
				}
				var sales int
				if console {
					sales = send(method, url, "", session)
				} else {
					sales = send(method, url, h.Sales, "")
				}
				if refused := sales == http.StatusForbidden; refused != (role == string(lead.RoleAdmin)) {
					t.Errorf("%s (x-required-role %s) with a sales token: %d", where, role, sales)
				}
				if sales == http.StatusUnauthorized {
					t.Errorf("%s with a sales token: 401", where)
				}
			}
		}
		if checked < 25 {
			t.Errorf("only %d operations checked", checked)
		}
	})
}

// consoleSession signs in to the console with token and returns the Cookie header value.
func consoleSession(t *testing.T, h *harness, client *http.Client, token string) string {
	t.Helper()
	resp, err := client.PostForm(h.URL+"/console/sign-in", map[string][]string{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("sign in: %d, cookies %v", resp.StatusCode, cookies)
	}
	return cookies[0].Name + "=" + cookies[0].Value
}

// TestOpenAPICaching: the document is the same bytes for the process, with an ETag that
// answers a revalidation 304.
func TestOpenAPICaching(t *testing.T) {
	srv := httptestServer(t, httpapi.Deps{Version: "test"})
	get := func(hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv+"/openapi.json", nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	first, body := get()
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || first.Header.Get("Cache-Control") != "no-cache" || !regexp.MustCompile(`^"[A-Za-z0-9_-]{22}"$`).MatchString(etag) {
		t.Fatalf("first GET: %d, Cache-Control %q, ETag %q", first.StatusCode, first.Header.Get("Cache-Control"), etag)
	}
	if again, body2 := get(); again.Header.Get("ETag") != etag || string(body2) != string(body) {
		t.Errorf("a second GET differs: ETag %q", again.Header.Get("ETag"))
	}
	for _, c := range []struct {
		ifNoneMatch string
		want        int
	}{
		{etag, http.StatusNotModified},
		{`"other", ` + etag, http.StatusNotModified},
		{"W/" + etag, http.StatusNotModified},
		{"*", http.StatusNotModified},
		{`"other"`, http.StatusOK},
		{`""`, http.StatusOK},
	} {
		resp, b := get("If-None-Match", c.ifNoneMatch)
		if resp.StatusCode != c.want || (c.want == http.StatusNotModified && len(b) != 0) || resp.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d with %d bytes, ETag %q; want %d", c.ifNoneMatch, resp.StatusCode, len(b), resp.Header.Get("ETag"), c.want)
		}
	}
	// another version is another document
	other, _ := func() (*http.Response, []byte) {
		srv2 := httptestServer(t, httpapi.Deps{Version: "other"})
		resp, err := http.Get(srv2 + "/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp, nil
	}()
	if other.Header.Get("ETag") == etag {
		t.Errorf("two versions share the ETag %s", etag)
	}
}

// httptestServer serves a server built from d, without a database, and returns its URL.
func httptestServer(t *testing.T, d httpapi.Deps) string {
	t.Helper()
	srv := httptest.NewServer(httpapi.NewServer(d))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestOpenAPIFieldsAgreeWithTheFieldTable holds the document's lead schemas against the
// field table (lead.Fields): the Lead schema has every field, required, with the table's
// type, format and nullability; LeadCreate, LeadPatch, BookingRequest and BookingForm take
// exactly the fields the table lets that writer write, require those it requires, and refer
// to the component the table names, whose maxLength is the table's limit.
func TestOpenAPIFieldsAgreeWithTheFieldTable(t *testing.T) {
	raw := openAPIRaw(t)
	sorted := func(s []string) []string { return slices.Sorted(slices.Values(s)) }
	all := lead.FieldNames(func(*lead.Field) bool { return true })

	leadSchema := openAPIAt(t, raw, "#/components/schemas/Lead")
	if got := sorted(stringsOf(leadSchema["required"])); !slices.Equal(got, sorted(all)) {
		t.Errorf("Lead.required %v, the table %v", got, sorted(all))
	}
	props := leadSchema["properties"].(map[string]any)
	if got := sorted(slices.Collect(mapKeys(props))); !slices.Equal(got, sorted(all)) {
		t.Errorf("Lead.properties %v, the table %v", got, sorted(all))
	}
	for _, f := range lead.Fields() {
		p, _ := props[f.Name].(map[string]any)
		if ref, ok := p["$ref"].(string); ok {
			if f.Type != lead.TypeEnum || ref != "#/components/schemas/"+f.OpenAPIRef {
				t.Errorf("Lead.%s: $ref %s, the table %s", f.Name, ref, f.OpenAPIRef)
			}
			continue
		}
		var want any = f.OpenAPIType
		if f.Nullable {
			want = []any{f.OpenAPIType, "null"}
		}
		if !reflect.DeepEqual(p["type"], want) {
			t.Errorf("Lead.%s: type %v, the table %v", f.Name, p["type"], want)
		}
		if format, _ := p["format"].(string); format != f.OpenAPIFormat {
			t.Errorf("Lead.%s: format %q, the table %q", f.Name, format, f.OpenAPIFormat)
		}
	}

	// request fields that are not lead fields
	extra := map[string][]string{"BookingRequest": {intake.HoneypotField, intake.LanguageField, intake.AltchaField, lead.FieldPreferredTimes},
		"BookingForm": {intake.HoneypotField, intake.LanguageField, "idempotency_key", "embed", intake.AltchaField, intake.FormStampField,
			lead.FieldPreferredTimes}}
	for _, c := range []struct {
		schema string
		access lead.Access
	}{{"LeadCreate", lead.WriteCreate}, {"LeadPatch", lead.WritePatch}, {"BookingRequest", lead.WriteBooking}, {"BookingForm", lead.WriteBooking}} {
		s := openAPIAt(t, raw, "#/components/schemas/"+c.schema)
		writable := lead.FieldNames(func(f *lead.Field) bool { return f.Writable(c.access) })
		props := s["properties"].(map[string]any)
		var names []string
		for name := range props {
			if !slices.Contains(extra[c.schema], name) {
				names = append(names, name)
			}
		}
		if !slices.Equal(sorted(names), sorted(writable)) {
			t.Errorf("%s.properties %v, the table's writable fields %v", c.schema, sorted(names), sorted(writable))
		}
		var required []string
		if c.access != lead.WritePatch { // a merge patch requires nothing
			required = lead.FieldNames(func(f *lead.Field) bool { return f.Writable(c.access) && f.Required })
		}
		if got := sorted(stringsOf(s["required"])); !slices.Equal(got, sorted(required)) {
			t.Errorf("%s.required %v, the table %v", c.schema, got, sorted(required))
		}
		for _, name := range writable {
			f, _ := lead.LookupField(name)
			p, _ := props[name].(map[string]any)
			if f.OpenAPIRef == "" {
				want := f.OpenAPIType
				if c.schema == "BookingForm" {
					want = "string" // a form sends text
				}
				if !slices.Contains(stringsOf(anyTypes(p["type"])), want) {
					t.Errorf("%s.%s: type %v, the table %s", c.schema, name, p["type"], want)
				}
				continue
			}
			if ref := refOf(p); ref != "#/components/schemas/"+f.OpenAPIRef {
				t.Errorf("%s.%s refers to %q, the table to %s", c.schema, name, ref, f.OpenAPIRef)
			}
			if f.Type == lead.TypeText {
				if n, ok := maxLengthOf(raw, p); !ok || int(n) != f.Limit {
					t.Errorf("%s.%s: maxLength %v, the table's limit %d", c.schema, name, n, f.Limit)
				}
			}
		}
	}
}

// anyTypes is a schema's type as a list.
func anyTypes(v any) any {
	if s, ok := v.(string); ok {
		return []any{s}
	}
	return v
}

// refOf is a property's $ref, or that of the non-null branch of its anyOf.
func refOf(p map[string]any) string {
	if ref, ok := p["$ref"].(string); ok {
		return ref
	}
	alts, _ := p["anyOf"].([]any)
	for _, a := range alts {
		if m, ok := a.(map[string]any); ok && m["type"] != "null" {
			return refOf(m)
		}
	}
	return ""
}
