package lead_test

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusFile returns the path of a file of the shared test corpora (SPEC §9), which live
// beside the repository in ../shared/corpora. LEADS_CORPORA overrides the directory. When
// the corpora are missing the test is skipped, except in CI (CI=true), where it fails.
func corpusFile(t testing.TB, name string) string {
	t.Helper()
	dir, err := corpusDir()
	if err == nil {
		p := filepath.Join(dir, name)
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("corpus %s not found: %v", name, err)
	}
	t.Skipf("corpus %s not found (%v); set LEADS_CORPORA to its directory", name, err)
	return ""
}

// corpusDir finds the repository root (the directory holding go.mod) above the test's
// working directory and returns ../shared/corpora from there.
func corpusDir() (string, error) {
	if dir := os.Getenv("LEADS_CORPORA"); dir != "" {
		return dir, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "corpora"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// optionalCorpusFile is corpusFile for fuzz seeds: "" instead of skipping.
func optionalCorpusFile(name string) string {
	dir, err := corpusDir()
	if err != nil {
		return ""
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
