package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/norsedigital/leads/internal/lead"
)

// leadColumns is the lead as the API shows it, in scanLead's order.
const leadColumns = `id, first_name, last_name, email, phone, organization_name, organization_type,
	organization_size, role_title, source, status, notes, message, utm_source, utm_medium, utm_campaign,
	ip_address, consent_given, consent_timestamp, created_at, updated_at, anonymized_at, language,
	owner_id, first_contacted_at, contact_due_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanLead(r rowScanner) (lead.Lead, error) {
	var (
		l                                                     lead.Lead
		phone, oType, oSize, role, notes, msg, us, um, uc, ip sql.NullString
		owner                                                 sql.NullString
		consentTS, anonymized, contacted, due                 nullTime
		source, status                                        string
	)
	err := r.Scan(&l.ID, &l.FirstName, &l.LastName, &l.Email, &phone, &l.OrganizationName, &oType,
		&oSize, &role, &source, &status, &notes, &msg, &us, &um, &uc,
		&ip, &l.ConsentGiven, &consentTS, (*dbTime)(&l.CreatedAt), (*dbTime)(&l.UpdatedAt), &anonymized, &l.Language,
		&owner, &contacted, &due)
	if err != nil {
		return l, err
	}
	l.Phone, l.OrganizationType, l.OrganizationSize, l.RoleTitle = strPtr(phone), strPtr(oType), strPtr(oSize), strPtr(role)
	l.Notes, l.Message, l.UTMSource, l.UTMMedium, l.UTMCampaign = strPtr(notes), strPtr(msg), strPtr(us), strPtr(um), strPtr(uc)
	l.IPAddress = strPtr(ip)
	l.Source, l.Status = lead.Source(source), lead.Status(status)
	l.ConsentTimestamp, l.AnonymizedAt = timePtr(consentTS), timePtr(anonymized)
	l.OwnerID, l.FirstContactedAt, l.ContactDueAt = strPtr(owner), timePtr(contacted), timePtr(due)
	return l, nil
}

// GetLead returns the lead with id, or lead.ErrNotFound.
func (s *Store) GetLead(ctx context.Context, id string) (lead.Lead, error) {
	return s.getLead(ctx, s.read, id)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) getLead(ctx context.Context, q querier, id string) (lead.Lead, error) {
	if !validID(id) {
		return lead.Lead{}, lead.ErrNotFound
	}
	l, err := scanLead(q.QueryRowContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, lead.ErrNotFound
	}
	return l, s.mapErr(err)
}
