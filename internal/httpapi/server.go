// Package httpapi is the JSON HTTP API: every route in routes.go, one file per resource,
// domain errors mapped to RFC 9457 problems in one place (problem.go).
package httpapi

import (
	"github.com/norsedigital/leads/internal/i18n"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/metrics"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/web"
	"github.com/norsedigital/leads/internal/webhook"
)

// Deps is everything the API needs; NewServer wires nothing else.
type Deps struct {
	Store    *store.Store
	Intake   *intake.Service
	Logger   *slog.Logger
	Now      func() time.Time
	ClientIP *ClientIP
	Version  string
	// Web, when set, serves the HTML pages (booking form, console) from routes.go.
	Web *web.Pages
	// Metrics, when set, records every request, and its /metrics page is served here
	// unless MetricsElsewhere (--admin-addr serves it instead).
	Metrics          *metrics.Metrics
	MetricsElsewhere bool
	// Webhooks checks webhook URLs (--allow-private-webhooks); nil refuses internal addresses.
	Webhooks *webhook.Guard
	// MaxImports is how many CSV imports may be read or run at once (0: DefaultMaxImports);
	// one more is answered 503 with Retry-After.
	MaxImports int
	// ImportIdleTimeout is how long an import upload may send nothing before it is cut
	// off (0: DefaultImportIdleTimeout).
	ImportIdleTimeout time.Duration
	// Demos are the demo settings (SPEC §13): offered slots and scheduling; nil offers none.
	Demos *store.DemoRules
	// HSTS, set when the service is reached over TLS (--public-url https://…), makes every
	// response carry Strict-Transport-Security.
	HSTS bool
}

type server struct {
	Deps
	mux     *routeMux
	openAPI func() openAPIDoc // GET /openapi.json, built on its first request
	// crossSite tells a browser's cross-site form post (Sec-Fetch-Site, else Origin
	// against Host) from a same-site or server-to-server one.
	crossSite *http.CrossOriginProtection
	// imports bounds the imports read or run at once (see imports.go).
	imports chan struct{}
	// cat translates errors[].message of problems (by Accept-Language, default en).
	cat *i18n.Catalog
}

// routeMux is a ServeMux that remembers the patterns registered on it, so that tests can
// hold the OpenAPI document against the routes the server really has.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// NewServer returns the service's handler with its middleware.
func NewServer(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.ClientIP == nil {
		d.ClientIP, _ = NewClientIP(nil)
	}
	s := &server{Deps: d, mux: &routeMux{ServeMux: http.NewServeMux()},
		crossSite: http.NewCrossOriginProtection(), imports: make(chan struct{}, max(d.MaxImports, 1)), cat: i18n.MustNewCatalog()}
	if d.MaxImports <= 0 {
		s.imports = make(chan struct{}, DefaultMaxImports)
	}
	s.openAPI = sync.OnceValue(func() openAPIDoc { return newOpenAPIDoc(d.Version) })
	s.routes()
	return s.logRequests(s.hsts(s.recordMetrics(s.recoverPanics(s.mux))))
}

// Routes returns every route pattern a server built from d registers, in order.
func Routes(d Deps) []string {
	s := &server{Deps: d, mux: &routeMux{ServeMux: http.NewServeMux()}}
	s.routes()
	return s.mux.patterns
}

// maxBody is the largest request body accepted (413 beyond).
const maxBody = 64 << 10
