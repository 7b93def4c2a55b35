package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
)

func TestGenerateCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "gen.db")
	getenv := func(k string) string {
		if k == "LEADS_DATABASE_URL" {
			return db
		}
		return ""
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"leads", "generate", "--count", "1200", "--seed", "42"}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "generated 1200 leads in ") || !strings.Contains(out.String(), "seed 42") {
		t.Errorf("stdout %q", out.String())
	}
	// the same seed again would repeat every email
	if err := run(context.Background(), []string{"leads", "generate", "--count", "5", "--seed", "42"}, getenv, io.Discard, io.Discard); err == nil {
		t.Error("the same seed twice was accepted")
	}
	if err := run(context.Background(), []string{"leads", "generate", "--count", "0"}, getenv, io.Discard, io.Discard); err == nil {
		t.Error("--count 0 was accepted")
	}
	s, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, err := s.ListLeads(context.Background(), query.Filter{}, 10, nil)
	if err != nil || len(page.Items) != 10 || page.Next == nil {
		t.Fatalf("list after generate: %d leads, %v", len(page.Items), err)
	}
}
