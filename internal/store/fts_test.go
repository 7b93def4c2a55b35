package store_test

import (
	"context"
	"testing"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// SQLite's search index is a contentless FTS5 table: an erased lead's trigrams must leave it
// at the erasure, not at some later merge (its 'secure-delete' option, migration 00008): neither listed nor left in its blocks.
func TestErasureLeavesNoTrigramInTheSearchIndex(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpenSQLite(t, store.Options{})
	b := booking("qzxwv@example.org")
	b.LastName = "Qzxwvjk"
	res, err := s.Book(ctx, params(b, "203.0.113.9"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Book(ctx, params(booking("other@example.org"), "203.0.113.9")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`CREATE VIRTUAL TABLE temp.search_terms USING fts5vocab(main, leads_search, row)`); err != nil {
		t.Fatal(err)
	}
	terms := func() int {
		return count(t, s, `SELECT COUNT(*) FROM temp.search_terms WHERE term IN ('zxw', 'xwv', 'wvj', 'vjk')`)
	}
	if n := terms(); n != 4 {
		t.Fatalf("%d of the name's trigrams indexed before the erasure, want 4", n)
	}
	if _, err := s.AnonymizeLead(ctx, res.LeadID, lead.Actor{Name: "admin"}); err != nil {
		t.Fatal(err)
	}
	if n := terms(); n != 0 {
		t.Errorf("%d of the erased name's trigrams are still in the search index", n)
	}
	raw := count(t, s, `SELECT COUNT(*) FROM leads_search_data WHERE instr(block, CAST('zxw' AS BLOB)) > 0
		OR instr(block, CAST('wvj' AS BLOB)) > 0 OR instr(block, CAST('vjk' AS BLOB)) > 0`)
	if raw != 0 {
		t.Errorf("%d blocks of the index's file still hold the erased name's trigrams", raw)
	}
}
