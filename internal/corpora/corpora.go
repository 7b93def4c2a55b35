// Package corpora finds and reads the public bad-input corpora in ../shared/corpora for
// tests and fuzz seeds. It is used by tests only.
package corpora

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Dir returns the corpora directory: $LEADS_CORPORA, or ../shared/corpora beside the
// repository root (the directory holding go.mod above the working directory).
func Dir() (string, error) {
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

// Path returns the path of a corpus file. When it is missing the test is skipped, except
// under CI=true, where it fails.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	if p := Optional(name); p != "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("corpus %s not found; set LEADS_CORPORA to its directory", name)
	}
	tb.Skipf("corpus %s not found; set LEADS_CORPORA to its directory", name)
	return ""
}

// Optional returns the path of a corpus file, or "" when it is missing (for fuzz seeds).
func Optional(name string) string {
	dir, err := Dir()
	if err != nil {
		return ""
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// BLNS returns the strings of blns.json.
func BLNS(tb testing.TB) []string {
	tb.Helper()
	data, err := os.ReadFile(Path(tb, "blns.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var list []string
	if err := json.Unmarshal(data, &list); err != nil {
		tb.Fatal(err)
	}
	return list
}

// Lines returns the non-empty lines of a text corpus such as xss-payloads.txt.
func Lines(tb testing.TB, name string) []string {
	tb.Helper()
	f, err := os.Open(Path(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := strings.TrimRight(sc.Text(), "\r"); line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
