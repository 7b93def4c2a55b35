package httpapi

// routes registers every route of the API in one place.
func (s *server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)

	s.mux.HandleFunc("POST /api/v1/bookings", s.handleCreateBooking)

	s.mux.HandleFunc("/api/", s.handleAPINotFound)
}
