package httpapi

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	yaml "github.com/pb33f/go-yaml"
)

// openAPIYAML is the OpenAPI 3.1 document, written by hand. openapi_test.go validates it,
// holds it against the routes the server registers and against the enums, limits and roles
// the code enforces, and checks real answers against it.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// openAPIDoc is the document as served: JSON bytes with info.version set, and their ETag.
// A server builds it once, on the first request for it (most servers tests start never
// serve it, and the conversion takes milliseconds).
type openAPIDoc struct {
	body []byte
	etag string
	err  error
}

func newOpenAPIDoc(version string) openAPIDoc {
	body, err := openAPIJSON(version)
	if err != nil {
		return openAPIDoc{err: err}
	}
	sum := sha256.Sum256(body)
	return openAPIDoc{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
}

// openAPIJSON converts the embedded YAML document to JSON, with info.version set to version
// ("dev" when empty).
func openAPIJSON(version string) ([]byte, error) {
	if version == "" {
		version = "dev"
	}
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	doc, err := jsonValue(doc, "")
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	m, _ := doc.(map[string]any)
	info, ok := m["info"].(map[string]any)
	if !ok {
		return nil, errors.New("openapi.yaml: no info object")
	}
	info["version"] = version
	return json.Marshal(m)
}

// jsonValue checks that a decoded YAML value is plain JSON (string keys only; no
// timestamps or other YAML-only types) and returns it with every mapping as
// map[string]any.
func jsonValue(v any, at string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			var err error
			if x[k], err = jsonValue(e, at+"/"+k); err != nil {
				return nil, err
			}
		}
		return x, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%s: key %v is a %T, not a string (quote it)", at, k, k)
			}
			var err error
			if out[ks], err = jsonValue(e, at+"/"+ks); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []any:
		for i, e := range x {
			var err error
			if x[i], err = jsonValue(e, fmt.Sprintf("%s/%d", at, i)); err != nil {
				return nil, err
			}
		}
		return x, nil
	case nil, string, bool, int, int64, uint64, float64:
		return x, nil
	}
	return nil, fmt.Errorf("%s: a %T is not a JSON value (quote it)", at, v)
}

// handleOpenAPI is GET /openapi.json: the same bytes for the life of the process, so an
// If-None-Match with their ETag is answered 304. no-cache makes clients revalidate, as a
// new version of the server brings a new document.
func (s *server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc := s.openAPI()
	if doc.err != nil {
		s.writeError(w, r, doc.err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", doc.etag)
	if etagListMatches(r.Header.Get("If-None-Match"), doc.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(doc.body)
}

// etagListMatches reports whether an If-None-Match value names etag (weak comparison, RFC
// 9110 §13.1.2) or is "*".
func etagListMatches(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || (t != "" && t == etag) {
			return true
		}
	}
	return false
}
