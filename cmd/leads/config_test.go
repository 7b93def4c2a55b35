package main

import (
	"io"
	"testing"

	"github.com/norsedigital/leads/internal/store"
)

// --client-ip-header (LEADS_CLIENT_IP_HEADER) picks the one header believed from trusted
// proxies; --public-url https://… means the service is reached over TLS.
func TestConfigClientIPHeaderAndTLS(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		header    string
		behindTLS bool
		bad       bool
	}{
		{"defaults", nil, nil, "X-Forwarded-For", false, false},
		{"flag", nil, []string{"--client-ip-header", "forwarded"}, "Forwarded", false, false},
		{"env", map[string]string{"LEADS_CLIENT_IP_HEADER": "Forwarded"}, nil, "Forwarded", false, false},
		{"flag wins over env", map[string]string{"LEADS_CLIENT_IP_HEADER": "Forwarded"}, []string{"--client-ip-header", "X-Forwarded-For"}, "X-Forwarded-For", false, false},
		{"unknown header", nil, []string{"--client-ip-header", "X-Real-IP"}, "", false, true},
		{"https public URL", nil, []string{"--public-url", "https://leads.example.org/"}, "X-Forwarded-For", true, false},
		{"http public URL", nil, []string{"--public-url", "http://leads.example.org"}, "X-Forwarded-For", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig(func(k string) string { return tt.env[k] })
			if err := cfg.flags(io.Discard).Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := cfg.validate()
			if tt.bad {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ClientIPHeader != tt.header || cfg.behindTLS() != tt.behindTLS {
				t.Fatalf("header %q behindTLS %v, want %q %v", cfg.ClientIPHeader, cfg.behindTLS(), tt.header, tt.behindTLS)
			}
		})
	}
}

// --db-max-conns (LEADS_DB_MAX_CONNS) bounds the PostgreSQL pool: store.DefaultMaxConns
// unless set, a positive number.
func TestConfigDBMaxConns(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want int // 0: refused
	}{
		{"default", nil, nil, store.DefaultMaxConns},
		{"flag", nil, []string{"--db-max-conns", "8"}, 8},
		{"env", map[string]string{"LEADS_DB_MAX_CONNS": "5"}, nil, 5},
		{"flag wins over env", map[string]string{"LEADS_DB_MAX_CONNS": "5"}, []string{"--db-max-conns", "6"}, 6},
		{"zero", nil, []string{"--db-max-conns", "0"}, 0},
		{"not a number", nil, []string{"--db-max-conns", "many"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig(func(k string) string { return tt.env[k] })
			if err := cfg.flags(io.Discard).Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := cfg.validate()
			if tt.want == 0 {
				if err == nil {
					t.Fatalf("accepted: %d", cfg.DBMaxConns)
				}
				return
			}
			if err != nil || cfg.DBMaxConns != tt.want {
				t.Fatalf("DBMaxConns %d, %v; want %d", cfg.DBMaxConns, err, tt.want)
			}
		})
	}
}

// --timezone (LEADS_TIMEZONE, default Europe/Oslo) is the zone of the console's times.
func TestConfigTimezone(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // "" for refused
	}{
		{"default", nil, nil, "Europe/Oslo"},
		{"env", map[string]string{"LEADS_TIMEZONE": "America/New_York"}, nil, "America/New_York"},
		{"flag wins over env", map[string]string{"LEADS_TIMEZONE": "America/New_York"}, []string{"--timezone", "UTC"}, "UTC"},
		{"unknown zone", nil, []string{"--timezone", "Mars/Olympus_Mons"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig(func(k string) string { return tt.env[k] })
			if err := cfg.flags(io.Discard).Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := cfg.validate()
			if tt.want == "" {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil || cfg.Location == nil || cfg.Location.String() != tt.want {
				t.Fatalf("location %v, err %v, want %s", cfg.Location, err, tt.want)
			}
		})
	}
}

// --contact-sla (LEADS_CONTACT_SLA, default 1, a whole number ≥ 0) and --default-owner
// (LEADS_DEFAULT_OWNER) reach the config (SPEC §11).
func TestConfigTeam(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		sla   int // -1 for refused
		owner string
	}{
		{"defaults", nil, nil, 1, ""},
		{"env", map[string]string{"LEADS_CONTACT_SLA": "0", "LEADS_DEFAULT_OWNER": "boss@norse.example"}, nil, 0, "boss@norse.example"},
		{"flags win", map[string]string{"LEADS_CONTACT_SLA": "0"}, []string{"--contact-sla", "3", "--default-owner", "a@b.example"}, 3, "a@b.example"},
		{"negative", nil, []string{"--contact-sla", "-1"}, -1, ""},
		{"not a number", map[string]string{"LEADS_CONTACT_SLA": "1.5"}, nil, -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig(func(k string) string { return tt.env[k] })
			if err := cfg.flags(io.Discard).Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := cfg.validate()
			if tt.sla < 0 {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil || cfg.ContactSLA != tt.sla || cfg.DefaultOwner != tt.owner {
				t.Fatalf("sla %d owner %q err %v", cfg.ContactSLA, cfg.DefaultOwner, err)
			}
		})
	}
}
