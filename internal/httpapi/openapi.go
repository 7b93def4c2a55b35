package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/webhook"
)

// The OpenAPI document is built in Go rather than kept as a JSON file: the enums (statuses,
// sources, roles, webhook events) and limits come from the code that enforces them, and
// the operation helpers add what every staff route shares (bearer auth, 401/403, the
// required role) in one place. openapi_test.go validates it, holds it against the routes
// the server registers, and checks real answers against it.

// handleOpenAPI is GET /openapi.json.
func (s *server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, openAPIDocument(s.Version))
}

type obj = map[string]any

func schemaRef(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
func respRef(name string) obj   { return obj{"$ref": "#/components/responses/" + name} }
func paramRef(name string) obj  { return obj{"$ref": "#/components/parameters/" + name} }
func headerRef(name string) obj { return obj{"$ref": "#/components/headers/" + name} }

func str(desc string) obj { return obj{"type": "string", "description": desc} }

// strMax is a string of at most n characters (Unicode code points, as validation counts).
func strMax(n int, desc string) obj {
	return obj{"type": "string", "maxLength": n, "description": desc}
}

// nullable lets a schema also be null (the lead's optional columns).
func nullable(s obj) obj {
	out := obj{}
	for k, v := range s {
		out[k] = v
	}
	if t, ok := out["type"].(string); ok {
		out["type"] = []string{t, "null"}
		return out
	}
	return obj{"oneOf": []obj{s, {"type": "null"}}}
}

func dateTime(desc string) obj {
	return obj{"type": "string", "format": "date-time", "description": desc}
}

func uuidStr(desc string) obj {
	return obj{"type": "string", "format": "uuid", "description": desc}
}

func arrayOf(items obj) obj { return obj{"type": "array", "items": items} }

func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func content(mediaType string, schema obj) obj {
	return obj{mediaType: obj{"schema": schema}}
}

func jsonResponse(desc string, schema obj, headers ...string) obj {
	r := obj{"description": desc, "content": content("application/json", schema)}
	addHeaders(r, headers)
	return r
}

func htmlResponse(desc string, headers ...string) obj {
	r := obj{"description": desc, "content": content("text/html", obj{"type": "string"})}
	addHeaders(r, headers)
	return r
}

// redirect is a 303 See Other of the POST-redirect-GET pages.
func redirect(desc string, headers ...string) obj {
	r := obj{"description": desc}
	addHeaders(r, append([]string{"Location"}, headers...))
	return r
}

func addHeaders(r obj, names []string) {
	if len(names) == 0 {
		return
	}
	h := obj{}
	for _, n := range names {
		h[n] = headerRef(n)
	}
	r["headers"] = h
}

func jsonBody(schema obj) obj {
	return obj{"required": true, "content": content("application/json", schema)}
}

// formBody is a form-encoded body; the named fields are free text, which may hold reserved
// characters (percent-encoded, as forms send them).
func formBody(schema obj, text ...string) obj {
	return obj{"required": true, "content": obj{"application/x-www-form-urlencoded": formMedia(schema, text)}}
}

func formMedia(schema obj, text []string) obj {
	m := obj{"schema": schema}
	if len(text) > 0 {
		enc := obj{}
		for _, f := range text {
			enc[f] = obj{"allowReserved": true}
		}
		m["encoding"] = enc
	}
	return m
}

// bookingTextFields are the free-text fields of a booking form.
var bookingTextFields = []string{"first_name", "last_name", "email", "phone", "organization_name",
	"organization_type", "organization_size", "role_title", "message", "utm_source", "utm_medium", "utm_campaign", "website"}

func queryParam(name, desc string, schema obj) obj {
	return obj{"name": name, "in": "query", "description": desc, "schema": schema}
}

// operation is one route's description. Role "" is a public route; any other role makes
// it a staff route with bearer auth, x-required-role and the 401/403 answers.
type operation struct {
	id, summary, description string
	tag                      string
	role                     lead.Role
	params                   []obj
	body                     obj
	responses                obj
}

func (o operation) build() obj {
	desc := o.description
	resp := obj{}
	for k, v := range o.responses {
		resp[k] = v
	}
	op := obj{"operationId": o.id, "summary": o.summary, "tags": []string{o.tag}, "responses": resp}
	if o.role != "" {
		op["security"] = []obj{{"bearerAuth": []string{}}}
		op["x-required-role"] = string(o.role)
		desc = strings.TrimSpace(desc + "\n\nRequires a bearer token with role `" + string(o.role) + "`" +
			roleNote(o.role) + ".")
		resp["401"] = respRef("Unauthorized")
		resp["403"] = respRef("Forbidden")
		if _, ok := resp["503"]; !ok {
			resp["503"] = respRef("ServiceUnavailable") // the token is checked in the database
		}
	}
	if _, ok := resp["500"]; !ok && o.tag != "pages" && o.tag != "console" {
		resp["500"] = respRef("InternalError")
	}
	if desc != "" {
		op["description"] = desc
	}
	if len(o.params) > 0 {
		op["parameters"] = o.params
	}
	if o.body != nil {
		op["requestBody"] = o.body
	}
	return op
}

func roleNote(r lead.Role) string {
	if r == lead.RoleSales {
		return " (or `admin`)"
	}
	return ""
}

// consoleOp is a console page behind a session cookie: without one a GET is redirected to
// the sign-in page and a form post gets 401; a post without the session's CSRF token, or
// a role that is not enough, gets 403.
func consoleOp(method string, role lead.Role, o operation) obj {
	o.tag = "console"
	resp := obj{"403": htmlResponse("The role is not enough, or (forms) the CSRF token is missing or wrong or " +
		"the form came from another site.")}
	if method == http.MethodGet {
		resp["303"] = redirect("Not signed in: to `/console/sign-in`.")
	} else {
		resp["401"] = htmlResponse("Not signed in, or the session has ended: nothing was done.")
		resp["400"] = htmlResponse("The form could not be read.")
		resp["413"] = htmlResponse("The form is too large.")
	}
	for k, v := range o.responses {
		resp[k] = v
	}
	o.responses = resp
	op := o.build()
	op["security"] = []obj{{"consoleSession": []string{}}}
	op["x-required-role"] = string(role)
	op["description"] = strings.TrimSpace(o.description + "\n\nNeeds a console session of a token with role `" +
		string(role) + "`" + roleNote(role) + ".")
	return op
}

// openAPIDocument is the OpenAPI 3.1 description of every route in routes.go.
func openAPIDocument(version string) obj {
	if version == "" {
		version = "dev"
	}
	paths := obj{}
	add := func(method, path string, op obj) {
		p, ok := paths[path].(obj)
		if !ok {
			p = obj{}
			paths[path] = p
		}
		p[strings.ToLower(method)] = op
	}
	publicPaths(add)
	leadPaths(add)
	privacyPaths(add)
	integrationPaths(add)
	pagePaths(add)

	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "Leads service API",
			"version": version,
			"summary": "Demo booking intake and the sales pipeline of Meander.",
			"description": "JSON over HTTP under `/api/v1`. Timestamps are RFC 3339 in UTC. Errors are RFC 9457 " +
				"`application/problem+json` documents (schema `Problem`); every refusal caused by a business rule names " +
				"that rule in `errors[].rule`, or in the top-level `rule` when no field is at fault (429, 405). " +
				"Request bodies over 64 KiB get 413 (CSV imports: 50 MiB), a content type other than the ones listed 415, " +
				"malformed JSON 400.\n\nStaff routes take `Authorization: Bearer <token>`: 401 without a valid token " +
				"(checked first), 403 when the token's role is not enough. The role each route needs is in its description " +
				"and in `x-required-role`; `admin` tokens may do everything `sales` tokens may.",
		},
		"servers": []obj{{"url": "/"}},
		"tags": []obj{
			{"name": "public", "description": "The demo booking and the service's own endpoints."},
			{"name": "leads", "description": "The sales pipeline (staff)."},
			{"name": "privacy", "description": "Erasure and data-subject export (admin)."},
			{"name": "integrations", "description": "CSV import and webhooks."},
			{"name": "pages", "description": "The public HTML pages."},
			{"name": "console", "description": "The sales console (HTML, session cookie)."},
		},
		"paths":      paths,
		"webhooks":   webhookEvents(),
		"components": components(),
	}
}

func publicPaths(add func(method, path string, op obj)) {
	add("POST", "/api/v1/bookings", operation{
		id: "createBooking", tag: "public", summary: "Book a demo",
		description: "The public demo booking. Source is `demo_booking`, status `new`. The answer has the same shape " +
			"whether the email was new or already a lead's (then the booking is linked to that lead). A non-empty " +
			"honeypot field `website` gets the same 201 and stores nothing. At most 5 accepted bookings per client IP " +
			"in any rolling hour (`rate_limit_per_ip`). The server sets consent_timestamp from its own clock.",
		params: []obj{{
			"name": "Idempotency-Key", "in": "header",
			"description": "Repeated within 24 hours, returns the first response again and stores nothing new.",
			"schema":      obj{"type": "string", "maxLength": 255},
		}},
		body: obj{"required": true, "content": obj{
			"application/json":                  obj{"schema": schemaRef("BookingRequest")},
			"application/x-www-form-urlencoded": formMedia(schemaRef("BookingForm"), bookingTextFields),
		}},
		responses: obj{
			"201": jsonResponse("Booking received (also for a known email, a honeypot hit or a replayed Idempotency-Key).",
				schemaRef("BookingAccepted")),
			"400": respRef("BadRequest"),
			"403": respRef("CrossSite"),
			"413": respRef("PayloadTooLarge"),
			"415": respRef("UnsupportedMediaType"),
			"422": respRef("ValidationFailed"),
			"429": respRef("TooManyRequests"),
			"503": respRef("ServiceUnavailable"),
		},
	}.build())

	add("GET", "/healthz", operation{
		id: "healthz", tag: "public", summary: "Liveness",
		responses: obj{"200": jsonResponse("The process is up.", schemaRef("Health"))},
	}.build())
	add("GET", "/readyz", operation{
		id: "readyz", tag: "public", summary: "Readiness",
		description: "Green when the database answers and is fully migrated.",
		responses: obj{
			"200": jsonResponse("Ready.", object([]string{"status"}, obj{"status": obj{"type": "string", "const": "ready"}})),
			"503": respRef("ServiceUnavailable"),
		},
	}.build())
	add("GET", "/metrics", operation{
		id: "metrics", tag: "public", role: lead.RoleAdmin, summary: "Prometheus metrics",
		description: "The Prometheus text exposition format. Served here, to admin tokens only, unless the server runs " +
			"with `--admin-addr`, which moves it to that address, open there.",
		responses: obj{"200": obj{"description": "The metrics.",
			"content": content("text/plain", obj{"type": "string"})}},
	}.build())
	add("GET", "/openapi.json", operation{
		id: "openapi", tag: "public", summary: "This OpenAPI document",
		responses: obj{"200": jsonResponse("The OpenAPI 3.1 description of this API.", obj{"type": "object"})},
	}.build())
}

func leadPaths(add func(method, path string, op obj)) {
	listParams := []obj{paramRef("status"), paramRef("source"), paramRef("q"), paramRef("created_from"), paramRef("created_to")}
	idParam := paramRef("id")

	add("GET", "/api/v1/leads", operation{
		id: "listLeads", tag: "leads", role: lead.RoleSales, summary: "List and search leads",
		description: "Newest first, in keyset pages: pass `next_cursor` as `cursor` for the next page (null on the last).",
		params:      append(listParams, paramRef("limit"), paramRef("cursor")),
		responses: obj{
			"200": jsonResponse("A page of leads.", schemaRef("LeadList")),
			"400": respRef("BadRequest"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
	add("POST", "/api/v1/leads", operation{
		id: "createLead", tag: "leads", role: lead.RoleSales, summary: "Create a lead by hand",
		description: "Any source; consent_given (true) and consent_timestamp are required. No email is sent. Read-only " +
			"and unknown keys are refused with 422 (rules `read_only_field`, `unknown_field`).",
		body: jsonBody(schemaRef("LeadCreate")),
		responses: obj{
			"201": jsonResponse("The lead.", schemaRef("Lead"), "ETag", "Location"),
			"400": respRef("BadRequest"),
			"409": respRef("Conflict"),
			"413": respRef("PayloadTooLarge"),
			"415": respRef("UnsupportedMediaType"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
	add("GET", "/api/v1/leads/{id}", operation{
		id: "getLead", tag: "leads", role: lead.RoleSales, summary: "Read a lead",
		params: []obj{idParam},
		responses: obj{
			"200": jsonResponse("The lead; its ETag is derived from the stored row.", schemaRef("Lead"), "ETag"),
			"404": respRef("NotFound"),
		},
	}.build())
	add("PATCH", "/api/v1/leads/{id}", operation{
		id: "patchLead", tag: "leads", role: lead.RoleSales, summary: "Change a lead (JSON merge patch)",
		description: "An RFC 7396 merge patch of contact fields and `status` (null clears an optional field). Status " +
			"moves follow `status_transition_enforcement`: one step forward, or to lost/disqualified; a refused move " +
			"is 422 with `allowed` listing the possible next statuses; setting the current status is a no-op. Changing " +
			"email onto another lead's is 409 with `existing_lead_id`; an anonymized lead cannot be edited (409). " +
			"Read-only keys (notes, id, source, ip_address, consent_*, created_at, updated_at, anonymized_at) are 422.",
		params: []obj{idParam, {
			"name": "If-Match", "in": "header",
			"description": "ETag(s) of the lead as last read; a stale one is always 412. `*` matches any existing lead.",
			"schema":      obj{"type": "string"},
		}},
		body: obj{"required": true, "content": obj{
			"application/merge-patch+json": obj{"schema": schemaRef("LeadPatch")},
			"application/json":             obj{"schema": schemaRef("LeadPatch")},
		}},
		responses: obj{
			"200": jsonResponse("The lead after the patch.", schemaRef("Lead"), "ETag"),
			"400": respRef("BadRequest"),
			"404": respRef("NotFound"),
			"409": respRef("Conflict"),
			"412": respRef("PreconditionFailed"),
			"413": respRef("PayloadTooLarge"),
			"415": respRef("UnsupportedMediaType"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
	add("DELETE", "/api/v1/leads/{id}", operation{
		id: "deleteLead", tag: "leads", role: lead.RoleSales, summary: "Leads are never deleted",
		description: "Always 405 with rule `lead_soft_delete_only`: set status disqualified or lost, or request erasure.",
		params:      []obj{idParam},
		responses:   obj{"405": respRef("MethodNotAllowed")},
	}.build())
	add("POST", "/api/v1/leads/{id}/notes", operation{
		id: "addNote", tag: "leads", role: lead.RoleSales, summary: "Append a note",
		description: "Appends the text to the lead's notes, stamped with the time and the token's name. Notes are " +
			"append-only and hold at most " + strconv.Itoa(store.MaxNotesLength) + " characters in total.",
		params: []obj{idParam},
		body:   jsonBody(schemaRef("NoteRequest")),
		responses: obj{
			"201": jsonResponse("The lead with the note appended.", schemaRef("Lead"), "ETag"),
			"400": respRef("BadRequest"),
			"404": respRef("NotFound"),
			"409": respRef("Conflict"),
			"413": respRef("PayloadTooLarge"),
			"415": respRef("UnsupportedMediaType"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
	add("GET", "/api/v1/leads/{id}/events", operation{
		id: "listLeadEvents", tag: "leads", role: lead.RoleSales, summary: "The lead's audit trail",
		params: []obj{idParam},
		responses: obj{
			"200": jsonResponse("Events, oldest first.", object([]string{"items"}, obj{"items": arrayOf(schemaRef("Event"))})),
			"404": respRef("NotFound"),
		},
	}.build())
	add("GET", "/api/v1/leads/{id}/bookings", operation{
		id: "listLeadBookings", tag: "leads", role: lead.RoleSales, summary: "The lead's bookings",
		params: []obj{idParam},
		responses: obj{
			"200": jsonResponse("Bookings, newest first.", object([]string{"items"}, obj{"items": arrayOf(schemaRef("Booking"))})),
			"404": respRef("NotFound"),
		},
	}.build())
	add("GET", "/api/v1/leads.csv", operation{
		id: "exportLeadsCSV", tag: "leads", role: lead.RoleSales, summary: "Export leads as CSV",
		description: "Every lead matching the list's filters, newest first, streamed. The header row is the seed's " +
			"column names and anonymized_at. A cell starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'`.",
		params: listParams,
		responses: obj{
			"200": obj{"description": "The CSV file.", "headers": obj{"Content-Disposition": headerRef("Content-Disposition")},
				"content": content("text/csv", obj{"type": "string"})},
			"400": respRef("BadRequest"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
	add("GET", "/api/v1/stats/pipeline", operation{
		id: "pipelineStats", tag: "leads", role: lead.RoleSales, summary: "Pipeline statistics",
		description: "Counts by status and by source, bookings per utm_campaign and stage-to-stage conversion of the " +
			"leads (and bookings) created in the date range.",
		params: []obj{paramRef("created_from"), paramRef("created_to")},
		responses: obj{
			"200": jsonResponse("The statistics.", schemaRef("PipelineStats")),
			"400": respRef("BadRequest"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
}

func privacyPaths(add func(method, path string, op obj)) {
	add("POST", "/api/v1/leads/{id}/anonymize", operation{
		id: "anonymizeLead", tag: "privacy", role: lead.RoleAdmin, summary: "Erase a lead's personal data",
		description: "Anonymizes the lead, its bookings, events and queued emails and webhook payloads. Idempotent.",
		params:      []obj{paramRef("id")},
		responses: obj{
			"200": jsonResponse("The anonymized lead.", schemaRef("Lead"), "ETag"),
			"404": respRef("NotFound"),
		},
	}.build())
	add("POST", "/api/v1/erasure-requests", operation{
		id: "createErasureRequest", tag: "privacy", role: lead.RoleAdmin, summary: "Erase by email address",
		description: "Anonymizes the live lead with that email address, if there is one.",
		body:        jsonBody(schemaRef("ErasureRequest")),
		responses: obj{
			"200": jsonResponse("How many leads were anonymized.", schemaRef("ErasureResult")),
			"400": respRef("BadRequest"),
			"413": respRef("PayloadTooLarge"),
			"415": respRef("UnsupportedMediaType"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
	add("GET", "/api/v1/leads/{id}/export", operation{
		id: "exportLead", tag: "privacy", role: lead.RoleAdmin, summary: "Everything stored about a lead",
		description: "GDPR access and portability: the lead, consent proof, bookings, events and emails as one " +
			"document. The export is recorded in the audit trail.",
		params: []obj{paramRef("id")},
		responses: obj{
			"200": jsonResponse("The export.", schemaRef("LeadExport"), "Content-Disposition"),
			"404": respRef("NotFound"),
		},
	}.build())
}

func integrationPaths(add func(method, path string, op obj)) {
	webhookID := obj{"name": "id", "in": "path", "required": true, "description": "The subscription's id.",
		"schema": uuidStr("")}

	add("POST", "/api/v1/imports", operation{
		id: "importLeads", tag: "integrations", role: lead.RoleSales, summary: "Import leads from CSV",
		description: "A header row of seed column names (`source` defaults to `import`, `status` to `new`), then one " +
			"lead per row, validated like POST /api/v1/leads; `consent_given` accepts true/false/1/0/yes/no. A row " +
			"whose email matches a lead (or an earlier row) is linked to it. Valid rows are stored even when others " +
			"are refused. No confirmation email is sent. At most 50 MiB.",
		body: obj{"required": true, "content": content("text/csv", obj{"type": "string",
			"description": "UTF-8 (charset utf-8 or us-ascii, or none)."})},
		responses: obj{
			"200": jsonResponse("What happened to each row.", schemaRef("ImportResult")),
			"400": respRef("BadRequest"),
			"408": respRef("UploadTimeout"),
			"503": respRef("ImportsBusy"),
			"413": respRef("PayloadTooLarge"),
			"415": respRef("UnsupportedMediaType"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
	add("GET", "/api/v1/webhooks", operation{
		id: "listWebhooks", tag: "integrations", role: lead.RoleAdmin, summary: "List webhook subscriptions",
		responses: obj{"200": jsonResponse("The subscriptions, oldest first (secrets are never shown again).",
			object([]string{"items"}, obj{"items": arrayOf(schemaRef("Webhook"))}))},
	}.build())
	add("POST", "/api/v1/webhooks", operation{
		id: "createWebhook", tag: "integrations", role: lead.RoleAdmin, summary: "Subscribe to events",
		description: "The URL must be http or https and must not point into a private network " +
			"(`webhook_url_not_allowed`) unless the server runs with `--allow-private-webhooks`.",
		body: jsonBody(schemaRef("WebhookCreate")),
		responses: obj{
			"201": jsonResponse("The subscription with its signing secret, shown only here.", schemaRef("WebhookCreated"), "Location"),
			"400": respRef("BadRequest"),
			"413": respRef("PayloadTooLarge"),
			"415": respRef("UnsupportedMediaType"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
	add("GET", "/api/v1/webhooks/{id}", operation{
		id: "getWebhook", tag: "integrations", role: lead.RoleAdmin, summary: "Read a subscription",
		params: []obj{webhookID},
		responses: obj{
			"200": jsonResponse("The subscription.", schemaRef("Webhook")),
			"404": respRef("NotFound"),
		},
	}.build())
	add("PATCH", "/api/v1/webhooks/{id}", operation{
		id: "patchWebhook", tag: "integrations", role: lead.RoleAdmin, summary: "Change a subscription",
		description: "Change `url`, `events` or `active`; keys left out stay as they are. A paused (inactive) " +
			"subscription keeps its pending deliveries until it is active again.",
		params: []obj{webhookID},
		body: obj{"required": true, "content": obj{
			"application/json":             obj{"schema": schemaRef("WebhookPatch")},
			"application/merge-patch+json": obj{"schema": schemaRef("WebhookPatch")},
		}},
		responses: obj{
			"200": jsonResponse("The subscription.", schemaRef("Webhook")),
			"400": respRef("BadRequest"),
			"404": respRef("NotFound"),
			"413": respRef("PayloadTooLarge"),
			"415": respRef("UnsupportedMediaType"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
	add("DELETE", "/api/v1/webhooks/{id}", operation{
		id: "deleteWebhook", tag: "integrations", role: lead.RoleAdmin, summary: "Remove a subscription",
		description: "Its queued deliveries are cancelled.",
		params:      []obj{webhookID},
		responses: obj{
			"204": obj{"description": "Removed."},
			"404": respRef("NotFound"),
		},
	}.build())
	add("GET", "/api/v1/webhooks/{id}/deliveries", operation{
		id: "listWebhookDeliveries", tag: "integrations", role: lead.RoleAdmin, summary: "The delivery log",
		description: "Newest first, in pages: pass `next_cursor` as `cursor` for the next page.",
		params:      []obj{webhookID, paramRef("limit"), paramRef("cursor")},
		responses: obj{
			"200": jsonResponse("A page of deliveries.", schemaRef("WebhookDeliveryList")),
			"400": respRef("BadRequest"),
			"404": respRef("NotFound"),
			"422": respRef("ValidationFailed"),
		},
	}.build())
	add("POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", operation{
		id: "redeliverWebhook", tag: "integrations", role: lead.RoleAdmin, summary: "Send a delivery again",
		description: "Queues the same delivery again, due now: same `webhook-id`, its attempts go on.",
		params: []obj{webhookID, {"name": "delivery_id", "in": "path", "required": true,
			"description": "The delivery's id (its webhook-id header).", "schema": uuidStr("")}},
		responses: obj{
			"202": jsonResponse("Queued.", object([]string{"id", "status"}, obj{
				"id": uuidStr("The delivery's id."), "status": obj{"type": "string", "const": "pending"}})),
			"404": respRef("NotFound"),
		},
	}.build())
}

// pagePaths are the HTML pages: the public booking form and the sales console.
func pagePaths(add func(method, path string, op obj)) {
	embed := queryParam("embed", "`1` renders the page for embedding in an iframe (no site chrome).",
		obj{"type": "string", "enum": []string{"1"}})
	utm := []obj{embed}
	for _, n := range []string{"utm_source", "utm_medium", "utm_campaign"} {
		utm = append(utm, queryParam(n, "Carried into the booking as a hidden field.", strMax(200, "")))
	}
	htmlErrors := obj{
		"400": htmlResponse("The form could not be read."),
		"413": htmlResponse("The form is too large."),
		"403": htmlResponse("The form was posted from another site (cross-origin protection)."),
	}
	withErrors := func(r obj) obj {
		for k, v := range htmlErrors {
			if _, ok := r[k]; !ok {
				r[k] = v
			}
		}
		return r
	}

	add("GET", "/static/{path}", operation{
		id: "staticAsset", tag: "pages", summary: "Stylesheet and images of the pages",
		description: "Embedded files (`site.css`, `favicon.svg`); the pages link them with a content hash `?v=`.",
		params:      []obj{{"name": "path", "in": "path", "required": true, "schema": obj{"type": "string"}}},
		responses: obj{
			"200": obj{"description": "The file.", "content": obj{"text/css": obj{"schema": obj{"type": "string"}},
				"image/svg+xml": obj{"schema": obj{"type": "string"}}}},
			"404": htmlResponse("No such file."),
		},
	}.build())
	add("GET", "/", operation{
		id: "bookingForm", tag: "pages", summary: "The demo booking form",
		description: "Works without JavaScript; carries `utm_*` from its own query string into the booking.",
		params:      utm,
		responses:   obj{"200": htmlResponse("The form.")},
	}.build())
	add("POST", "/", operation{
		id: "submitBookingForm", tag: "pages", summary: "Submit the booking form",
		description: "The same intake as POST /api/v1/bookings. Success redirects to the thank-you page " +
			"(POST-redirect-GET); errors re-render the form with each message beside its field.",
		body: formBody(schemaRef("BookingForm"), bookingTextFields...),
		responses: withErrors(obj{
			"303": redirect("Booked: to `/thanks?ref=<booking id>`."),
			"422": htmlResponse("The form again, with the errors beside the fields and what was typed."),
			"429": htmlResponse("Too many bookings from this network; the form again, with what was typed.", "Retry-After"),
			"500": htmlResponse("An internal error; nothing was stored."),
			"503": htmlResponse("The database is not reachable; nothing was stored."),
		}),
	}.build())
	add("GET", "/thanks", operation{
		id: "thanksPage", tag: "pages", summary: "The thank-you page",
		params: []obj{
			queryParam("ref", "The booking reference to show (shown only when it is a UUID).", uuidStr("")),
			queryParam("phone", "`unrecognized` adds a note that the phone number was not recognised.",
				obj{"type": "string", "enum": []string{"unrecognized"}}),
			embed,
		},
		responses: obj{"200": htmlResponse("The page.")},
	}.build())
	add("GET", "/privacy", operation{
		id: "privacyPage", tag: "pages", summary: "The privacy notice",
		params:    []obj{embed},
		responses: obj{"200": htmlResponse("The notice.")},
	}.build())

	add("GET", "/console", operation{
		id: "consoleHome", tag: "console", summary: "The console's entry",
		responses: obj{"303": redirect("To `/console/leads` when signed in, else to `/console/sign-in`.")},
	}.build())
	add("GET", "/console/sign-in", operation{
		id: "consoleSignInForm", tag: "console", summary: "The sign-in page",
		params: []obj{queryParam("signed_out", "`1` says the user has signed out.", obj{"type": "string", "enum": []string{"1"}})},
		responses: obj{
			"200": htmlResponse("The sign-in form."),
			"303": redirect("Already signed in: to `/console/leads`."),
		},
	}.build())
	add("POST", "/console/sign-in", operation{
		id: "consoleSignIn", tag: "console", summary: "Sign in with a staff API token",
		description: "Opens a session: the cookie `leads_console` (HttpOnly, SameSite=Strict, Secure over TLS) carries " +
			"a random session id, never the token.",
		body: formBody(object([]string{"token"}, obj{"token": str("A staff API token.")}), "token"),
		responses: obj{
			"303": redirect("Signed in: to `/console/leads`.", "Set-Cookie"),
			"400": htmlResponse("The form could not be read."),
			"401": htmlResponse("The token is not valid."),
			"403": htmlResponse("The form was posted from another site."),
			"413": htmlResponse("The form is too large."),
		},
	}.build())
	csrf := obj{"csrf": str("The session's CSRF token, from the page's forms.")}
	add("POST", "/console/sign-out", consoleOp("POST", lead.RoleSales, operation{
		id: "consoleSignOut", summary: "Sign out",
		description: "Revokes the session in the database.",
		body:        formBody(object([]string{"csrf"}, csrf)),
		responses:   obj{"303": redirect("To `/console/sign-in?signed_out=1`.", "Set-Cookie")},
	}))
	add("GET", "/console/leads", consoleOp("GET", lead.RoleSales, operation{
		id: "consoleGetLeads", summary: "The lead list",
		description: "Filters, search and cursor paging, with the query parameters of GET /api/v1/leads.",
		params: []obj{paramRef("status"), paramRef("source"), paramRef("q"), paramRef("created_from"),
			paramRef("created_to"), paramRef("cursor")},
		responses: obj{
			"200": htmlResponse("The list."),
			"422": htmlResponse("The list page with the query's errors."),
		},
	}))
	add("GET", "/console/leads/{id}", consoleOp("GET", lead.RoleSales, operation{
		id: "consoleGetLead", summary: "A lead's page",
		description: "Every field, the bookings, the history, buttons for the allowed next statuses, the note form.",
		params: []obj{paramRef("id"), queryParam("done", "Shows a confirmation of the action just done.",
			obj{"type": "string", "enum": []string{"status", "note", "anonymized"}})},
		responses: obj{
			"200": htmlResponse("The lead."),
			"404": htmlResponse("No such lead."),
		},
	}))
	add("POST", "/console/leads/{id}/status", consoleOp("POST", lead.RoleSales, operation{
		id: "consoleChangeStatus", summary: "Move a lead to another status",
		params: []obj{paramRef("id")},
		body:   formBody(object([]string{"csrf", "status"}, obj{"csrf": csrf["csrf"], "status": schemaRef("Status")})),
		responses: obj{
			"303": redirect("Done: to the lead's page."),
			"404": htmlResponse("No such lead."),
			"409": htmlResponse("The lead is anonymized or was changed meanwhile; the lead's page with a message."),
			"422": htmlResponse("The move is not allowed; the lead's page with a message."),
		},
	}))
	add("POST", "/console/leads/{id}/notes", consoleOp("POST", lead.RoleSales, operation{
		id: "consoleAddNote", summary: "Append a note",
		params: []obj{paramRef("id")},
		body:   formBody(object([]string{"csrf", "text"}, obj{"csrf": csrf["csrf"], "text": str("The note.")}), "text"),
		responses: obj{
			"303": redirect("Done: to the lead's page."),
			"404": htmlResponse("No such lead."),
			"409": htmlResponse("The lead is anonymized; the lead's page with a message."),
			"422": htmlResponse("The note is empty or too long; the lead's page with a message."),
		},
	}))
	add("GET", "/console/leads/{id}/anonymize", consoleOp("GET", lead.RoleAdmin, operation{
		id: "consoleConfirmAnonymize", summary: "Confirm erasing a lead",
		params: []obj{paramRef("id")},
		responses: obj{
			"200": htmlResponse("The confirmation page."),
			"303": redirect("Not signed in: to `/console/sign-in`; already anonymized: to the lead's page."),
			"404": htmlResponse("No such lead."),
		},
	}))
	add("POST", "/console/leads/{id}/anonymize", consoleOp("POST", lead.RoleAdmin, operation{
		id: "consoleAnonymize", summary: "Erase a lead's personal data",
		params: []obj{paramRef("id")},
		body:   formBody(object([]string{"csrf"}, csrf)),
		responses: obj{
			"303": redirect("Done: to the lead's page."),
			"404": htmlResponse("No such lead."),
		},
	}))
	add("GET", "/console/stats", consoleOp("GET", lead.RoleSales, operation{
		id: "consoleGetStats", summary: "Pipeline statistics",
		params: []obj{paramRef("created_from"), paramRef("created_to")},
		responses: obj{
			"200": htmlResponse("The statistics."),
			"422": htmlResponse("The page with the date range's errors."),
		},
	}))
	add("GET", "/console/import", consoleOp("GET", lead.RoleSales, operation{
		id: "consoleImportForm", summary: "The CSV import form",
		responses: obj{"200": htmlResponse("The upload form, with the expected header row.")},
	}))
	add("POST", "/console/import", consoleOp("POST", lead.RoleSales, operation{
		id: "consoleImport", summary: "Import leads from a CSV file",
		description: "The file is imported like POST /api/v1/imports (at most 50 MiB).",
		body: obj{"required": true, "content": obj{"multipart/form-data": obj{
			"schema": object([]string{"csrf", "file"}, obj{
				"csrf": str("The session's CSRF token, from the page's forms."),
				"file": obj{"type": "string", "contentMediaType": "text/csv", "description": "The CSV file."},
			}),
		}}},
		responses: obj{
			"200": htmlResponse("The import report: created, linked, ignored columns and refused rows."),
			"413": htmlResponse("The file is larger than 50 MiB; nothing was imported."),
			"422": htmlResponse("The form page with the reason: no file, or not readable CSV; nothing was imported."),
		},
	}))
}

// webhookEvents describes what subscriptions receive (OpenAPI 3.1 `webhooks`).
func webhookEvents() obj {
	out := obj{}
	for _, ev := range webhook.Events {
		out[ev] = obj{"post": obj{
			"operationId": "webhook_" + strings.ReplaceAll(ev, ".", "_"),
			"summary":     "The " + ev + " event",
			"description": "Standard Webhooks: signed with `webhook-signature: v1,<base64 HMAC-SHA256 of " +
				"\"<webhook-id>.<webhook-timestamp>.<body>\">` keyed with the base64-decoded secret after `whsec_`. " +
				"A 2xx answer within 10 s is delivered; anything else is retried for 24 hours.",
			"parameters": []obj{
				{"name": "webhook-id", "in": "header", "required": true, "schema": obj{"type": "string"},
					"description": "The delivery's id, the same on every retry and redelivery."},
				{"name": "webhook-timestamp", "in": "header", "required": true, "schema": obj{"type": "string"},
					"description": "Unix seconds of this attempt."},
				{"name": "webhook-signature", "in": "header", "required": true, "schema": obj{"type": "string"}},
			},
			"requestBody": jsonBody(schemaRef("WebhookPayload")),
			"responses":   obj{"2XX": obj{"description": "Delivered."}},
		}}
	}
	return out
}

func components() obj {
	issue := object([]string{"field", "rule", "message"}, obj{
		"field":   str("The request field at fault (the JSON key or form field name)."),
		"rule":    str("The rule's name, e.g. `email_format_validation` (see Problem)."),
		"message": str("A sentence for people."),
	})
	problemResponse := func(desc string, headers ...string) obj {
		r := obj{"description": desc, "content": content("application/problem+json", schemaRef("Problem"))}
		addHeaders(r, headers)
		return r
	}
	statuses := make([]string, len(lead.Statuses))
	for i, s := range lead.Statuses {
		statuses[i] = string(s)
	}
	sources := make([]string, len(lead.Sources))
	for i, s := range lead.Sources {
		sources[i] = string(s)
	}
	byEnum := func(keys []string, desc string) obj {
		props := obj{}
		for _, k := range keys {
			props[k] = obj{"type": "integer", "minimum": 0}
		}
		return obj{"type": "object", "description": desc, "properties": props, "required": keys,
			"additionalProperties": false}
	}

	// leadFields are the writable columns with their limits (SPEC §2).
	leadFields := func(nullOK bool) obj {
		f := func(s obj) obj {
			if nullOK {
				return nullable(s)
			}
			return s
		}
		return obj{
			"first_name":        strMax(100, ""),
			"last_name":         strMax(100, ""),
			"email":             strMax(254, "A business address: dot-atom local part, a domain of at least two labels."),
			"phone":             f(strMax(40, "Stored in E.164 when it parses (default region NO), otherwise as given.")),
			"organization_name": strMax(200, ""),
			"organization_type": f(strMax(100, "Free text, e.g. non-profit, public sector.")),
			"organization_size": f(strMax(50, "Free text, e.g. 10-50.")),
			"role_title":        f(strMax(100, "")),
			"message":           f(strMax(5000, "First inquiry; plain text (HTML markup is refused).")),
			"utm_source":        f(strMax(200, "")),
			"utm_medium":        f(strMax(200, "")),
			"utm_campaign":      f(strMax(200, "")),
		}
	}
	create := leadFields(true)
	create["source"] = schemaRef("Source")
	create["status"] = obj{"$ref": "#/components/schemas/Status", "description": "Defaults to `new`."}
	create["consent_given"] = obj{"type": "boolean", "const": true}
	create["consent_timestamp"] = dateTime("When consent was given; at most 5 minutes ahead of the server clock.")
	patch := leadFields(true)
	for _, k := range []string{"first_name", "last_name", "email", "organization_name"} {
		patch[k] = nullable(patch[k].(obj)) // null is accepted by the decoder and refused as required_fields_present
	}
	patch["status"] = schemaRef("Status")

	booking := leadFields(false)
	booking["consent_given"] = obj{"type": []string{"boolean", "string"},
		"description": "Must be true (`gdpr_consent_required`); the strings true/on/yes/1 count as true."}
	booking["website"] = str("Honeypot: leave empty. A non-empty value gets 201 and stores nothing.")
	bookingForm := leadFields(false)
	bookingForm["consent_given"] = str("The checkbox: any of on/true/yes/1 is consent; absent is no consent.")
	bookingForm["website"] = booking["website"]
	bookingForm["idempotency_key"] = obj{"type": "string", "pattern": "^[0-9a-f]{32}$",
		"description": "The HTML form's own idempotency key (32 hex digits), so a double-clicked submit books once."}
	bookingForm["embed"] = obj{"type": "string", "enum": []string{"1"}}

	leadProps := obj{
		"id":                uuidStr(""),
		"first_name":        str(""),
		"last_name":         str(""),
		"email":             str(""),
		"phone":             nullable(str("")),
		"organization_name": str(""),
		"organization_type": nullable(str("")),
		"organization_size": nullable(str("")),
		"role_title":        nullable(str("")),
		"source":            schemaRef("Source"),
		"status":            schemaRef("Status"),
		"notes":             nullable(str("Append-only sales notes, each stamped with time and author.")),
		"message":           nullable(str("")),
		"utm_source":        nullable(str("")),
		"utm_medium":        nullable(str("")),
		"utm_campaign":      nullable(str("")),
		"ip_address":        nullable(str("Client IP at submission; cleared by the retention job.")),
		"consent_given":     obj{"type": "boolean"},
		"consent_timestamp": nullable(dateTime("")),
		"created_at":        dateTime(""),
		"updated_at":        dateTime(""),
		"anonymized_at":     nullable(dateTime("Set when the lead was erased.")),
	}
	leadRequired := make([]string, 0, len(leadProps))
	for k := range leadProps {
		leadRequired = append(leadRequired, k)
	}
	slices.Sort(leadRequired)

	bookingRow := object([]string{"id", "lead_id", "first_name", "last_name", "email", "organization_name",
		"consent_version", "consent_timestamp", "created_at"}, obj{
		"id": uuidStr("The booking reference."), "lead_id": uuidStr(""),
		"first_name": str(""), "last_name": str(""), "email": str(""), "phone": nullable(str("")),
		"organization_name": str(""), "organization_type": nullable(str("")), "organization_size": nullable(str("")),
		"role_title": nullable(str("")), "message": nullable(str("")),
		"utm_source": nullable(str("")), "utm_medium": nullable(str("")), "utm_campaign": nullable(str("")),
		"ip_address": nullable(str("")), "user_agent": nullable(str("")),
		"consent_version":   str("Which consent text the person saw."),
		"consent_timestamp": dateTime("The server's clock when the booking was accepted."),
		"created_at":        dateTime(""),
	})

	webhookObj := object([]string{"id", "url", "events", "active", "created_at", "updated_at"}, obj{
		"id": uuidStr(""), "url": obj{"type": "string", "format": "uri"},
		"events": arrayOf(schemaRef("WebhookEvent")), "active": obj{"type": "boolean"},
		"created_at": dateTime(""), "updated_at": dateTime(""),
	})
	webhookCreated := object([]string{"id", "url", "events", "active", "secret", "created_at", "updated_at"}, obj{
		"id": uuidStr(""), "url": obj{"type": "string", "format": "uri"},
		"events": arrayOf(schemaRef("WebhookEvent")), "active": obj{"type": "boolean"},
		"secret":     obj{"type": "string", "pattern": "^whsec_", "description": "`whsec_` + base64 of 24 random bytes; shown only here."},
		"created_at": dateTime(""), "updated_at": dateTime(""),
	})

	listDate := func(name, desc string) obj {
		return queryParam(name, desc+" RFC 3339 timestamp or a date YYYY-MM-DD (UTC), inclusive.", obj{"type": "string"})
	}

	return obj{
		"securitySchemes": obj{
			"bearerAuth": obj{"type": "http", "scheme": "bearer",
				"description": "A staff API token from `leads token create --name N --role sales|admin`. Role `admin` " +
					"may do everything; `sales` everything but the routes marked `x-required-role: admin`."},
			"consoleSession": obj{"type": "apiKey", "in": "cookie", "name": "leads_console",
				"description": "The console's session cookie, set by POST /console/sign-in. Forms must also carry the " +
					"session's `csrf` token."},
		},
		"parameters": obj{
			"id": obj{"name": "id", "in": "path", "required": true, "description": "The lead's id.",
				"schema": uuidStr("")},
			"status": obj{"name": "status", "in": "query", "style": "form", "explode": false,
				"description": "Any of these statuses (comma list, or the parameter repeated).",
				"schema":      arrayOf(schemaRef("Status"))},
			"source": obj{"name": "source", "in": "query", "style": "form", "explode": false,
				"description": "Any of these sources (comma list, or the parameter repeated).",
				"schema":      arrayOf(schemaRef("Source"))},
			"q": queryParam("q", "Case-insensitive search inside first/last name, email and organization name.",
				strMax(200, "")),
			"created_from": listDate("created_from", "Leads created at or after this."),
			"created_to":   listDate("created_to", "Leads created at or before this (a date includes the whole day)."),
			"limit": queryParam("limit", "Page size.", obj{"type": "integer", "minimum": 1,
				"maximum": store.MaxListLimit, "default": store.DefaultListLimit}),
			"cursor": queryParam("cursor", "The `next_cursor` of the previous page (opaque).", obj{"type": "string"}),
		},
		"headers": obj{
			"ETag": obj{"description": "Strong entity tag of the lead, derived from the stored row; send it as If-Match.",
				"schema": obj{"type": "string"}},
			"Location": obj{"description": "Where the created resource or the next page is.",
				"schema": obj{"type": "string"}},
			"Retry-After": obj{"description": "Seconds until a slot frees.",
				"schema": obj{"type": "integer", "minimum": 0}},
			"Content-Disposition": obj{"description": "attachment, with a file name.",
				"schema": obj{"type": "string"}},
			"Set-Cookie": obj{"description": "The console session cookie `leads_console`.",
				"schema": obj{"type": "string"}},
			"Allow": obj{"description": "The methods the resource allows.", "schema": obj{"type": "string"}},
			"WWW-Authenticate": obj{"description": "`Bearer realm=\"leads\"`, with `error=\"invalid_token\"` for a " +
				"token that is unknown or revoked.", "schema": obj{"type": "string"}},
		},
		"responses": obj{
			"BadRequest": problemResponse("Malformed request: JSON or form that cannot be read, a field of the " +
				"wrong type, a malformed query string."),
			"Unauthorized": problemResponse("No valid bearer token (checked first, on every staff route).",
				"WWW-Authenticate"),
			"Forbidden": problemResponse("The token's role is not enough for this route."),
			"CrossSite": problemResponse("A form-encoded booking sent by a browser from another website " +
				"(`Sec-Fetch-Site: cross-site`, or a foreign `Origin`); JSON and server-to-server posts are unaffected."),
			"UploadTimeout": problemResponse("The upload sent nothing for too long; nothing was imported."),
			"ImportsBusy": problemResponse("Too many imports are running at once (or the database is not reachable); "+
				"send the file again after `Retry-After` seconds.", "Retry-After"),
			"NotFound":         problemResponse("No such resource."),
			"MethodNotAllowed": problemResponse("Leads are never deleted: rule `lead_soft_delete_only`.", "Allow"),
			"Conflict": problemResponse("Conflict: the email belongs to another lead (`existing_lead_id`), or " +
				"the lead is anonymized and can no longer be edited."),
			"PreconditionFailed":   problemResponse("If-Match does not match the lead's current ETag."),
			"PayloadTooLarge":      problemResponse("The body is larger than 64 KiB (CSV imports: 50 MiB)."),
			"UnsupportedMediaType": problemResponse("The Content-Type is not one this route accepts."),
			"ValidationFailed": problemResponse("Validation failed: `errors` lists every failing field at once, " +
				"`warnings` what was let through; a refused status move also lists `allowed`."),
			"TooManyRequests": problemResponse("Rate limited: rule `rate_limit_per_ip`.", "Retry-After"),
			"ServiceUnavailable": problemResponse("The database is not reachable (or not migrated); try again " +
				"shortly."),
			"InternalError": problemResponse("An internal error; it has been logged under `request_id`."),
		},
		"schemas": obj{
			"Problem": obj{
				"type":        "object",
				"description": "RFC 9457 problem details, with the service's extensions.",
				"required":    []string{"type", "title", "status"},
				"properties": obj{
					"type":   obj{"type": "string", "format": "uri", "examples": []string{problemBase + "validation"}},
					"title":  str(""),
					"status": obj{"type": "integer", "minimum": 400, "maximum": 599},
					"detail": str(""),
					"rule": str("The rule behind a refusal when no field is at fault, e.g. `rate_limit_per_ip`, " +
						"`lead_soft_delete_only`."),
					"errors": obj{"type": "array", "items": schemaRef("Issue"),
						"description": "Every failing field (422)."},
					"warnings": obj{"type": "array", "items": schemaRef("Issue"),
						"description": "Issues let through, e.g. `phone_format_validation` (422)."},
					"existing_lead_id": uuidStr("The lead that already has this email (409)."),
					"allowed": obj{"type": "array", "items": schemaRef("Status"),
						"description": "The statuses the lead may move to (422, `status_transition_enforcement`)."},
					"request_id": str("The id of the request in the server's log (also the X-Request-Id header)."),
				},
			},
			"Issue": withDesc(issue, "One failing (or warned) field. Rules: required_fields_present, "+
				"email_format_validation, phone_format_validation, message_length_limit, xss_sanitization, "+
				"status_enum_validation, consent_timestamp_consistency, field_length_limit, source_enum_validation, "+
				"invalid_characters, name_format_validation, gdpr_consent_required, status_transition_enforcement, "+
				"read_only_field, unknown_field, query_parameter_validation, webhook_url_not_allowed, "+
				"event_enum_validation."),
			"Status": obj{"type": "string", "enum": statuses,
				"description": "Pipeline order new → … → won; lost and disqualified from (almost) anywhere."},
			"Source": obj{"type": "string", "enum": sources},
			"Lead": obj{"type": "object", "required": leadRequired, "properties": leadProps,
				"description": "The seed's columns and anonymized_at; absent optional values are null."},
			"LeadCreate": obj{"type": "object", "additionalProperties": false, "properties": create,
				"required": []string{"first_name", "last_name", "email", "organization_name", "source",
					"consent_given", "consent_timestamp"}},
			"LeadPatch": obj{"type": "object", "additionalProperties": false, "properties": patch,
				"description": "JSON merge patch: keys left out stay, null clears an optional field."},
			"LeadList": object([]string{"items", "next_cursor"}, obj{
				"items":       arrayOf(schemaRef("Lead")),
				"next_cursor": nullable(str("Pass as `cursor` for the next page; null on the last page.")),
			}),
			"NoteRequest": obj{"type": "object", "additionalProperties": false, "required": []string{"text"},
				"properties": obj{"text": obj{"type": "string", "minLength": 1, "maxLength": store.MaxNotesLength}}},
			"Event": object([]string{"id", "type", "actor", "details", "created_at"}, obj{
				"id": uuidStr(""),
				"type": obj{"type": "string", "enum": []string{store.EventCreated, store.EventBookingLinked,
					store.EventUpdated, store.EventStatusChanged, store.EventNoteAdded, store.EventAnonymized,
					store.EventExported, store.EventImportLinked}},
				"actor":      str("The token's name, or `public` for the booking flow."),
				"details":    obj{"type": []string{"object", "null"}, "description": "E.g. {from, to}, {fields}; never personal data."},
				"created_at": dateTime(""),
			}),
			"Booking": bookingRow,
			"BookingRequest": obj{"type": "object", "properties": booking,
				"required":    []string{"first_name", "last_name", "email", "organization_name", "consent_given"},
				"description": "The public fields of a lead. Unknown keys are ignored; null is absent."},
			"BookingForm": obj{"type": "object", "properties": bookingForm,
				"required": []string{"first_name", "last_name", "email", "organization_name", "consent_given"}},
			"BookingAccepted": object([]string{"booking_id", "status", "warnings"}, obj{
				"booking_id": uuidStr("The booking reference."),
				"status":     obj{"type": "string", "const": "received"},
				"warnings":   arrayOf(schemaRef("Issue")),
			}),
			"PipelineStats": object([]string{"total", "by_status", "by_source", "bookings_by_campaign", "reached", "conversion"}, obj{
				"total":     obj{"type": "integer", "minimum": 0},
				"by_status": byEnum(statuses, "Leads per status, zeros included."),
				"by_source": byEnum(sources, "Leads per source, zeros included."),
				"bookings_by_campaign": arrayOf(object([]string{"utm_campaign", "bookings"}, obj{
					"utm_campaign": nullable(str("null: bookings without a campaign.")),
					"bookings":     obj{"type": "integer", "minimum": 0},
				})),
				"reached": obj{"type": "object", "additionalProperties": obj{"type": "integer", "minimum": 0},
					"description": "Per pipeline stage, the leads that ever reached it."},
				"conversion": arrayOf(object([]string{"from", "to", "reached_from", "reached_to", "rate"}, obj{
					"from": schemaRef("Status"), "to": schemaRef("Status"),
					"reached_from": obj{"type": "integer", "minimum": 0},
					"reached_to":   obj{"type": "integer", "minimum": 0},
					"rate": obj{"type": []string{"number", "null"}, "minimum": 0, "maximum": 1,
						"description": "reached_to / reached_from; null when no lead reached `from`."},
				})),
			}),
			"ErasureRequest": obj{"type": "object", "additionalProperties": false, "required": []string{"email"},
				"properties": obj{"email": str("The data subject's email address.")}},
			"ErasureResult": object([]string{"anonymized"}, obj{"anonymized": obj{"type": "integer", "enum": []int{0, 1}}}),
			"LeadExport": object([]string{"exported_at", "lead", "consent", "bookings", "events", "emails"}, obj{
				"exported_at": dateTime(""),
				"lead":        schemaRef("Lead"),
				"consent": object([]string{"consent_given", "consent_timestamp", "bookings"}, obj{
					"consent_given":     obj{"type": "boolean"},
					"consent_timestamp": nullable(dateTime("")),
					"bookings": arrayOf(object([]string{"booking_id", "consent_version", "consent_timestamp"}, obj{
						"booking_id": uuidStr(""), "consent_version": str(""), "consent_timestamp": dateTime(""),
						"ip_address": nullable(str("")), "user_agent": nullable(str("")),
					})),
				}),
				"bookings": arrayOf(schemaRef("Booking")),
				"events":   arrayOf(schemaRef("Event")),
				"emails": arrayOf(object([]string{"id", "booking_id", "status", "attempts", "created_at", "updated_at"}, obj{
					"id": str(""), "booking_id": str(""), "status": str("pending, running, done, failed or cancelled."),
					"attempts": obj{"type": "integer", "minimum": 0}, "last_error": nullable(str("")),
					"created_at": dateTime(""), "updated_at": dateTime(""),
				})),
			}),
			"ImportIssue": object([]string{"row", "field", "rule"}, obj{
				"row":     obj{"type": "integer", "minimum": 1, "description": "Rows are numbered from 1 after the header."},
				"field":   str("The column at fault, or `row`."),
				"rule":    str(""),
				"message": str(""),
			}),
			"ImportResult": object([]string{"created", "linked", "refused"}, obj{
				"created":         obj{"type": "integer", "minimum": 0},
				"linked":          obj{"type": "integer", "minimum": 0},
				"refused":         arrayOf(schemaRef("ImportIssue")),
				"warnings":        arrayOf(schemaRef("ImportIssue")),
				"ignored_columns": arrayOf(str("")),
			}),
			"WebhookEvent": obj{"type": "string", "enum": webhook.Events},
			"Webhook":      webhookObj,
			"WebhookCreate": obj{"type": "object", "additionalProperties": false, "required": []string{"url", "events"}, "properties": obj{
				"url":    obj{"type": "string", "format": "uri", "description": "http or https, not a private address."},
				"events": obj{"type": "array", "minItems": 1, "items": schemaRef("WebhookEvent")},
			}},
			"WebhookCreated": webhookCreated,
			"WebhookPatch": obj{"type": "object", "additionalProperties": false, "properties": obj{
				"url":    obj{"type": "string", "format": "uri"},
				"events": obj{"type": "array", "minItems": 1, "items": schemaRef("WebhookEvent")},
				"active": obj{"type": "boolean"},
			}},
			"WebhookDelivery": object([]string{"id", "event", "status", "attempts", "last_status_code", "updated_at"}, obj{
				"id":               str("The delivery's id: its webhook-id header."),
				"event":            schemaRef("WebhookEvent"),
				"lead_id":          uuidStr(""),
				"status":           obj{"type": "string", "enum": []string{"pending", "delivered", "failed"}},
				"attempts":         obj{"type": "integer", "minimum": 0},
				"last_status_code": obj{"type": []string{"integer", "null"}},
				"last_error":       nullable(str("")),
				"next_attempt_at":  nullable(dateTime("")),
				"created_at":       dateTime(""),
				"updated_at":       dateTime(""),
			}),
			"WebhookDeliveryList": object([]string{"items"}, obj{
				"items":       arrayOf(schemaRef("WebhookDelivery")),
				"next_cursor": nullable(str("Pass as `cursor` for the next page; null (or absent) on the last.")),
			}),
			"WebhookPayload": object([]string{"type", "timestamp", "data"}, obj{
				"type":      schemaRef("WebhookEvent"),
				"timestamp": dateTime(""),
				"data": object([]string{"lead"}, obj{
					"lead":    schemaRef("Lead"),
					"booking": obj{"type": "object", "description": "The booking, for booking.created."},
					"from":    schemaRef("Status"),
					"to":      schemaRef("Status"),
					"fields":  arrayOf(str("")),
				}),
			}),
			"Health": object([]string{"status"}, obj{
				"status":  obj{"type": "string", "const": "ok"},
				"version": str("The build's version."),
			}),
		},
	}
}

func withDesc(s obj, desc string) obj {
	s["description"] = desc
	return s
}
