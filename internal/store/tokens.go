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

// Token is a staff API token as stored: never the raw token.
type Token struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      lead.Role  `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

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
	t := Token{ID: newID(), Name: name, Role: role, CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_tokens (id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		t.ID, t.Name, string(t.Role), HashToken(raw), ts(t.CreatedAt))
	if s.isUnique(err) {
		return "", Token{}, lead.Errorf(lead.CodeConflict, "a live token with this name already exists")
	}
	if err != nil {
		return "", Token{}, s.mapErr(err)
	}
	return raw, t, nil
}

// Authenticate returns the live token whose hash matches raw, or CodeUnauthorized.
func (s *Store) Authenticate(ctx context.Context, raw string) (Token, error) {
	unauthorized := lead.Errorf(lead.CodeUnauthorized, "a valid bearer token is required")
	if !strings.HasPrefix(raw, tokenPrefix) || len(raw) > 100 {
		return Token{}, unauthorized
	}
	want := HashToken(raw)
	var t Token
	var hash, role string
	err := s.read.QueryRowContext(ctx, `SELECT id, name, role, token_hash, created_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, want).
		Scan(&t.ID, &t.Name, &role, &hash, (*dbTime)(&t.CreatedAt))
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
	t.Role = lead.Role(role)
	return t, nil
}

// ListTokens returns every token, live and revoked, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var role string
		var revoked nullTime
		if err := rows.Scan(&t.ID, &t.Name, &role, (*dbTime)(&t.CreatedAt), &revoked); err != nil {
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
