package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// The sales team (SPEC §11): members, whose email is unique (normalized like a lead's).

const memberColumns = `id, name, email, role, language, weight, active, away_until, created_at, updated_at`

func scanMember(r rowScanner) (lead.Member, error) {
	var m lead.Member
	var role string
	var away nullTime
	err := r.Scan(&m.ID, &m.Name, &m.Email, &role, &m.Language, &m.Weight, &m.Active, &away,
		(*dbTime)(&m.CreatedAt), (*dbTime)(&m.UpdatedAt))
	m.Role, m.AwayUntil = lead.Role(role), timePtr(away)
	return m, err
}

// CreateMember adds a member of the team: name, email and role required; language nb and
// weight 1 unless given. A taken email is CodeConflict.
func (s *Store) CreateMember(ctx context.Context, in lead.MemberInput) (lead.Member, error) {
	if err := lead.ValidateMember(in, true); err != nil {
		return lead.Member{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	m := lead.Member{ID: newID(), Language: "nb", Weight: 1, Active: true, CreatedAt: now, UpdatedAt: now}
	applyMember(&m, in)
	_, err := s.write.ExecContext(ctx, `INSERT INTO staff (id, name, email, email_normalized, role, language, weight, active, away_until, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
		m.ID, m.Name, m.Email, lead.NormalizeEmail(m.Email), string(m.Role), m.Language, m.Weight, m.Active, tsPtr(m.AwayUntil), ts(now))
	if s.isUnique(err) {
		return lead.Member{}, errMemberEmailTaken()
	}
	if err != nil {
		return lead.Member{}, s.mapErr(err)
	}
	return m, nil
}

// applyMember sets the fields that in gives (validated) on m.
func applyMember(m *lead.Member, in lead.MemberInput) {
	if in.Name != nil {
		m.Name = strings.TrimSpace(*in.Name)
	}
	if in.Email != nil {
		m.Email = strings.TrimSpace(*in.Email)
	}
	if in.Role != nil {
		m.Role = lead.Role(*in.Role)
	}
	if in.Language != nil {
		m.Language = *in.Language
	}
	if in.Weight != nil {
		m.Weight = *in.Weight
	}
	if in.Active != nil {
		m.Active = *in.Active
	}
	if in.AwayUntil != nil {
		m.AwayUntil = in.AwayUntil
	}
	if in.ClearAway {
		m.AwayUntil = nil
	}
}

func errMemberEmailTaken() error {
	return lead.Errorf(lead.CodeConflict, "a member with this email already exists")
}

// GetMember returns the member with id, or lead.ErrNotFound.
func (s *Store) GetMember(ctx context.Context, id string) (lead.Member, error) {
	if !validID(id) {
		return lead.Member{}, lead.ErrNotFound
	}
	return s.oneMember(ctx, s.read, `SELECT `+memberColumns+` FROM staff WHERE id = $1`, id)
}

// MemberByEmail returns the member whose normalized email is email's, or lead.ErrNotFound.
func (s *Store) MemberByEmail(ctx context.Context, email string) (lead.Member, error) {
	return s.oneMember(ctx, s.read, `SELECT `+memberColumns+` FROM staff WHERE email_normalized = $1`, lead.NormalizeEmail(email))
}

func (s *Store) oneMember(ctx context.Context, q querier, query string, args ...any) (lead.Member, error) {
	m, err := scanMember(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return m, lead.ErrNotFound
	}
	return m, s.mapErr(err)
}

// ListMembers returns every member, active ones first, then by name.
func (s *Store) ListMembers(ctx context.Context) ([]lead.Member, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+memberColumns+` FROM staff ORDER BY active DESC, name, id`)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	out := []lead.Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, s.mapErr(err)
		}
		out = append(out, m)
	}
	return out, s.mapErr(rows.Err())
}

// UpdateMember changes the given fields of the member id in one transaction; a member who
// stops being an active member (deactivated) hands their open leads on by the assignment
// rule in the same transaction (memberDeactivated).
func (s *Store) UpdateMember(ctx context.Context, id string, in lead.MemberInput, actor lead.Actor) (lead.Member, error) {
	if err := lead.ValidateMember(in, false); err != nil {
		return lead.Member{}, err
	}
	if !validID(id) {
		return lead.Member{}, lead.ErrNotFound
	}
	var out lead.Member
	err := s.e.writeTx(ctx, s, func(ctx context.Context, tx *sql.Tx) error {
		// the rule's lock before the member's row: a choice of the rule holding the lock may
		// be about to count this member (assign.go)
		if err := s.e.lockAssignment(ctx, tx); err != nil {
			return err
		}
		cur, err := s.oneMember(ctx, tx, `SELECT `+memberColumns+` FROM staff WHERE id = $1 `+s.e.forUpdate(), id)
		if err != nil {
			return err
		}
		m := cur
		applyMember(&m, in)
		now := s.now().UTC().Truncate(time.Microsecond)
		m.UpdatedAt = now
		_, err = tx.ExecContext(ctx, `UPDATE staff SET name = $2, email = $3, email_normalized = $4, role = $5, language = $6,
	weight = $7, active = $8, away_until = $9, updated_at = $10 WHERE id = $1`,
			id, m.Name, m.Email, lead.NormalizeEmail(m.Email), string(m.Role), m.Language, m.Weight, m.Active, tsPtr(m.AwayUntil), ts(now))
		if s.isUnique(err) {
			return errMemberEmailTaken()
		}
		if err != nil {
			return err
		}
		if cur.Active && !m.Active {
			if err := s.memberDeactivated(ctx, tx, m.ID, actor, now); err != nil {
				return err
			}
		}
		out = m
		return nil
	})
	if err != nil {
		return lead.Member{}, s.mapErr(err)
	}
	return out, nil
}

// CreateMemberToken makes a token that acts as the active member with email (SPEC §11:
// `token create --staff`). Like every token, only its hash is stored.
func (s *Store) CreateMemberToken(ctx context.Context, email string) (string, Token, error) {
	m, err := s.MemberByEmail(ctx, email)
	if err != nil {
		return "", Token{}, err
	}
	if !m.Active {
		return "", Token{}, lead.Errorf(lead.CodeConflict, "the member is not active")
	}
	// a member may hold several tokens; the name only tells them apart in `token list`
	raw, t, err := s.createToken(ctx, m.Email+" #"+newID()[24:], m.Role, m.ID)
	if err != nil {
		return "", Token{}, err
	}
	t.Name, t.StaffID = m.Name, m.ID
	return raw, t, nil
}
