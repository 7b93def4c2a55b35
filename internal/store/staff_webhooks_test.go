package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
	"github.com/norsedigital/leads/internal/webhook"
)

// Staff changes enqueue their webhook events in the same transaction as the change.
func TestStaffChangesEnqueueWebhooks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := context.Background()
		s := storetest.MustOpen(t, e.URL(t), store.Options{})
		if _, _, err := s.CreateWebhook(ctx, "https://203.0.113.5/hook", webhook.Events); err != nil {
			t.Fatal(err)
		}
		cts := time.Now().Add(-time.Minute)
		l, err := s.CreateLead(ctx, lead.Lead{FirstName: "Hanne", LastName: "Hook", Email: "hanne@example.org",
			OrganizationName: "Hook Org", Source: lead.SourceReferral, Status: lead.StatusNew,
			ConsentGiven: true, ConsentTimestamp: &cts}, lead.Actor{Name: "sally"})

		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PatchLead(ctx, l.ID, lead.Input{RoleTitle: lead.Val("CEO"), Status: lead.Val("contacted")}, nil, lead.Actor{Name: "sally"}); err != nil {
			t.Fatal(err)
		}
		// a refused move changes nothing and enqueues nothing
		if _, err := s.PatchLead(ctx, l.ID, lead.Input{Status: lead.Val("won")}, nil, lead.Actor{Name: "sally"}); lead.ErrorCode(err) != lead.CodeInvalid {
			t.Fatalf("refused move: %v", err)
		}
		for event, want := range map[string]int{"lead.created": 1, "lead.updated": 1, "lead.status_changed": 1} {
			if n := count(t, s, `SELECT COUNT(*) FROM webhook_deliveries WHERE lead_id = $1 AND event = $2`, l.ID, event); n != want {
				t.Errorf("%s deliveries = %d, want %d", event, n, want)
			}
		}
	})
}
