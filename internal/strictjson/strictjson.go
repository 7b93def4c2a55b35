// Package strictjson checks a JSON request body before anything decodes it: exactly one
// object, every string valid UTF-8 (no lone surrogate escape such as \ud800), and no
// member named twice at any depth. encoding/json would silently turn invalid text into
// U+FFFD and let the last of two equal names win; a body read by either rule could be
// stored altered or read as consent it does not give.
package strictjson

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// ErrMalformed is wrapped by every error of Check except *InvalidTextError.
var ErrMalformed = errors.New("malformed JSON body")

// InvalidTextError says which top-level member holds invalid UTF-8 (in its value, or in
// its own name), so that the caller can refuse that field.
type InvalidTextError struct{ Field string }

func (e *InvalidTextError) Error() string {
	return "the JSON member " + e.Field + " contains invalid UTF-8"
}

// Check reports whether body is one JSON object, strictly valid. A duplicate name is
// ErrMalformed; invalid UTF-8 is an *InvalidTextError naming the top-level member.
func Check(body []byte) error {
	// Invalid UTF-8 is allowed while reading, so that the member that holds it can be
	// named; each raw name and value is then validated strictly on its own.
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowInvalidUTF8(true))
	tok, err := dec.ReadToken()
	if err != nil || tok.Kind() != '{' {
		return malformed(err, "the body is not a JSON object")
	}
	for dec.PeekKind() != '}' {
		rawName, err := dec.ReadValue()
		if err != nil {
			return malformed(err, "the body is not a JSON object")
		}
		name := strings.ToValidUTF8(strings.Trim(string(rawName), `"`), "\uFFFD")
		if n, err := jsontext.AppendUnquote(nil, rawName); err == nil {
			name = string(n)
		}
		if !rawName.IsValid() {
			return &InvalidTextError{Field: strings.ToValidUTF8(name, "\uFFFD")}
		}
		v, err := dec.ReadValue()
		if err != nil {
			return malformed(err, "the body is not a JSON object")
		}
		if !v.IsValid() {
			if errors.Is(checkNested(v), jsontext.ErrDuplicateName) {
				return malformed(jsontext.ErrDuplicateName, "")
			}
			return &InvalidTextError{Field: name}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return malformed(err, "the body is not a JSON object")
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return malformed(nil, "unexpected data after the JSON object")
	}
	return nil
}

// checkNested decodes v with duplicates refused but invalid UTF-8 allowed, telling apart
// the two reasons a nested value can fail strict validation.
func checkNested(v jsontext.Value) error {
	dec := jsontext.NewDecoder(bytes.NewReader(v), jsontext.AllowInvalidUTF8(true))
	_, err := dec.ReadValue()
	return err
}

func malformed(err error, msg string) error {
	if errors.Is(err, jsontext.ErrDuplicateName) {
		return errors.Join(ErrMalformed, errors.New("a JSON member is named more than once"))
	}
	if msg == "" {
		msg = "the body is not a JSON object"
	}
	return errors.Join(ErrMalformed, errors.New(msg))
}

// Message is the client-safe text of an error of Check (never a value of the body).
func Message(err error) string {
	var it *InvalidTextError
	if errors.As(err, &it) {
		return it.Error()
	}
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "\n"); ok {
		return rest
	}
	return msg
}

// Hash is the SHA-256 (hex) of body's canonical form (RFC 8785: members sorted, no
// insignificant whitespace), so that member order and spacing do not make two bodies
// differ. body must have passed Check.
func Hash(body []byte) (string, error) {
	v := jsontext.Value(bytes.Clone(body))
	if err := v.Canonicalize(); err != nil {
		return "", errors.Join(ErrMalformed, err)
	}
	sum := sha256.Sum256(v)
	return hex.EncodeToString(sum[:]), nil
}
