package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// pocketBaseModule is the peer of SPEC §8, at the version it names.
const pocketBaseModule = "github.com/pocketbase/pocketbase/examples/base@v0.39.11"

// buildPocketBase compiles PocketBase's example server from the Go module proxy into dir
// once, so that no phase measures a compile (`go run` of the same module path would).
func buildPocketBase(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "pocketbase")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "install", pocketBaseModule)
	cmd.Dir = bin // outside this module: `go install pkg@version` builds it on its own
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %v\n%s", pocketBaseModule, err, out)
	}
	return filepath.Join(bin, "base"), nil
}

// pocketBaseCollection is the `leads` collection: the lead's fields as PocketBase types
// (the same limits; `created`/`updated` are its autodate fields), the seed's six indexes,
// and anyone may create (createRule ""). source and status are not required because
// PocketBase has no column defaults and the booking bodies, the same as ours, carry
// neither; a required bool must be true, which is consent_given's rule.
func pocketBaseCollection() map[string]any {
	text := func(name string, max int, required bool) map[string]any {
		return map[string]any{"name": name, "type": "text", "max": max, "required": required}
	}
	sel := func(name string, values ...string) map[string]any {
		return map[string]any{"name": name, "type": "select", "maxSelect": 1, "values": values}
	}
	return map[string]any{
		"name": "leads", "type": "base", "createRule": "",
		"fields": []map[string]any{
			text("first_name", 100, true), text("last_name", 100, true),
			{"name": "email", "type": "email", "required": true},
			text("phone", 40, false), text("organization_name", 200, true), text("organization_type", 100, false),
			text("organization_size", 50, false), text("role_title", 100, false),
			sel("source", "demo_booking", "contact_form", "email", "phone", "event", "referral", "partner",
				"social_media", "import", "other"),
			sel("status", "new", "contacted", "qualified", "demo_scheduled", "demo_completed", "proposal_sent",
				"negotiation", "won", "lost", "disqualified"),
			text("notes", 100000, false), text("message", 5000, false),
			text("utm_source", 200, false), text("utm_medium", 200, false), text("utm_campaign", 200, false),
			text("ip_address", 45, false),
			{"name": "consent_given", "type": "bool", "required": true},
			{"name": "consent_timestamp", "type": "date"},
			{"name": "anonymized_at", "type": "date"},
			{"name": "created", "type": "autodate", "onCreate": true},
			{"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true},
		},
		"indexes": []string{
			"CREATE INDEX idx_leads_email ON leads (email)",
			"CREATE INDEX idx_leads_status ON leads (status)",
			"CREATE INDEX idx_leads_source ON leads (source)",
			"CREATE INDEX idx_leads_created ON leads (created)",
			"CREATE INDEX idx_leads_organization_name ON leads (organization_name)",
			"CREATE INDEX idx_leads_status_created ON leads (status, created)",
		},
	}
}

// startPocketBase starts PocketBase on a fresh data directory with a superuser and the
// leads collection, and returns it running.
func startPocketBase(ctx context.Context, bin, dir string) (*child, error) {
	const email, password = "bench@example.org", "leadsbench-superuser"
	if out, err := exec.CommandContext(ctx, bin, "superuser", "upsert", email, password, "--dir", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pocketbase superuser upsert: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a free port: PocketBase cannot listen on :0 and say where
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	pb, err := startChild(ctx, bin, nil, "serve", "--dev=false", "--automigrate=false",
		"--http", "127.0.0.1:"+strconv.Itoa(port), "--dir", dir)
	if err != nil {
		return nil, err
	}
	var auth struct{ Token string }
	if err := pbCall(ctx, pb.url+"/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": email, "password": password}, &auth); err != nil {
		pb.stop()
		return nil, err
	}
	if err := pbCall(ctx, pb.url+"/api/collections", auth.Token, pocketBaseCollection(), nil); err != nil {
		pb.stop()
		return nil, err
	}
	return pb, nil
}

func pbCall(ctx context.Context, url, token string, body, into any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pocketbase %s: %s: %s", url, resp.Status, got)
	}
	if into != nil {
		return json.Unmarshal(got, into)
	}
	return nil
}
