package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/norsedigital/leads/internal/lead"
)

// LeadETag is the strong entity tag of a lead: the quoted SHA-256 of its JSON form. It is
// derived from the stored row alone, so every instance computes the same tag.
func LeadETag(l lead.Lead) string {
	b, err := json.Marshal(l)
	if err != nil {
		// a Lead holds only strings, bools and times: it always marshals
		panic(err)
	}
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// IfMatch is the precondition of a lead's update (store.PatchLead) for the entity tags of
// an If-Match header (parseIfMatch): the lead as read inside the update's transaction
// must have one of them. nil tags (no header, or "*") is no precondition.
func IfMatch(tags []string) func(current lead.Lead) error {
	if tags == nil {
		return nil
	}
	return func(cur lead.Lead) error {
		if !slices.Contains(tags, LeadETag(cur)) {
			return &lead.Error{Code: lead.CodePrecondition,
				Message: "the lead has changed since its ETag was read (If-Match); fetch it again"}
		}
		return nil
	}
}
