package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

const actorKey ctxKey = iota + 100

// staff guards a staff route: 401 without a valid, unrevoked bearer token (checked first),
// 403 when its role is not enough. The token's name is the actor of what the handler does.
// Every answer past the check is Cache-Control: no-store.
func (s *server) staff(need lead.Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="leads"`)
			s.writeError(w, r, lead.Errorf(lead.CodeUnauthorized, "a valid bearer token is required"))
			return
		}
		tok, err := s.Store.Authenticate(r.Context(), strings.TrimSpace(raw))
		if err != nil {
			if lead.ErrorCode(err) == lead.CodeUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="leads", error="invalid_token"`)
			}
			s.writeError(w, r, err)
			return
		}
		if !tok.Role.Allows(need) {
			s.writeError(w, r, lead.Errorf(lead.CodeForbidden, "this route needs the %s role", need))
			return
		}
		// staff answers carry personal data (leads, bookings, the audit trail) or secrets:
		// no cache keeps any of them, whatever the handler forgets
		w.Header().Set("Cache-Control", "no-store")
		h(w, r.WithContext(context.WithValue(r.Context(), actorKey, tok)))
	}
}

// actor is the token of the staff request being served.
func actor(r *http.Request) store.Token {
	t, _ := r.Context().Value(actorKey).(store.Token)
	return t
}
