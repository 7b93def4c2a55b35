package lead

import (
	"encoding/json"
	"time"
)

// Event is one row of a lead's audit trail. Details never hold personal data.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	ActorID   *string         `json:"actor_id"` // the member who acted, when a member did
	Details   json.RawMessage `json:"details"`
	CreatedAt time.Time       `json:"created_at"`
}

// Event types and actors of the audit trail.
const (
	EventCreated       = "created"
	EventBookingLinked = "booking_linked"
	EventUpdated       = "updated"
	EventStatusChanged = "status_changed"
	EventNoteAdded     = "note_added"
	EventAnonymized    = "anonymized"
	EventExported      = "exported"
	// EventImportLinked is the audit event of an import row that matched an existing lead
	// (the import's booking_linked).
	EventImportLinked = "import_linked"

	ActorPublic = "public"
)

// BookingRecord is one accepted demo booking as submitted and stored, with what the edge
// knew about it.
type BookingRecord struct {
	ID               string    `json:"id"`
	LeadID           string    `json:"lead_id"`
	FirstName        string    `json:"first_name"`
	LastName         string    `json:"last_name"`
	Email            string    `json:"email"`
	Phone            *string   `json:"phone"`
	OrganizationName string    `json:"organization_name"`
	OrganizationType *string   `json:"organization_type"`
	OrganizationSize *string   `json:"organization_size"`
	RoleTitle        *string   `json:"role_title"`
	Message          *string   `json:"message"`
	UTMSource        *string   `json:"utm_source"`
	UTMMedium        *string   `json:"utm_medium"`
	UTMCampaign      *string   `json:"utm_campaign"`
	IPAddress        *string   `json:"ip_address"`
	UserAgent        *string   `json:"user_agent"`
	ConsentVersion   string    `json:"consent_version"`
	ConsentTimestamp time.Time `json:"consent_timestamp"`
	CreatedAt        time.Time `json:"created_at"`
	Language         string    `json:"language"` // the booking's negotiated language, "nb" or "en"
	// PreferredTimes are the demo slots the prospect chose (SPEC §13); [] when none.
	PreferredTimes []time.Time `json:"preferred_times"`
}
