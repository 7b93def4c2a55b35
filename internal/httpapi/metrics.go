package httpapi

import (
	"net/http"
	"time"
)

// recordMetrics counts every request and its latency by route pattern and status. It runs
// inside logRequests and reuses its status recorder, and reads r.Pattern from the request
// the mux saw (a request copied with WithContext further out would not have it).
func (s *server) recordMetrics(next http.Handler) http.Handler {
	if s.Metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec, ok := w.(*statusRecorder)
		if !ok {
			rec = &statusRecorder{ResponseWriter: w}
		}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched" // never the raw path: unbounded labels, and it may carry personal data
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		s.Metrics.ObserveRequest(route, status, time.Since(start))
	})
}
