package lead_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/norsedigital/leads/internal/lead"
)

func TestContainsMarkup(t *testing.T) {
	markup := []string{
		"<script>alert(1)</script>",
		"hello <b>world</b>",
		"<img src=x onerror=alert(1)>",
		"<IMG SRC=x>",
		"</p>",
		"x </div",
		"<!-- comment -->",
		"<!doctype html>",
		"<![CDATA[x]]>",
		"<?xml version='1.0'?>",
		"hi <img src=x", // unterminated tag at the end: the page's own text may close it
		"<svg/onload=alert(1)>",
		"javascript:alert(1)",
		"JaVaScRiPt:alert(1)",
		"click javascript:void(0)",
		"java\tscript:alert(1)",
		"jav\nascript:alert(1)",
		"java&#x09;script:alert(1)",
		"java&#9;script&colon;alert(1)",
		"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)",
		"&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)",
		"java\x00script:alert(1)",
		"vbscript:msgbox(1)",
		"VBScript:msgbox(1)",
		"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
		"DATA:TEXT/HTML,<b>x",
		"data: text/html,x",
		`" onerror=alert(1)`,
		`"onmouseover=alert(1)//`,
		`"autofocus/onfocus=alert(1)//`,
		"onload =alert(1)",
		"x ONCLICK\t=y",
	}
	for _, s := range markup {
		if !lead.ContainsMarkup(s) {
			t.Errorf("ContainsMarkup(%q) = false, want true", s)
		}
	}
	plain := []string{
		"",
		"We have <50 volunteers",
		"R&D department",
		"a > b",
		"our data: 40 mentors",
		"x < y and y > z",
		"I <3 Meander",
		"we are on it",
		"Lisbon=capital",
		"session=1",
		"Reason=on-site training",
		"1 < 2",
		"<",
		"a <",
		"</",
		"x </ y",
		"x </3",
		"<>",
		"<<>>",
		"<=50",
		"<-- arrow",
		"<ø>",
		"Tom & Jerry &amp; friends",
		"&lt;script&gt; is shown as text",
		"Java script: no",
		"javascript is our stack",
		"vbscript (legacy)",
		"data:image/png",
		"Price: 100 NOK",
		"http://example.org/?a=1&b=2",
		"mailto:kari@example.no",
		"Ring meg on Monday = fine",
		"kontakt: post@example.no",
	}
	for _, s := range plain {
		if lead.ContainsMarkup(s) {
			t.Errorf("ContainsMarkup(%q) = true, want false", s)
		}
	}
}

// tokenizerFindsMarkup is the reference: golang.org/x/net/html's tokenizer finds a tag,
// comment or doctype in s. "</" followed by a non-letter is left out: the tokenizer makes a
// bogus comment of it ("x </3"), but it cannot start an element and is accepted as text.
func tokenizerFindsMarkup(s string) bool {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken, html.DoctypeToken:
			return true
		case html.CommentToken:
			if raw := z.Raw(); !strings.HasPrefix(string(raw), "</") {
				return true
			}
		}
	}
}

// TestContainsMarkupAgreesWithTokenizer: whatever the HTML tokenizer sees as markup,
// ContainsMarkup flags too.
func TestContainsMarkupAgreesWithTokenizer(t *testing.T) {
	inputs := []string{"<a href=x>y</a>", "<br/>", "a<b", "<!x>", "<?php ?>", "</a>", "1 <3 2", "a</3b"}
	inputs = append(inputs, readLines(t, corpusFile(t, "xss-payloads.txt"))...)
	for _, s := range inputs {
		if tokenizerFindsMarkup(s) && !lead.ContainsMarkup(s) {
			t.Errorf("tokenizer finds markup in %q, ContainsMarkup does not", s)
		}
	}
}

// TestXSSPayloadCorpus sends every payload as a booking's message (SPEC §9): each one that
// holds an HTML tag or comment, a script URL or an event handler must be refused; the rest
// may be stored verbatim, as output escaping makes them harmless.
func TestXSSPayloadCorpus(t *testing.T) {
	lines := readLines(t, corpusFile(t, "xss-payloads.txt"))
	var accepted []string
	for _, s := range lines {
		in := validBooking()
		in.Message = s
		b, r := lead.ValidateBooking(in)
		if issuesOn(r.Errors, "message") != nil {
			continue
		}
		if !r.OK() {
			t.Fatalf("payload %q: unexpected errors %v", s, r.Errors)
		}
		if tokenizerFindsMarkup(s) || lead.ContainsMarkup(s) {
			t.Errorf("payload with markup accepted: %q", s)
		}
		if b.Message != strings.TrimSpace(s) {
			t.Errorf("accepted payload %q not kept verbatim: %q", s, b.Message)
		}
		accepted = append(accepted, s)
	}
	t.Logf("%d of %d payloads accepted as plain text (stored verbatim, escaped on output)", len(accepted), len(lines))
	for _, s := range accepted {
		t.Logf("accepted: %q", s)
	}
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// Event-handler attributes without any tag around them are found with and without "=" fast path.
func TestEventHandlerWithoutTag(t *testing.T) {
	for s, want := range map[string]bool{"": false, "=": false, "onerror=": true, "x onload =1": true, "online": false,
		"on=": false, "ONCLICK=": true, "session=1": false, "Lisbon=capital": false, "we are on it": false,
		"a\tonfocus\n=alert(1)": true, "Ada Lovelace": false} {
		if got := lead.ContainsMarkup(s); got != want {
			t.Errorf("ContainsMarkup(%q) = %v, want %v", s, got, want)
		}
	}
}

func BenchmarkContainsMarkup(b *testing.B) {
	for b.Loop() {
		lead.ContainsMarkup("We run 40 mentors and want to stop using spreadsheets. Could you show us how matching works?")
		lead.ContainsMarkup("Analytical Mentors")
	}
}
