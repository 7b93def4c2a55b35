package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	validatorerrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/metrics"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/web"
)

// fetchOpenAPI gets /openapi.json from a server without a database: the document must not
// need one.
func fetchOpenAPI(t *testing.T) []byte {
	t.Helper()
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{Version: "test"}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET /openapi.json: content type %q", ct)
	}
	return body
}

func TestOpenAPIServed(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Version string `json:"version"`
		} `json:"info"`
	}
	if err := json.Unmarshal(fetchOpenAPI(t), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Version != "test" {
		t.Fatalf("openapi %q, info.version %q", doc.OpenAPI, doc.Info.Version)
	}
}

// TestOpenAPIValid checks the served document against the OpenAPI 3.1 schema, and what
// that schema cannot see: every $ref resolves, every path template's parameters are
// declared, operation ids are unique.
func TestOpenAPIValid(t *testing.T) {
	body := fetchOpenAPI(t)
	doc, err := libopenapi.NewDocument(body)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetSpecInfo().VersionNumeric; v != 3.1 {
		t.Fatalf("parsed as OpenAPI %v", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("building the validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  at %s (%s): %s", se.FieldPath, se.KeywordLocation, se.Reason)
			}
		}
	}
	if _, err := doc.BuildV3Model(); err != nil {
		t.Errorf("building the model: %v", err)
	}

	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, ref := range openAPIRefs(raw, nil) {
		if openAPIResolve(raw, ref) == nil {
			t.Errorf("$ref %s does not resolve", ref)
		}
	}
	// The OAS schema does not look inside Schema Objects: compile each one as JSON Schema
	// 2020-12, which checks it against the meta-schema and resolves its $refs.
	jdoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	const docURL = "file:///openapi.json"
	if err := c.AddResource(docURL, jdoc); err != nil {
		t.Fatal(err)
	}
	schemas := openAPISchemaPointers(raw, "", nil)
	if len(schemas) < 50 {
		t.Errorf("found only %d schemas", len(schemas))
	}
	for _, ptr := range schemas {
		if _, err := c.Compile(docURL + "#" + ptr); err != nil {
			t.Errorf("schema %s: %v", ptr, err)
		}
	}
	ids := map[string]string{}
	templateParam := regexp.MustCompile(`\{([^}]+)\}`)
	for path, item := range raw["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			where := strings.ToUpper(method) + " " + path
			id, _ := op["operationId"].(string)
			if prev, dup := ids[id]; dup || id == "" {
				t.Errorf("%s: operationId %q missing or also used by %s", where, id, prev)
			}
			ids[id] = where
			declared := map[string]bool{}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					pm = openAPIResolve(raw, ref).(map[string]any)
				}
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
				}
			}
			for _, m := range templateParam.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s: path parameter %q is not declared", where, m[1])
				}
				delete(declared, m[1])
			}
			for name := range declared {
				t.Errorf("%s: declares path parameter %q that is not in the path", where, name)
			}
			if _, ok := op["responses"].(map[string]any); !ok {
				t.Errorf("%s: no responses", where)
			}
		}
	}
}

// TestOpenAPIMatchesRoutes holds the document's operations against the patterns the
// server registers: nothing missing, nothing extra. Catch-alls without a method ("/api/",
// "/console/") are fallbacks, not routes.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	// Web and Metrics make the server register the pages and /metrics too.
	patterns := httpapi.Routes(httpapi.Deps{Web: &web.Pages{}, Metrics: metrics.New(nil, metrics.Options{})})
	registered := map[string]bool{}
	for _, p := range patterns {
		if op, ok := openAPIOperation(p); ok {
			registered[op] = true
		}
	}
	var raw struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(fetchOpenAPI(t), &raw); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range raw.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	var missing, extra []string
	for op := range registered {
		if !documented[op] {
			missing = append(missing, op)
		}
	}
	for op := range documented {
		if !registered[op] {
			extra = append(extra, op)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	for _, op := range missing {
		t.Errorf("registered but not documented: %s", op)
	}
	for _, op := range extra {
		t.Errorf("documented but not registered: %s", op)
	}
	if len(registered) < 20 {
		t.Errorf("only %d routes registered: is Routes still reporting them?", len(registered))
	}
}

func TestOpenAPIOperationOfPattern(t *testing.T) {
	for _, c := range []struct {
		pattern, want string
		ok            bool
	}{
		{"GET /api/v1/leads/{id}", "GET /api/v1/leads/{id}", true},
		{"GET /{$}", "GET /", true},
		{"POST /{$}", "POST /", true},
		{"GET /static/", "GET /static/{path}", true},
		{"GET /files/{name...}", "GET /files/{name}", true},
		{"GET example.org/x", "GET /x", true},
		{"/api/", "", false},
		{"/console/", "", false},
	} {
		got, ok := openAPIOperation(c.pattern)
		if got != c.want || ok != c.ok {
			t.Errorf("openAPIOperation(%q) = %q, %v; want %q, %v", c.pattern, got, ok, c.want, c.ok)
		}
	}
}

// openAPIOperation turns a ServeMux pattern into "METHOD /openapi/path": {$} (exact match)
// is dropped, {name...} becomes {name}, and a subtree pattern ("GET /static/") is its
// files, /static/{path}. Patterns without a method are catch-alls and have none.
func openAPIOperation(pattern string) (string, bool) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return "", false
	}
	path = strings.TrimSpace(path)
	if i := strings.Index(path, "/"); i > 0 {
		path = path[i:] // host-specific pattern
	}
	switch {
	case strings.HasSuffix(path, "/{$}"):
		path = strings.TrimSuffix(path, "{$}")
	case strings.HasSuffix(path, "/") && path != "/":
		path += "{path}"
	}
	path = regexp.MustCompile(`\{([^}.]+)\.\.\.\}`).ReplaceAllString(path, "{$1}")
	return method + " " + path, true
}

// openAPIRefs lists every $ref value in v.
func openAPIRefs(v any, refs []string) []string {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["$ref"].(string); ok {
			refs = append(refs, r)
		}
		for _, e := range x {
			refs = openAPIRefs(e, refs)
		}
	case []any:
		for _, e := range x {
			refs = openAPIRefs(e, refs)
		}
	}
	return refs
}

// openAPIResolve follows a local JSON pointer ("#/components/schemas/Lead"); nil when it leads
// nowhere.
func openAPIResolve(doc map[string]any, ref string) any {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = doc
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[tok]; !ok {
			return nil
		}
	}
	return cur
}

// TestOpenAPIDescribesTheAnswers sends a tour of requests to the real server, on both
// engines, and checks every answer (status, content type, body, and for the requests
// meant to succeed the request too) against the served document, so the schemas cannot
// drift from what the handlers send.
func TestOpenAPIDescribesTheAnswers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		h := newHarness(t, e, allowPrivateWebhooks, func(d *httpapi.Deps) {
			d.Metrics = metrics.New(d.Store, metrics.Options{})
			pages, err := web.New(web.Config{Store: d.Store, Intake: d.Intake, ClientIP: d.ClientIP.Of})
			if err != nil {
				t.Fatal(err)
			}
			d.Web = pages
		})
		doc, err := libopenapi.NewDocument(fetchOpenAPI(t))
		if err != nil {
			t.Fatal(err)
		}
		v, errs := validator.NewValidator(doc, config.WithFormatAssertions(), config.WithURLEncodedBodyValidation())
		if len(errs) > 0 {
			t.Fatal(errs)
		}

		// call sends one request and validates the exchange; it returns the body.
		call := func(wantStatus int, method, path, token, ctype, body string, hdr ...string) []byte {
			t.Helper()
			newReq := func() *http.Request {
				req, err := http.NewRequest(method, h.URL+path, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if ctype != "" {
					req.Header.Set("Content-Type", ctype)
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				return req
			}
			client := *h.Client
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := client.Do(newReq())
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			where := method + " " + path
			if resp.StatusCode != wantStatus {
				t.Fatalf("%s: status %d, want %d: %s", where, resp.StatusCode, wantStatus, data)
			}
			resp.Body = io.NopCloser(bytes.NewReader(data))
			if ok, verrs := v.ValidateHttpResponse(newReq(), resp); !ok {
				reportOpenAPIErrors(t, where+" answer "+strconv.Itoa(resp.StatusCode), verrs)
			}
			// a GET answered 303 is the console sending a visitor without a session away
			if wantStatus < 400 && (method != "GET" || wantStatus != http.StatusSeeOther) {
				if ok, verrs := v.ValidateHttpRequest(newReq()); !ok {
					reportOpenAPIErrors(t, where+" request", verrs)
				}
			}
			return data
		}
		jsonType := "application/json"
		var created struct {
			ID string `json:"id"`
		}

		// public
		call(200, "GET", "/healthz", "", "", "")
		call(200, "GET", "/readyz", "", "", "")
		call(200, "GET", "/openapi.json", "", "", "")
		call(200, "GET", "/metrics", h.Admin, "", "")
		call(401, "GET", "/metrics", "", "", "")
		call(201, "POST", "/api/v1/bookings", "", jsonType,
			`{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.org","organization_name":"Analytical Mentors","phone":"12","consent_given":true}`,
			"Idempotency-Key", "k-1", "X-Forwarded-For", "192.0.2.1")
		call(201, "POST", "/api/v1/bookings", "", "application/x-www-form-urlencoded",
			"first_name=Grace&last_name=Hopper&email=grace%40example.org&organization_name=Navy+Mentors&consent_given=on",
			"X-Forwarded-For", "192.0.2.1")
		call(422, "POST", "/api/v1/bookings", "", jsonType, `{"first_name":"Ada","email":"not an address"}`)
		call(400, "POST", "/api/v1/bookings", "", jsonType, `{"first_name":`)
		call(415, "POST", "/api/v1/bookings", "", "text/plain", `hello`)
		for i := range 5 {
			call(201, "POST", "/api/v1/bookings", "", jsonType, fmt.Sprintf(
				`{"first_name":"Rate","last_name":"Limit","email":"rate%d@example.org","organization_name":"Flood","consent_given":true}`, i),
				"X-Forwarded-For", "192.0.2.9")
		}
		call(429, "POST", "/api/v1/bookings", "", jsonType,
			`{"first_name":"Rate","last_name":"Limit","email":"rate9@example.org","organization_name":"Flood","consent_given":true}`,
			"X-Forwarded-For", "192.0.2.9")

		// staff: leads
		call(401, "GET", "/api/v1/leads", "", "", "")
		call(401, "GET", "/api/v1/leads", "not-a-token", "", "")
		call(200, "GET", "/api/v1/leads?limit=1&status=new,contacted&source=demo_booking", h.Sales, "", "")
		call(200, "GET", "/api/v1/leads?q=lovelace&created_from=2000-01-01&created_to=2999-12-31", h.Sales, "", "")
		call(422, "GET", "/api/v1/leads?limit=0&status=nope", h.Sales, "", "")
		consent := h.Clock.Now().UTC().Format(time.RFC3339)
		newLead := `{"first_name":"Mary","last_name":"Somerville","email":"mary@example.org","organization_name":"Tides",` +
			`"source":"event","phone":null,"consent_given":true,"consent_timestamp":"` + consent + `"}`
		if err := json.Unmarshal(call(201, "POST", "/api/v1/leads", h.Sales, jsonType, newLead), &created); err != nil {
			t.Fatal(err)
		}
		call(409, "POST", "/api/v1/leads", h.Sales, jsonType, newLead)
		call(422, "POST", "/api/v1/leads", h.Sales, jsonType, `{"notes":"x","id":"y"}`)
		leadPath := "/api/v1/leads/" + created.ID
		resp, _ := h.do("GET", leadPath, h.Sales, nil)
		etag := resp.Header.Get("ETag")
		call(200, "GET", leadPath, h.Sales, "", "")
		call(404, "GET", "/api/v1/leads/"+store.NewID(), h.Sales, "", "")
		call(200, "PATCH", leadPath, h.Sales, "application/merge-patch+json", `{"status":"contacted","role_title":null}`, "If-Match", etag)
		call(412, "PATCH", leadPath, h.Sales, "application/merge-patch+json", `{"status":"qualified"}`, "If-Match", etag)
		call(422, "PATCH", leadPath, h.Sales, jsonType, `{"status":"won"}`)
		call(201, "POST", leadPath+"/notes", h.Sales, jsonType, `{"text":"Called; demo next week."}`)
		call(200, "GET", leadPath+"/events", h.Sales, "", "")
		call(200, "GET", leadPath+"/bookings", h.Sales, "", "")
		call(405, "DELETE", leadPath, h.Sales, "", "")
		call(200, "GET", "/api/v1/leads.csv?status=contacted", h.Sales, "", "")
		call(200, "GET", "/api/v1/stats/pipeline?created_from=2000-01-01", h.Sales, "", "")
		call(200, "POST", "/api/v1/imports", h.Sales, "text/csv",
			"first_name,last_name,email,organization_name,consent_given,consent_timestamp,shoe_size\n"+
				"Emmy,Noether,emmy@example.org,Rings,true,"+consent+",42\n"+
				"Bad,Row,not-an-email,Rings,true,"+consent+",\n")

		// webhooks, then a change that queues a delivery
		var hook struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(call(201, "POST", "/api/v1/webhooks", h.Admin, jsonType,
			`{"url":"https://203.0.113.10/hooks","events":["lead.created","lead.status_changed"]}`), &hook); err != nil {
			t.Fatal(err)
		}
		call(422, "POST", "/api/v1/webhooks", h.Admin, jsonType, `{"url":"ftp://x","events":["nope"]}`)
		hookPath := "/api/v1/webhooks/" + hook.ID
		call(200, "GET", "/api/v1/webhooks", h.Admin, "", "")
		call(200, "GET", hookPath, h.Admin, "", "")
		call(200, "PATCH", hookPath, h.Admin, jsonType, `{"active":true,"events":["booking.created","lead.status_changed"]}`)
		call(201, "POST", "/api/v1/bookings", "", jsonType,
			`{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.org","organization_name":"Analytical Mentors","consent_given":true}`,
			"X-Forwarded-For", "192.0.2.2")
		var log struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(call(200, "GET", hookPath+"/deliveries?limit=10", h.Admin, "", ""), &log); err != nil || len(log.Items) == 0 {
			t.Fatalf("delivery log: %v, %d items", err, len(log.Items))
		}
		call(202, "POST", hookPath+"/deliveries/"+log.Items[0].ID+"/redeliver", h.Admin, "", "")
		call(403, "GET", "/api/v1/webhooks", h.Sales, "", "")
		call(204, "DELETE", hookPath, h.Admin, "", "")
		call(404, "GET", hookPath, h.Admin, "", "")

		// privacy
		call(403, "POST", leadPath+"/anonymize", h.Sales, "", "")
		call(200, "GET", leadPath+"/export", h.Admin, "", "")
		call(200, "POST", "/api/v1/erasure-requests", h.Admin, jsonType, `{"email":"ada@example.org"}`)
		call(200, "POST", leadPath+"/anonymize", h.Admin, "", "")
		call(409, "PATCH", leadPath, h.Sales, jsonType, `{"first_name":"Again"}`)

		// pages
		call(200, "GET", "/?utm_source=news", "", "", "")
		call(303, "POST", "/", "", "application/x-www-form-urlencoded",
			"first_name=Ida&last_name=Wells&email=ida%40example.org&organization_name=Press&consent_given=on",
			"X-Forwarded-For", "192.0.2.3")
		call(422, "POST", "/", "", "application/x-www-form-urlencoded", "first_name=Ida", "X-Forwarded-For", "192.0.2.3")
		call(200, "GET", "/thanks?ref="+store.NewID(), "", "", "")
		call(200, "GET", "/privacy", "", "", "")
		call(303, "GET", "/console", "", "", "")
		call(200, "GET", "/console/sign-in", "", "", "")
		call(401, "POST", "/console/sign-in", "", "application/x-www-form-urlencoded", "token=wrong")
		call(303, "GET", "/console/leads", "", "", "")
		call(401, "POST", "/console/leads/"+created.ID+"/notes", "", "application/x-www-form-urlencoded", "text=hi")
		form := url.Values{"token": {h.Admin}}.Encode()
		req, _ := http.NewRequest("POST", h.URL+"/console/sign-in", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err = h.Client.Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cookies := resp.Cookies()
		if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 {
			t.Fatalf("sign in: %d, cookies %v", resp.StatusCode, cookies)
		}
		session := "leads_console=" + cookies[0].Value
		call(200, "GET", "/console/leads?status=new", "", "", "", "Cookie", session)
		call(200, "GET", "/console/leads/"+created.ID, "", "", "", "Cookie", session)
		call(200, "GET", "/console/stats", "", "", "", "Cookie", session)
		call(403, "POST", "/console/leads/"+created.ID+"/notes", "", "application/x-www-form-urlencoded", "text=hi",
			"Cookie", session)
	})
}

func reportOpenAPIErrors(t *testing.T, where string, errs []*validatorerrors.ValidationError) {
	t.Helper()
	for _, e := range errs {
		t.Errorf("%s: %s: %s", where, e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			t.Errorf("    at %s (%s): %s", se.FieldPath, se.KeywordLocation, se.Reason)
		}
	}
}

// openAPISchemaPointers lists the JSON pointers of the Schema Objects in v: every value of
// components.schemas and every "schema" of a parameter, header or media type.
func openAPISchemaPointers(v any, at string, out []string) []string {
	m, ok := v.(map[string]any)
	if !ok {
		if a, ok := v.([]any); ok {
			for i, e := range a {
				out = openAPISchemaPointers(e, at+"/"+strconv.Itoa(i), out)
			}
		}
		return out
	}
	for k, e := range m {
		ptr := at + "/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
		switch {
		case at == "/components/schemas":
			out = append(out, ptr)
		case k == "schema":
			if _, ok := e.(map[string]any); ok {
				out = append(out, ptr)
			}
		default:
			out = openAPISchemaPointers(e, ptr, out)
		}
	}
	return out
}
