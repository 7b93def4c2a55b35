// Package webhook holds the pure parts of outgoing webhooks: the event names, Standard
// Webhooks signing, the payload document, and the guard that keeps webhook URLs off the
// internal network (checked on the URL and again on every connection).
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/lead"
)

// Event names (SPEC §10).
const (
	EventLeadCreated       = "lead.created"
	EventBookingCreated    = "booking.created"
	EventLeadUpdated       = "lead.updated"
	EventLeadStatusChanged = "lead.status_changed"
	EventLeadAnonymized    = "lead.anonymized"
)

// Events lists every event a subscription may ask for.
var Events = []string{EventLeadCreated, EventBookingCreated, EventLeadUpdated, EventLeadStatusChanged, EventLeadAnonymized}

// ValidEvent reports whether name is one of Events.
func ValidEvent(name string) bool { return slices.Contains(Events, name) }

// Rule names of webhook validation, as they appear in API problems.
const (
	RuleURLNotAllowed = "webhook_url_not_allowed"
	RuleEventEnum     = "event_enum_validation"
)

// secretPrefix marks a Standard Webhooks signing secret.
const secretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: "whsec_" and the base64 of 24 random bytes.
func NewSecret() string {
	var b [24]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return short)
	return secretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// secretKey decodes the HMAC key of a secret.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook secret is not whsec_ and base64")
	}
	return key, nil
}

// Sign returns the webhook-signature header value for one attempt:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Verify reports whether header (one or more space-separated signatures, as a receiver
// gets it) holds a valid v1 signature of the attempt.
func Verify(secret, id string, timestamp int64, body []byte, header string) bool {
	want, err := Sign(secret, id, timestamp, body)
	if err != nil {
		return false
	}
	for sig := range strings.FieldsSeq(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// Payload is the body of a delivery: the event, when it happened, and its data (the lead
// as the API shows it, plus "booking" or "from"/"to" for the events that have them).
type Payload struct {
	Type      string                     `json:"type"`
	Timestamp time.Time                  `json:"timestamp"`
	Data      map[string]json.RawMessage `json:"data"`
}

// BuildPayload renders the body of event for l at time at; extra adds data keys beside
// "lead" (each value is marshalled as JSON).
func BuildPayload(event string, at time.Time, l lead.Lead, extra map[string]any) ([]byte, error) {
	// microseconds, the precision of every other timestamp the API shows
	p := Payload{Type: event, Timestamp: at.UTC().Truncate(time.Microsecond), Data: map[string]json.RawMessage{}}
	var err error
	if p.Data["lead"], err = json.Marshal(l); err != nil {
		return nil, err
	}
	for k, v := range extra {
		if k == "lead" {
			continue
		}
		if p.Data[k], err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	return json.Marshal(p)
}
