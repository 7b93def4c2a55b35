package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// The real program wires the prospect's own page (SPEC §14): the confirmation carries a
// personal link under --public-url, POST /my emails a fresh one through the personal_link
// composer, the privacy notice states --inactive-retention, and no token reaches the logs.
func TestSelfServiceProgram(t *testing.T) {
	smtp := mailtest.Start(t)
	p := startProgram(t, nil, "--database", storetest.SQLiteURL(t), "--smtp", smtp.URL(), "--public-url", "https://leads.example",
		"--inactive-retention", "8760h")
	if st, body := p.post(t, "/api/v1/bookings", bookingJSON("Ingrid", "ingrid@example.org")); st != 201 {
		t.Fatalf("booking: %d %s", st, body)
	}
	linkRe := regexp.MustCompile(`https://leads\.example/my/([A-Za-z0-9_-]{43})`)
	first := linkRe.FindStringSubmatch(smtp.WaitFor(t, 1, 10*time.Second)[0].TextBody())
	if first == nil {
		t.Fatal("the confirmation has no personal link")
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(p.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("/my/" + first[1]); st != 200 || !strings.Contains(body, "Ingrid") {
		t.Fatalf("the page of the emailed link: %d", st)
	}

	resp, err := http.PostForm(p.URL+"/my", url.Values{"email": {"ingrid@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	msgs := smtp.WaitFor(t, 2, 10*time.Second)
	second := linkRe.FindStringSubmatch(msgs[1].TextBody())
	if second == nil || second[1] == first[1] || msgs[1].To[0] != "ingrid@example.org" {
		t.Fatalf("the link email: %v\n%s", msgs[1].To, msgs[1].TextBody())
	}
	if st, _ := get("/my/" + second[1]); st != 200 {
		t.Errorf("the fresh link: %d", st)
	}
	if _, body := get("/privacy?lang=en"); !strings.Contains(body, "nothing has changed for 365 days") {
		t.Errorf("the privacy notice does not state --inactive-retention")
	}
	p.Stop(t)
	for _, tok := range []string{first[1], second[1]} {
		if strings.Contains(p.Logs.String(), tok) {
			t.Errorf("a personal link token is in the logs")
		}
	}
}

func TestConfigInactiveRetention(t *testing.T) {
	for _, tt := range []struct {
		env  string
		args []string
		want time.Duration // -1 for refused
	}{
		{"", nil, 17520 * time.Hour},
		{"100h", nil, 100 * time.Hour},
		{"100h", []string{"--inactive-retention", "0"}, 0},
		{"", []string{"--inactive-retention", "-1h"}, -1},
		{"", []string{"--inactive-retention", "two years"}, -1},
	} {
		cfg := newConfig(func(k string) string {
			if k == "LEADS_INACTIVE_RETENTION" {
				return tt.env
			}
			return ""
		})
		if err := cfg.flags(io.Discard).Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		err := cfg.validate()
		if tt.want < 0 {
			if err == nil {
				t.Errorf("%v: accepted", tt.args)
			}
			continue
		}
		if err != nil || cfg.InactiveRetention != tt.want {
			t.Errorf("env %q args %v: %v %v, want %v", tt.env, tt.args, cfg.InactiveRetention, err, tt.want)
		}
	}
}
