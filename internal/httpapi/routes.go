package httpapi

import (
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/web"
)

// routes registers every route of the API in one place.
func (s *server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.mux.HandleFunc("GET /openapi.json", s.handleOpenAPI)
	if s.Metrics != nil && !s.MetricsElsewhere {
		// on the public address the counters would tell anyone whether an email is already a
		// lead (deduplicated vs accepted) and show bots the honeypot: admins only. The
		// --admin-addr listener serves them open (cmd/leads/serve.go).
		s.mux.HandleFunc("GET /metrics", s.staff(lead.RoleAdmin, s.Metrics.Handler().ServeHTTP))
	}

	s.mux.HandleFunc("POST /api/v1/bookings", s.handleCreateBooking)

	// staff: one lead
	s.mux.HandleFunc("POST /api/v1/leads", s.staff(lead.RoleSales, s.handleCreateLead))
	s.mux.HandleFunc("GET /api/v1/leads/{id}", s.staff(lead.RoleSales, s.handleGetLead))
	s.mux.HandleFunc("PATCH /api/v1/leads/{id}", s.staff(lead.RoleSales, s.handlePatchLead))
	s.mux.HandleFunc("DELETE /api/v1/leads/{id}", s.staff(lead.RoleSales, s.handleDeleteLead))
	s.mux.HandleFunc("POST /api/v1/leads/{id}/notes", s.staff(lead.RoleSales, s.handleAddNote))
	s.mux.HandleFunc("GET /api/v1/leads/{id}/events", s.staff(lead.RoleSales, s.handleLeadEvents))
	s.mux.HandleFunc("GET /api/v1/leads/{id}/bookings", s.staff(lead.RoleSales, s.handleLeadBookings))

	// staff: lists, export, statistics
	s.mux.HandleFunc("GET /api/v1/leads", s.staff(lead.RoleSales, s.handleListLeads))
	s.mux.HandleFunc("GET /api/v1/leads.csv", s.staff(lead.RoleSales, s.handleExportCSV))
	s.mux.HandleFunc("GET /api/v1/stats/pipeline", s.staff(lead.RoleSales, s.handlePipelineStats))

	// admin: privacy
	s.mux.HandleFunc("POST /api/v1/leads/{id}/anonymize", s.staff(lead.RoleAdmin, s.handleAnonymize))
	s.mux.HandleFunc("POST /api/v1/erasure-requests", s.staff(lead.RoleAdmin, s.handleErasureRequest))
	s.mux.HandleFunc("GET /api/v1/leads/{id}/export", s.staff(lead.RoleAdmin, s.handleExport))

	// admin: webhooks
	s.mux.HandleFunc("POST /api/v1/webhooks", s.staff(lead.RoleAdmin, s.handleCreateWebhook))
	s.mux.HandleFunc("GET /api/v1/webhooks", s.staff(lead.RoleAdmin, s.handleListWebhooks))
	s.mux.HandleFunc("GET /api/v1/webhooks/{id}", s.staff(lead.RoleAdmin, s.handleGetWebhook))
	s.mux.HandleFunc("PATCH /api/v1/webhooks/{id}", s.staff(lead.RoleAdmin, s.handlePatchWebhook))
	s.mux.HandleFunc("DELETE /api/v1/webhooks/{id}", s.staff(lead.RoleAdmin, s.handleDeleteWebhook))
	s.mux.HandleFunc("GET /api/v1/webhooks/{id}/deliveries", s.staff(lead.RoleAdmin, s.handleWebhookDeliveries))
	s.mux.HandleFunc("POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", s.staff(lead.RoleAdmin, s.handleRedeliver))

	// staff: imports
	s.mux.HandleFunc("POST /api/v1/imports", s.staff(lead.RoleSales, s.handleImport))

	// spam defence (SPEC §15): the public challenge, held submissions, the blocklist
	s.mux.HandleFunc("GET /api/v1/challenge", s.handleChallenge)
	s.mux.HandleFunc("GET /api/v1/held-bookings", s.staff(lead.RoleSales, s.handleListHeld))
	s.mux.HandleFunc("POST /api/v1/held-bookings/{id}/release", s.staff(lead.RoleSales, s.handleReleaseHeld))
	s.mux.HandleFunc("POST /api/v1/held-bookings/{id}/discard", s.staff(lead.RoleSales, s.handleDiscardHeld))
	s.mux.HandleFunc("POST /api/v1/blocklist", s.staff(lead.RoleAdmin, s.handleAddBlock))
	s.mux.HandleFunc("GET /api/v1/blocklist", s.staff(lead.RoleAdmin, s.handleListBlocks))
	s.mux.HandleFunc("DELETE /api/v1/blocklist/{id}", s.staff(lead.RoleAdmin, s.handleDeleteBlock))
	// the sales team (SPEC §11)
	s.mux.HandleFunc("GET /api/v1/staff", s.staff(lead.RoleSales, s.handleListStaff))
	s.mux.HandleFunc("POST /api/v1/staff", s.staff(lead.RoleAdmin, s.handleCreateStaff))
	s.mux.HandleFunc("PATCH /api/v1/staff/{id}", s.staff(lead.RoleAdmin, s.handlePatchStaff))
	s.mux.HandleFunc("GET /api/v1/me", s.staff(lead.RoleSales, s.handleMe))
	// demos (SPEC §13)
	s.mux.HandleFunc("GET /api/v1/demo-slots", s.handleDemoSlots)
	s.mux.HandleFunc("PUT /api/v1/leads/{id}/demo", s.staff(lead.RoleSales, s.handleScheduleDemo))
	s.mux.HandleFunc("DELETE /api/v1/leads/{id}/demo", s.staff(lead.RoleSales, s.handleCancelDemo))
	s.mux.HandleFunc("POST /api/v1/leads/{id}/demo/outcome", s.staff(lead.RoleSales, s.handleDemoOutcome))

	s.mux.HandleFunc("/api/", s.handleAPINotFound)

	// web pages
	if w := s.Web; w != nil {
		s.mux.Handle("GET /static/", w.Static())
		s.mux.Handle("GET /{$}", w.Public(w.BookingForm))
		s.mux.Handle("POST /{$}", w.Public(w.SubmitBooking))
		s.mux.Handle("GET /thanks", w.Public(w.Thanks))
		s.mux.Handle("GET /privacy", w.Public(w.Privacy))
		s.mux.Handle("GET /console", w.Console(w.ConsoleHome))
		s.mux.Handle("GET /console/sign-in", w.Console(w.SignInForm))
		s.mux.Handle("POST /console/sign-in", w.Console(w.SignIn))
		s.mux.Handle("POST /console/sign-out", w.Staff(lead.RoleSales, w.SignOut))
		s.mux.Handle("GET /console/leads", w.Staff(lead.RoleSales, w.LeadList))
		s.mux.Handle("GET /console/leads/{id}", w.Staff(lead.RoleSales, w.LeadPage))
		s.mux.Handle("POST /console/leads/{id}/status", w.Staff(lead.RoleSales, w.ChangeStatus))
		s.mux.Handle("POST /console/leads/{id}/notes", w.Staff(lead.RoleSales, w.AddNote))
		s.mux.Handle("POST /console/leads/{id}/owner", w.Staff(lead.RoleSales, w.AssignLead))
		s.mux.Handle("GET /console/leads/{id}/anonymize", w.Staff(lead.RoleAdmin, w.ConfirmAnonymize))
		s.mux.Handle("POST /console/leads/{id}/anonymize", w.Staff(lead.RoleAdmin, w.Anonymize))
		s.mux.Handle("GET /console/stats", w.Staff(lead.RoleSales, w.Stats))
		s.mux.Handle("GET /console/import", w.Staff(lead.RoleSales, w.ImportForm))
		s.mux.Handle("POST /console/import", w.StaffUpload(lead.RoleSales, web.MaxImportUpload, w.Import))
		s.mux.Handle("GET /console/review", w.Staff(lead.RoleSales, w.Review))
		s.mux.Handle("POST /console/review/{id}/release", w.Staff(lead.RoleSales, w.ReleaseHeld))
		s.mux.Handle("POST /console/review/{id}/discard", w.Staff(lead.RoleSales, w.DiscardHeld))
		s.mux.Handle("POST /console/blocklist", w.Staff(lead.RoleAdmin, w.AddBlock))
		s.mux.Handle("POST /console/blocklist/{id}/delete", w.Staff(lead.RoleAdmin, w.DeleteBlock))
		// people sign in by email link or single sign-on (SPEC §11); admins keep the team
		s.mux.Handle("POST /console/sign-in/email", w.Console(w.RequestLink))
		s.mux.Handle("GET /console/sign-in/link", w.Console(w.LinkPage))
		s.mux.Handle("POST /console/sign-in/link", w.Console(w.UseLink))
		s.mux.Handle("POST /console/oidc/start", w.Console(w.OIDCStart))
		s.mux.Handle("GET /console/oidc/callback", w.Console(w.OIDCCallback))
		s.mux.Handle("GET /console/team", w.Staff(lead.RoleAdmin, w.Team))
		s.mux.Handle("POST /console/team", w.Staff(lead.RoleAdmin, w.AddMember))
		s.mux.Handle("GET /console/team/{id}", w.Staff(lead.RoleAdmin, w.MemberPage))
		s.mux.Handle("POST /console/team/{id}", w.Staff(lead.RoleAdmin, w.SaveMember))
		s.mux.Handle("POST /console/team/{id}/active", w.Staff(lead.RoleAdmin, w.SetMemberActive))
		s.mux.Handle("POST /console/leads/{id}/demo", w.Staff(lead.RoleSales, w.ScheduleDemo))
		s.mux.Handle("POST /console/leads/{id}/demo/cancel", w.Staff(lead.RoleSales, w.CancelDemo))
		s.mux.Handle("POST /console/leads/{id}/demo/outcome", w.Staff(lead.RoleSales, w.DemoOutcome))
		s.mux.Handle("GET /console/demos", w.Staff(lead.RoleSales, w.DemosPage))
		s.mux.Handle("/console/", w.Console(w.NotFound))
		// the prospect's own page (SPEC §14)
		s.mux.Handle("GET /my", w.SelfService(w.MyRequestForm))
		s.mux.Handle("POST /my", w.SelfService(w.MyRequest))
		s.mux.Handle("GET /my/{token}", w.SelfService(w.MyPage))
		s.mux.Handle("POST /my/{token}/export", w.SelfService(w.MyExport))
		s.mux.Handle("POST /my/{token}/details", w.SelfService(w.MyCorrect))
		s.mux.Handle("GET /my/{token}/erase", w.SelfService(w.MyConfirmErase))
		s.mux.Handle("POST /my/{token}/erase", w.SelfService(w.MyErase))
		s.mux.Handle("POST /my/{token}/demo", w.SelfService(w.MyMoveDemo))
		s.mux.Handle("POST /my/{token}/demo/cancel", w.SelfService(w.MyCancelDemo))
		s.mux.Handle("/my/", w.SelfService(w.MyNotFound))
	}
}
