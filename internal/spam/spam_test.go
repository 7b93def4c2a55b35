package spam

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The ALTCHA scheme's published example: altcha-lib-go's v1/altcha_test.go solves the
// challenge c2fc6c6a… of salt "salt" with the number 123 ("Example hash for salt123").
// The signature under "test-key" is not published there; it was computed independently
// with `printf %s c2fc… | openssl dgst -sha256 -hmac test-key` (a worked example).
const (
	exampleSalt      = "salt"
	exampleNumber    = 123
	exampleChallenge = "c2fc6c6adf8ba0f575a35f48df52c0968a3dcd3c577c2769dc2f1035943b975e"
	exampleKey       = "test-key"
	exampleSignature = "e9371dcaeff816c6aabc74e33054e4e427cf8d64fda0f3084b7e46004bc33963"
)

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func TestPublishedExample(t *testing.T) {
	if got := Hash(exampleSalt, exampleNumber); got != exampleChallenge {
		t.Fatalf("Hash(salt, 123) = %s, want the published %s", got, exampleChallenge)
	}
	if got := Sign([]byte(exampleKey), exampleChallenge); got != exampleSignature {
		t.Fatalf("Sign = %s, want %s", got, exampleSignature)
	}
	p, ok := Solve(Challenge{Algorithm: Algorithm, Challenge: exampleChallenge, MaxNumber: 100000, Salt: exampleSalt})
	if !ok || p.Number != exampleNumber {
		t.Fatalf("Solve = %d, %v; want 123", p.Number, ok)
	}
}

func TestRoundTrip(t *testing.T) {
	key := []byte("k")
	c := NewChallenge(key, 1000, t0)
	if c.Algorithm != "SHA-256" || c.MaxNumber != 1000 || !strings.Contains(c.Salt, "?expires="+strconv.FormatInt(t0.Add(20*time.Minute).Unix(), 10)) {
		t.Fatalf("challenge %+v", c)
	}
	p, ok := Solve(c)
	if !ok {
		t.Fatal("unsolvable")
	}
	v, reason := Verify(key, p.Encode(), t0.Add(time.Minute))
	if reason != "" || v.Challenge != c.Challenge {
		t.Fatalf("Verify: %q", reason)
	}
	// the URL alphabet without padding is accepted too
	raw, _ := json.Marshal(p)
	if _, reason := Verify(key, base64.RawURLEncoding.EncodeToString(raw), t0); reason != "" {
		t.Fatalf("raw URL base64: %q", reason)
	}
}

func TestVerifyRefuses(t *testing.T) {
	key := []byte("k")
	c := NewChallenge(key, 1000, t0)
	good, _ := Solve(c)
	enc := func(p Payload) string { return p.Encode() }
	wrong := good
	wrong.Number = (good.Number + 1) % 1001
	forged := NewChallenge([]byte("another key"), 1000, t0)
	forgedP, _ := Solve(forged)
	// move a digit of the expiry into the number: the same hash, a later expiry
	spliced := good
	spliced.Salt = strings.TrimSuffix(good.Salt, "&")
	for _, tc := range []struct {
		name, encoded string
		at            time.Time
		want          string
	}{
		{"missing", "", t0, ReasonMissing},
		{"not base64", "%%%", t0, ReasonMalformed},
		{"not JSON", base64.StdEncoding.EncodeToString([]byte("{")), t0, ReasonMalformed},
		{"other algorithm", enc(Payload{Algorithm: "SHA-1", Challenge: good.Challenge, Salt: good.Salt, Signature: good.Signature}), t0, ReasonMalformed},
		{"forged signature", enc(forgedP), t0, ReasonBadSignature},
		{"salt not ours", enc(spliced), t0, ReasonBadSignature},
		{"wrong number", enc(wrong), t0, ReasonWrongNumber},
		{"expired", enc(good), t0.Add(20 * time.Minute), ReasonExpired},
	} {
		if _, got := Verify(key, tc.encoded, tc.at); got != tc.want {
			t.Errorf("%s: reason %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestStamp(t *testing.T) {
	key := []byte("k")
	s := Stamp(key, t0)
	if r := CheckStamp(key, s, t0.Add(2999*time.Millisecond), MinFormAge); r != ReasonFormTooFast {
		t.Errorf("2.999 s: %q", r)
	}
	if r := CheckStamp(key, s, t0.Add(3*time.Second), MinFormAge); r != "" {
		t.Errorf("3 s: %q", r)
	}
	// a bot cannot backdate the stamp
	ms, _, _ := strings.Cut(s, ".")
	older := strconv.FormatInt(t0.Add(-time.Hour).UnixMilli(), 10)
	_, sig, _ := strings.Cut(s, ".")
	for _, bad := range []string{"", "123", older + "." + sig, ms + ".00", Stamp([]byte("other"), t0.Add(-time.Hour))} {
		if r := CheckStamp(key, bad, t0.Add(time.Hour), MinFormAge); r != ReasonFormStampBad {
			t.Errorf("%q: %q", bad, r)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	for _, s := range []string{"hold", "refuse", "off", " HOLD "} {
		if _, err := ParsePolicy(s); err != nil {
			t.Error(s, err)
		}
	}
	if _, err := ParsePolicy("block"); err == nil {
		t.Error("block accepted")
	}
}
