package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/lead/query"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// Every operation of the engine interface (engine.go) runs on both engines through
// storetest.Run:
//
//	migrator, afterMigrate      every test (storetest.MustOpen); TestMigrationsShareOneHistory
//	writeTx                     TestStore, TestBookingsCommittedTogether
//	writeExec                   TestStore (RetryEmailJob)
//	completeEmailJob            TestStore, TestEmailJobsMarkedDoneTogether
//	lockRateKey, recentBookings TestStore (rate limit), TestRateLimitCountsIPv6By64
//	bookWrites                  TestStore, TestWebhookEnqueueOnBooking
//	claimEmailJobs              TestStore, TestReleaseEmailJobs, TestClaimCancelsTheJobOfAnErasedLead
//	claimWebhookDeliveries      TestWebhookDeliveryQueue
//	listPage                    TestListFiltersAndSearch, TestListPagingWhileInserting
//	tryLock                     TestClearExpiredIPs
//	afterErasure                TestErasureLeavesNoPersonalDataAnywhere
//	bulkBegin, bulkSchema       TestBulkLoad (below)
//	classify                    TestStaffLeadStore (unique), TestStore (delete refused), TestBulkLoad,
//	                            TestDemoSlotTakenConcurrently (exclusion, demo_slot_taken)
//	lockIfEligible, lockAssignment, forShare
//	                            TestAssignmentIsExactUnderConcurrency, TestAssignmentRule, TestOwnerChanges

// TestBulkLoad loads into an empty database (the indexes are dropped and rebuilt) and into
// one that holds more than the load (they stay), and finds every loaded lead by the list
// and by search, which needs the search index brought up to date.
func TestBulkLoad(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		rec := func(i int) store.BulkRecord {
			created := at.Add(time.Duration(i) * time.Minute)
			id := store.NewID()
			return store.BulkRecord{
				Lead: lead.Lead{ID: id, FirstName: "Bulk", LastName: fmt.Sprintf("Zyxwv%03d", i), Email: fmt.Sprintf("bulk%d@example.org", i),
					OrganizationName: "Loaded Org", Source: lead.SourceDemoBooking, Status: lead.StatusNew,
					ConsentGiven: true, ConsentTimestamp: &created, CreatedAt: created, UpdatedAt: created},
				Booking: &lead.BookingRecord{ID: store.NewID(), LeadID: id, FirstName: "Bulk", LastName: "Z", Email: "b@example.org",
					OrganizationName: "Loaded Org", ConsentVersion: "2026-01", ConsentTimestamp: created, CreatedAt: created},
				Event: &lead.Event{ID: store.NewID(), Type: lead.EventCreated, Actor: "generator", Details: []byte(`{}`), CreatedAt: created},
			}
		}
		load := func(from, n int) error {
			batch := make([]store.BulkRecord, n)
			for i := range batch {
				batch[i] = rec(from + i)
			}
			return s.BulkLoad(ctx, n, slices.Values([][]store.BulkRecord{batch}))
		}
		if err := load(0, 3); err != nil { // rebuild: 3 ≥ 0 stored
			t.Fatalf("load into an empty database: %v", err)
		}
		if err := load(3, 1); err != nil { // no rebuild: 1 < 3 stored
			t.Fatalf("load into a fuller database: %v", err)
		}
		page, err := s.ListLeads(ctx, query.Filter{}, 10, nil)
		if err != nil || len(page.Items) != 4 || page.Items[0].LastName != "Zyxwv003" {
			t.Fatalf("list after the loads: %d leads, %v", len(page.Items), err)
		}
		for i := range 4 {
			name := fmt.Sprintf("Zyxwv%03d", i)
			page, err := s.ListLeads(ctx, query.Filter{Query: name}, 10, nil)
			if err != nil || len(page.Items) != 1 || page.Items[0].LastName != name {
				t.Errorf("search %q: %+v, %v", name, page.Items, err)
			}
		}
		// a lead whose email is taken fails the whole load, by the unique index's error code
		dup := rec(9)
		dup.Lead.Email = "bulk0@example.org"
		err = s.BulkLoad(ctx, 1, slices.Values([][]store.BulkRecord{{dup}}))
		if lead.ErrorCode(err) != lead.CodeConflict {
			t.Fatalf("load of a taken email: %v, want a conflict", err)
		}
		if page, _ := s.ListLeads(ctx, query.Filter{}, 10, nil); len(page.Items) != 4 {
			t.Fatalf("the failed load left %d leads, want 4", len(page.Items))
		}
	})
}
