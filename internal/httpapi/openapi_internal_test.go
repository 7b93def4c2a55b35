package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	yaml "github.com/pb33f/go-yaml"
)

// TestOpenAPIDocumentConverts reports why the embedded document does not convert, which
// the served 500 does not say.
func TestOpenAPIDocumentConverts(t *testing.T) {
	body, err := openAPIJSON("1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Info struct {
			Version string `json:"version"`
		} `json:"info"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Info.Version != "1.2.3" {
		t.Fatalf("info.version %q, %v", doc.Info.Version, err)
	}
	if d := newOpenAPIDoc(""); d.err != nil || !strings.Contains(string(d.body), `"version":"dev"`) {
		t.Errorf("no version: %v, %.80s", d.err, d.body)
	}
}

// TestOpenAPIJSONValue: YAML that is not plain JSON is refused with where it is, not
// silently converted.
func TestOpenAPIJSONValue(t *testing.T) {
	for _, c := range []struct {
		yaml, want, err string
	}{
		{`a: {b: [1, "2", true, null, 1.5]}`, `{"a":{"b":[1,"2",true,null,1.5]}}`, ""},
		{`"200": {description: x}`, `{"200":{"description":"x"}}`, ""},
		{`enum: ["1", on, yes]`, `{"enum":["1","on","yes"]}`, ""},
		{`responses: {200: {description: x}}`, "", "/responses: key 200"},
		{`a: {1.5: x}`, "", "/a: key 1.5"},
		{`a: [{b: 2026-01-02}]`, "", "/a/0/b: a time.Time"}, // an unquoted date decodes as a time
	} {
		var v any
		if err := yaml.Unmarshal([]byte(c.yaml), &v); err != nil {
			t.Fatalf("%s: %v", c.yaml, err)
		}
		got, err := jsonValue(v, "")
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one containing %q", c.yaml, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.yaml, err)
		case c.want != "":
			b, _ := json.Marshal(got)
			if string(b) != c.want {
				t.Errorf("%s: %s, want %s", c.yaml, b, c.want)
			}
		}
	}
}

// BenchmarkOpenAPIDocument is the cost NewServer pays once for the document.
func BenchmarkOpenAPIDocument(b *testing.B) {
	for b.Loop() {
		if d := newOpenAPIDoc("bench"); d.err != nil {
			b.Fatal(d.err)
		}
	}
}
