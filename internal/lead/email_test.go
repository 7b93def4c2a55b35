package lead_test

import (
	"encoding/xml"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/norsedigital/leads/internal/lead"
)

func TestValidEmail(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []struct {
		addr string
		ok   bool
	}{
		{"kari@example.no", true},
		{"Kari.Nordmann@Example.NO", true},
		{"first.last+tag@sub.example.co.uk", true},
		{"o'brien@example.ie", true},
		{"!#$%&'*+-/=?^_`{|}~@example.org", true},
		{"a@b.co", true},
		{"test@c--n.com", true},
		{"test@123.com", true},
		{"post@bücher.de", true},
		{"info@παράδειγμα.δοκιμή", true},
		{"info@xn--hxajbheg2az3al.xn--jxalpdlp", true},
		{"  kari@example.no\t", true}, // spaces and tabs around are trimmed
		{strings.Repeat("a", 64) + "@example.org", true},
		{"a@" + long + "." + long + "." + long + "." + strings.Repeat("a", 57) + ".no", true}, // 253-byte domain

		{"", false},
		{"kari", false},
		{"kari@", false},
		{"@example.org", false},
		{"test@io", false},        // dotless domain: the spec's decision
		{"test@localhost", false}, // dotless
		{"kari@@example.org", false},
		{"kari@ex@ample.org", false},
		{".kari@example.org", false},
		{"kari.@example.org", false},
		{"ka..ri@example.org", false},
		{"kari@.example.org", false},
		{"kari@example.org.", false},
		{"kari@example..org", false},
		{"kari@-example.org", false},
		{"kari@example-.org", false},
		{"kari@exa_mple.org", false},
		{"kari@[127.0.0.1]", false},
		{"kari@[IPv6:::1]", false},
		{"kari@127.0.0.1", false}, // numeric top-level label: an IP in disguise
		{`"kari"@example.org`, false},
		{`"ka ri"@example.org`, false},
		{"kari(comment)@example.org", false},
		{"Kari Nordmann <kari@example.org>", false},
		{"<kari@example.org>", false},
		{"ka ri@example.org", false},
		{"kari@exa mple.org", false},
		{"kari@example.org\n", false},
		{"kari@example.org\r\nBcc: x@y.z", false},
		{"\u00a0kari@example.org", false}, // only spaces and tabs are trimmed
		{"kåri@example.org", false},       // local part is ASCII only
		{"kari@ｅｘａｍｐｌｅ.org", false},       // full-width label folds to ASCII
		{"kari@example。org", false},
		{strings.Repeat("a", 65) + "@example.org", false},
		{"a@" + strings.Repeat("a", 64) + ".org", false},
		{"a@" + long + "." + long + "." + long + "." + strings.Repeat("a", 58) + ".no", false}, // 254-byte domain
		{"kari@example.org\x00", false},
		{"kari@exam\xffple.org", false},
	}
	for _, tt := range tests {
		if got := lead.ValidEmail(tt.addr); got != tt.ok {
			t.Errorf("ValidEmail(%q) = %v, want %v", tt.addr, got, tt.ok)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := map[string]string{
		" Kari.Nordmann@Example.NO\t": "kari.nordmann@example.no",
		"post@BÜCHER.de":              "post@bücher.de",
		"plain@example.org":           "plain@example.org",
	}
	for in, want := range tests {
		if got := lead.NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

type isemailTest struct {
	ID       string `xml:"id,attr"`
	Address  string `xml:"address"`
	Category string `xml:"category"`
}

// readIsemail reads corpora/isemail-tests.xml. The file writes control characters as
// U+2400 + code (U+2421 for DEL), since XML cannot hold most of them; they are decoded back.
func readIsemail(path string) ([]isemailTest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Tests []isemailTest `xml:"test"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	for i := range doc.Tests {
		doc.Tests[i].Address = strings.Map(func(r rune) rune {
			switch {
			case r >= 0x2400 && r <= 0x241f:
				return r - 0x2400
			case r == 0x2421:
				return 0x7f
			}
			return r
		}, doc.Tests[i].Address)
	}
	return doc.Tests, nil
}

func TestValidEmailIsemailCorpus(t *testing.T) {
	tests, err := readIsemail(corpusFile(t, "isemail-tests.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var valid, invalid int
	for _, tt := range tests {
		got := lead.ValidEmail(tt.Address)
		switch {
		case tt.Category == "ISEMAIL_VALID_CATEGORY" && tt.Address == "test@io":
			if got {
				t.Errorf("test %s: %q accepted; SPEC §4 rejects dotless domains", tt.ID, tt.Address)
			}
		case tt.Category == "ISEMAIL_VALID_CATEGORY":
			valid++
			if !got {
				t.Errorf("test %s: valid address %q rejected", tt.ID, tt.Address)
			}
		case tt.Category == "ISEMAIL_ERR":
			invalid++
			if got {
				t.Errorf("test %s: invalid address %q accepted", tt.ID, tt.Address)
			}
		}
	}
	if valid < 10 || invalid < 60 {
		t.Fatalf("corpus looks truncated: %d valid, %d invalid addresses", valid, invalid)
	}
	t.Logf("%d valid and %d invalid addresses checked", valid, invalid)
}

func FuzzValidEmail(f *testing.F) {
	for _, s := range []string{"kari@example.no", "a@b.co", "post@bücher.de", "test@io", `"a"@b.c`, "a@[1.2.3.4]"} {
		f.Add(s)
	}
	if p := optionalCorpusFile("isemail-tests.xml"); p != "" {
		if tests, err := readIsemail(p); err == nil {
			for _, tt := range tests {
				f.Add(tt.Address)
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !lead.ValidEmail(s) {
			return
		}
		addr := strings.Trim(s, " \t")
		if strings.Count(addr, "@") != 1 {
			t.Fatalf("accepted %q with %d '@'", s, strings.Count(addr, "@"))
		}
		if strings.IndexFunc(addr, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			t.Fatalf("accepted %q with whitespace or control characters", s)
		}
		local, domain, _ := strings.Cut(addr, "@")
		if local == "" || !strings.Contains(domain, ".") || strings.ContainsAny(addr, `"()<>[]\,;:`) {
			t.Fatalf("accepted malformed %q", s)
		}
		if !lead.ValidEmail(lead.NormalizeEmail(s)) {
			t.Fatalf("normalized form of %q rejected", s)
		}
	})
}
