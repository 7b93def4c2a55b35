package lead_test

import (
	"testing"

	"github.com/norsedigital/leads/internal/corpora"
)

// corpusFile returns the path of a file of the shared test corpora (SPEC §9); see
// corpora.Path for where they are looked for and when a missing one fails the test.
func corpusFile(t testing.TB, name string) string { return corpora.Path(t, name) }

// optionalCorpusFile is corpusFile for fuzz seeds: "" instead of skipping.
func optionalCorpusFile(name string) string { return corpora.Optional(name) }
