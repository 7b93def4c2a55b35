package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/spam"
)

// --spam-policy (LEADS_SPAM_POLICY) defaults to hold; --pow-maxnumber (LEADS_POW_MAXNUMBER)
// to 50000.
func TestConfigSpam(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		policy spam.Policy
		max    int64 // 0: refused
	}{
		{"defaults", nil, nil, spam.PolicyHold, 50000},
		{"flags", nil, []string{"--spam-policy", "refuse", "--pow-maxnumber", "100"}, spam.PolicyRefuse, 100},
		{"env", map[string]string{"LEADS_SPAM_POLICY": "off", "LEADS_POW_MAXNUMBER": "7"}, nil, spam.PolicyOff, 7},
		{"unknown policy", nil, []string{"--spam-policy", "drop"}, "", 0},
		{"zero work", nil, []string{"--pow-maxnumber", "0"}, "", 0},
		{"not a number", nil, []string{"--pow-maxnumber", "lots"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig(func(k string) string { return tt.env[k] })
			if err := cfg.flags(io.Discard).Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := cfg.validate()
			if tt.max == 0 {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil || cfg.SpamPolicy != tt.policy || cfg.PowMaxNumber != tt.max {
				t.Fatalf("policy %q max %d (%v), want %q %d", cfg.SpamPolicy, cfg.PowMaxNumber, err, tt.policy, tt.max)
			}
		})
	}
}

// What the README's quick start promises: under the default policy a curl booking without
// a solved challenge gets 201 and is held (the log says so and why, and nothing personal);
// with a solved one it is a lead.
func TestDefaultPolicyHoldsCurlBookings(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "leads.db")
	p := startProgram(t, map[string]string{"LEADS_SPAM_POLICY": ""}, "--database", db, "--pow-maxnumber", "200")
	body := `{"first_name": "Kari", "last_name": "Nordmann", "email": "kari@example.no", "organization_name": "Frivillig Norge", "consent_given": true}`
	if st, b := p.post(t, "/api/v1/bookings", body); st != 201 {
		t.Fatalf("curl booking: %d %s", st, b)
	}
	logs := p.Logs.String()
	if !strings.Contains(logs, `"msg":"booking held for review"`) || !strings.Contains(logs, `"reason":"pow_missing"`) {
		t.Fatalf("the log does not say the booking was held and why:\n%s", logs)
	}
	for _, personal := range []string{"Kari", "Nordmann", "kari@example.no"} {
		if strings.Contains(logs, personal) {
			t.Fatalf("the log contains %q", personal)
		}
	}
	resp, err := http.Get(p.URL + "/api/v1/challenge")
	if err != nil {
		t.Fatal(err)
	}
	var c spam.Challenge
	json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	sol, ok := spam.Solve(c)
	if !ok || c.MaxNumber != 200 {
		t.Fatalf("challenge %+v", c)
	}
	solved := strings.Replace(body, `"consent_given": true`, `"consent_given": true, "altcha": "`+sol.Encode()+`"`, 1)
	solved = strings.Replace(solved, "kari@", "kari2@", 1)
	if st, b := p.post(t, "/api/v1/bookings", solved); st != 201 {
		t.Fatalf("solved booking: %d %s", st, b)
	}
	if strings.Count(p.Logs.String(), `"msg":"booking held for review"`) != 1 {
		t.Fatal("the solved booking was held too")
	}
}
