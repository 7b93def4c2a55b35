// Package httpapi is the JSON HTTP API: every route in routes.go, one file per resource,
// domain errors mapped to RFC 9457 problems in one place (problem.go).
package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/store"
)

// Deps is everything the API needs; NewServer wires nothing else.
type Deps struct {
	Store    *store.Store
	Intake   *intake.Service
	Logger   *slog.Logger
	Now      func() time.Time
	ClientIP *ClientIP
	Version  string
	// Extra lets other packages (the web pages) register their routes on the same mux.
	Extra func(mux *http.ServeMux)
}

type server struct {
	Deps
	mux *http.ServeMux
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
	s := &server{Deps: d, mux: http.NewServeMux()}
	s.routes()
	if d.Extra != nil {
		d.Extra(s.mux)
	}
	return s.logRequests(s.recoverPanics(s.mux))
}

// maxBody is the largest request body accepted (413 beyond).
const maxBody = 64 << 10
