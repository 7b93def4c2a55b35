package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// Token is a staff API token as stored: never the raw token. A member's token (StaffID
// set) acts as that member, with the member's name and role; a service token acts under its
// own name and role. A console session opened by email link or single sign-on carries a
// Token with no ID, standing for the member.
type Token struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      lead.Role  `json:"role"`
	StaffID   string     `json:"staff_id,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// Actor is who acts when t is used: the member, or the service token by name.
func (t Token) Actor() lead.Actor { return lead.Actor{Name: t.Name, StaffID: t.StaffID} }

// tokenPrefix makes leaked tokens recognizable to secret scanners.
const tokenPrefix = "lds_"

// HashToken is the stored form of a raw token.
func HashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// CreateToken makes a new random token (256 bits) for name and role, stores its hash and
// returns the raw token, which exists nowhere else afterwards.
func (s *Store) CreateToken(ctx context.Context, name string, role lead.Role) (string, Token, error) {
	return s.createToken(ctx, name, role, "")
}

func (s *Store) createToken(ctx context.Context, name string, role lead.Role, staffID string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", Token{}, lead.Errorf(lead.CodeInvalid, "a token needs a name of 1 to 100 characters")
	}
	if _, ok := lead.ParseRole(string(role)); !ok {
		return "", Token{}, lead.Errorf(lead.CodeInvalid, "role must be sales or admin")
	}
	var b [32]byte
	rand.Read(b[:])
	raw := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	t := Token{ID: newID(), Name: name, Role: role, StaffID: staffID, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_tokens (id, name, role, token_hash, created_at, staff_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, t.Name, string(t.Role), HashToken(raw), ts(t.CreatedAt), nullStr(staffID))
	if s.isUnique(err) {
		return "", Token{}, lead.Errorf(lead.CodeConflict, "a live token with this name already exists")
	}
	if err != nil {
		return "", Token{}, s.mapErr(err)
	}
	return raw, t, nil
}

// tokenPrincipal selects a token as it acts (scanPrincipal's order): a member's token with
// the member's name and current role, and only while the member is active.
const tokenPrincipal = `t.id, COALESCE(m.name, t.name), COALESCE(m.role, t.role), t.staff_id, t.created_at
	FROM api_tokens t LEFT JOIN staff m ON m.id = t.staff_id
	WHERE t.revoked_at IS NULL AND (t.staff_id IS NULL OR m.active)`

// Authenticate returns the live token whose hash matches raw, or CodeUnauthorized. A
// member's token acts as the member, and stops working when the member is deactivated.
func (s *Store) Authenticate(ctx context.Context, raw string) (Token, error) {
	unauthorized := lead.Errorf(lead.CodeUnauthorized, "a valid bearer token is required")
	if !strings.HasPrefix(raw, tokenPrefix) || len(raw) > 100 {
		return Token{}, unauthorized
	}
	want := HashToken(raw)
	var t Token
	var hash, role string
	var staffID sql.NullString
	err := s.read.QueryRowContext(ctx, `SELECT t.token_hash, `+tokenPrincipal+` AND t.token_hash = $1`, want).
		Scan(&hash, &t.ID, &t.Name, &role, &staffID, (*dbTime)(&t.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, unauthorized
	}
	if err != nil {
		return Token{}, s.mapErr(err)
	}
	// the index found it; compare again in constant time so no code path branches on a
	// partial match
	if subtle.ConstantTimeCompare([]byte(hash), []byte(want)) != 1 {
		return Token{}, unauthorized
	}
	t.Role, t.StaffID = lead.Role(role), staffID.String
	return t, nil
}

// ListTokens returns every token, live and revoked, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, role, COALESCE(CAST(staff_id AS TEXT), ''), created_at, revoked_at FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var role string
		var revoked nullTime
		if err := rows.Scan(&t.ID, &t.Name, &role, &t.StaffID, (*dbTime)(&t.CreatedAt), &revoked); err != nil {
			return nil, err
		}
		t.Role, t.RevokedAt = lead.Role(role), timePtr(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes the live token called name, or returns lead.ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL`,
		strings.TrimSpace(name), ts(s.now()))
	if err != nil {
		return s.mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return lead.ErrNotFound
	}
	return nil
}
