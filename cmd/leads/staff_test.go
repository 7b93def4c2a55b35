package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/store"
)

// leadsCmd runs the real program with args on db and returns its stdout, stderr and error.
func leadsCmd(t *testing.T, db string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append(append([]string{"leads"}, args...), "--database", db),
		func(string) string { return "" }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestStaffCommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "leads.db")
	out, _, err := leadsCmd(t, db, "staff", "add", "--name", "Kari Selger", "--email", "Kari@Norse.example", "--role", "sales", "--weight", "3", "--language", "en")
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(out)
	if len(id) != 36 || strings.Count(id, "-") != 4 || strings.Count(out, "\n") != 1 {
		t.Fatalf("staff add printed %q, want the id alone", out)
	}

	// refusals name the rule and store nothing
	if _, _, err := leadsCmd(t, db, "staff", "add", "--name", "Other", "--email", "kari@norse.EXAMPLE", "--role", "admin"); err == nil {
		t.Fatal("a taken email was accepted")
	}
	_, _, err = leadsCmd(t, db, "staff", "add", "--name", "Per", "--email", "per@norse.example", "--role", "sales", "--weight", "11")
	if err == nil || !strings.Contains(err.Error(), "staff_weight_range") {
		t.Fatalf("weight 11: %v", err)
	}
	if _, _, err := leadsCmd(t, db, "staff", "add", "--name", "Per", "--email", "per@norse.example", "--role", "boss"); err == nil {
		t.Fatal("role boss was accepted")
	}

	out, _, err = leadsCmd(t, db, "staff", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], id) || !strings.Contains(lines[1], "Kari@Norse.example") ||
		!strings.Contains(lines[1], "sales") || !strings.Contains(lines[1], " en ") || !strings.Contains(lines[1], "true") {
		t.Fatalf("staff list:\n%s", out)
	}

	// a member's token acts as the member; the service token keeps working
	tok, _, err := leadsCmd(t, db, "token", "create", "--staff", "KARI@norse.example")
	if err != nil {
		t.Fatal(err)
	}
	service, _, err := leadsCmd(t, db, "token", "create", "--name", "crm", "--role", "admin")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	who, err := st.Authenticate(t.Context(), strings.TrimSpace(tok))
	if err != nil || who.StaffID != id || who.Name != "Kari Selger" || who.Role != "sales" {
		t.Fatalf("member token: %+v, %v", who, err)
	}
	if svc, err := st.Authenticate(t.Context(), strings.TrimSpace(service)); err != nil || svc.StaffID != "" || svc.Name != "crm" {
		t.Fatalf("service token: %+v, %v", svc, err)
	}
	if _, _, err := leadsCmd(t, db, "token", "create", "--staff", "nobody@norse.example"); err == nil {
		t.Fatal("a token for an unknown member")
	}

	if _, _, err := leadsCmd(t, db, "staff", "disable", "--email", "kari@norse.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(t.Context(), strings.TrimSpace(tok)); err == nil {
		t.Fatal("a disabled member's token still works")
	}
	if out, _, _ := leadsCmd(t, db, "staff", "list"); !strings.Contains(out, "false") {
		t.Fatalf("list after disable:\n%s", out)
	}
	if _, _, err := leadsCmd(t, db, "token", "create", "--staff", "kari@norse.example"); err == nil {
		t.Fatal("a token for a disabled member")
	}
	if _, _, err := leadsCmd(t, db, "staff", "disable", "--email", "nobody@norse.example"); err == nil {
		t.Fatal("disabling an unknown member succeeded")
	}
}
