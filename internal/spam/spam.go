// Package spam is the cryptography of SPEC §15's spam defence, with no third party: the
// ALTCHA proof of work (challenge and verification, crypto/sha256 and crypto/hmac) and the
// signed time stamp of the booking form. The HMAC key comes from the database (one key for
// every instance); whether a challenge was used before is the store's (a primary key).
package spam

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Policy is --spam-policy: what happens to a public booking that fails the check.
type Policy string

const (
	// PolicyHold keeps it as a held submission for review, and answers the usual 201.
	PolicyHold Policy = "hold"
	// PolicyRefuse answers 422 spam_check_failed.
	PolicyRefuse Policy = "refuse"
	// PolicyOff checks nothing.
	PolicyOff Policy = "off"
)

// ParsePolicy reads --spam-policy.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(strings.ToLower(strings.TrimSpace(s))); p {
	case PolicyHold, PolicyRefuse, PolicyOff:
		return p, nil
	}
	return "", fmt.Errorf("spam policy %q: want hold, refuse or off", s)
}

// Reasons a booking failed the check; they are stored with a held submission and logged
// (they carry no personal data).
const (
	ReasonMissing      = "pow_missing"        // no altcha solution
	ReasonMalformed    = "pow_malformed"      // not base64 of the payload JSON
	ReasonBadSignature = "pow_bad_signature"  // not a challenge this service signed (forged)
	ReasonExpired      = "pow_expired"        // past its expires, or expiring too far ahead
	ReasonWrongNumber  = "pow_wrong_solution" // the number does not solve the challenge
	ReasonReplayed     = "pow_replayed"       // the challenge was used before
	ReasonFormTooFast  = "form_too_fast"      // posted less than the minimum form age after it was served
	ReasonFormStampBad = "form_stamp_invalid" // the form's time stamp is missing or forged
)

const (
	// Algorithm is the only ALTCHA algorithm served and accepted.
	Algorithm = "SHA-256"
	// DefaultMaxNumber is --pow-maxnumber's default: about a quarter of a second of a
	// phone's SHA-256 on average, nothing for a person, a cost per booking for a bot.
	DefaultMaxNumber = 50000
	// ChallengeTTL is how long a challenge can be solved and submitted (SPEC: ≤ 20 minutes).
	ChallengeTTL = 20 * time.Minute
	// MinFormAge is the default least time between serving the form and its post.
	MinFormAge = 3 * time.Second
)

// Challenge is the answer of GET /api/v1/challenge, in the ALTCHA scheme.
type Challenge struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	MaxNumber int64  `json:"maxnumber"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// Payload is what a client submits, base64 of its JSON, as the altcha field or member.
type Payload struct {
	Algorithm string `json:"algorithm"`
	Challenge string `json:"challenge"`
	Number    int64  `json:"number"`
	Salt      string `json:"salt"`
	Signature string `json:"signature"`
}

// Hash is the ALTCHA challenge of salt and number: hex SHA-256 of salt followed by the
// number in decimal.
func Hash(salt string, number int64) string {
	sum := sha256.Sum256([]byte(salt + strconv.FormatInt(number, 10)))
	return hex.EncodeToString(sum[:])
}

// Sign is the ALTCHA signature of a challenge: hex HMAC-SHA-256 under key.
func Sign(key []byte, challenge string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(challenge))
	return hex.EncodeToString(m.Sum(nil))
}

// NewChallenge makes a challenge for a secret random number in [0, maxNumber] that
// expires ChallengeTTL after now. The salt is random hex with "?expires=<unix seconds>&":
// the closing "&" stops a solver from moving digits between the salt and the number
// (salt "…expires=17" + number 123 hashes like salt "…expires=171" + number 23), which
// would let it push the expiry forward.
func NewChallenge(key []byte, maxNumber int64, now time.Time) Challenge {
	if maxNumber < 1 {
		maxNumber = 1
	}
	var b [12]byte
	rand.Read(b[:])
	salt := hex.EncodeToString(b[:]) + "?expires=" + strconv.FormatInt(now.Add(ChallengeTTL).Unix(), 10) + "&"
	n, _ := rand.Int(rand.Reader, big.NewInt(maxNumber+1))
	ch := Hash(salt, n.Int64())
	return Challenge{Algorithm: Algorithm, Challenge: ch, MaxNumber: maxNumber, Salt: salt, Signature: Sign(key, ch)}
}

// saltShape is the salt NewChallenge makes; anything else was not made here.
var saltShape = regexp.MustCompile(`^[0-9a-f]{24}\?expires=([0-9]{1,12})&$`)

// Verified is a solution that passed Verify: the challenge to mark used, until Expires.
type Verified struct {
	Challenge string
	Expires   time.Time
}

// Verify checks an encoded solution (base64 of the Payload JSON, standard or URL
// alphabet, padded or not) against key at now: signature, expiry, and that the number
// solves the challenge. It returns the reason of a failure, "" when the solution holds.
// Single use is the caller's: mark Verified.Challenge used, atomically, before trusting it.
func Verify(key []byte, encoded string, now time.Time) (Verified, string) {
	encoded = strings.TrimSpace(encoded)
	if encoded == "" {
		return Verified{}, ReasonMissing
	}
	if len(encoded) > 2048 {
		return Verified{}, ReasonMalformed
	}
	raw, err := decodeBase64(encoded)
	if err != nil {
		return Verified{}, ReasonMalformed
	}
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil || p.Algorithm != Algorithm || len(p.Challenge) != 64 || p.Number < 0 {
		return Verified{}, ReasonMalformed
	}
	if !hmac.Equal([]byte(Sign(key, p.Challenge)), []byte(strings.ToLower(p.Signature))) {
		return Verified{}, ReasonBadSignature
	}
	m := saltShape.FindStringSubmatch(p.Salt)
	if m == nil {
		return Verified{}, ReasonBadSignature // signed, but not with a salt of ours
	}
	exp, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return Verified{}, ReasonMalformed
	}
	expires := time.Unix(exp, 0)
	if !now.Before(expires) || expires.Sub(now) > ChallengeTTL+time.Minute {
		return Verified{}, ReasonExpired
	}
	if !hmac.Equal([]byte(Hash(p.Salt, p.Number)), []byte(p.Challenge)) {
		return Verified{}, ReasonWrongNumber
	}
	return Verified{Challenge: p.Challenge, Expires: expires}, ""
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64")
}

// Solve finds the number of a challenge by trying 0…MaxNumber, as the browser's worker
// does; for API clients written in Go and for the load benchmark. ok is false when no
// number up to MaxNumber solves it.
func Solve(c Challenge) (Payload, bool) {
	want, err := hex.DecodeString(c.Challenge)
	if err != nil || len(want) != sha256.Size {
		return Payload{}, false
	}
	buf := make([]byte, 0, len(c.Salt)+20)
	buf = append(buf, c.Salt...)
	for n := int64(0); n <= c.MaxNumber; n++ {
		b := strconv.AppendInt(buf[:len(c.Salt)], n, 10)
		sum := sha256.Sum256(b)
		if hmac.Equal(sum[:], want) {
			return Payload{Algorithm: c.Algorithm, Challenge: c.Challenge, Number: n, Salt: c.Salt, Signature: c.Signature}, true
		}
	}
	return Payload{}, false
}

// Encode is the form field or JSON member value of a solution: base64 of its JSON.
func (p Payload) Encode() string {
	b, _ := json.Marshal(p)
	return base64.StdEncoding.EncodeToString(b)
}

// Stamp is the booking form's signed time stamp: when the form was served, in unix
// milliseconds, and an HMAC of it under key (domain-separated from challenge signatures,
// which sign 64 hex digits).
func Stamp(key []byte, t time.Time) string {
	ms := strconv.FormatInt(t.UnixMilli(), 10)
	return ms + "." + Sign(key, "form-stamp:"+ms)
}

// CheckStamp returns "" when stamp is one of ours and at least minAge old at now, else
// the reason. A stamp from the future (clock skew between instances) counts as too fast.
func CheckStamp(key []byte, stamp string, now time.Time, minAge time.Duration) string {
	ms, sig, ok := strings.Cut(stamp, ".")
	if !ok || len(ms) == 0 || len(ms) > 15 {
		return ReasonFormStampBad
	}
	if !hmac.Equal([]byte(Sign(key, "form-stamp:"+ms)), []byte(sig)) {
		return ReasonFormStampBad
	}
	v, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return ReasonFormStampBad
	}
	if now.Sub(time.UnixMilli(v)) < minAge {
		return ReasonFormTooFast
	}
	return ""
}

// ValidReason reports whether r is one of the reasons a booking is held for.
func ValidReason(r string) bool {
	switch r {
	case ReasonMissing, ReasonMalformed, ReasonBadSignature, ReasonExpired, ReasonWrongNumber, ReasonReplayed,
		ReasonFormTooFast, ReasonFormStampBad:
		return true
	}
	return false
}
