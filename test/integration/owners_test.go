package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// Three `leads serve` processes on one PostgreSQL database and 100 simultaneous bookings of
// new leads: lead_owner_assignment gives members of weights 1, 1 and 2 exactly 25, 25 and
// 50, and each owner gets one email per lead (SPEC §11).
func TestOwnerAssignmentAcrossInstances(t *testing.T) {
	db := storetest.PostgresURL(t)
	smtp := mailtest.Start(t)
	leadsBinary(t)
	st := storetest.MustOpen(t, db, store.Options{})
	weights := map[string]int{"kari@norse.example": 1, "ola@norse.example": 1, "per@norse.example": 2}
	ids := map[string]string{}
	for email, w := range weights {
		name, e, role := strings.Split(email, "@")[0], email, "sales"
		m, err := st.CreateMember(t.Context(), lead.MemberInput{Name: &name, Email: &e, Role: &role, Weight: &w})
		if err != nil {
			t.Fatal(err)
		}
		ids[email] = m.ID
	}
	args := []string{"--database", db, "--smtp", smtp.URL(), "--mail-retry", "200ms", "--public-url", "https://leads.test"}
	procs := make([]*proc, 3)
	for i := range procs {
		procs[i] = mustStart(t, args...)
	}
	sqlDB := openDB(t, db)

	answers := fire(100, func(i int) answer {
		return post(clientFrom(fmt.Sprintf("127.0.3.%d", i+1)), procs[i%3].URL, booking(fmt.Sprintf("owner%d@example.org", i)))
	})
	if counts := statusCounts(answers); counts[201] != 100 {
		t.Fatalf("statuses %v, want 100×201; others:\n%s", counts, others(answers, 201))
	}
	for email, want := range map[string]int{"kari@norse.example": 25, "ola@norse.example": 25, "per@norse.example": 50} {
		if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM leads WHERE owner_id = $1`, ids[email]); n != want {
			t.Errorf("%s owns %d leads, want %d", email, n, want)
		}
		if n := queryInt(t, sqlDB, `SELECT assignments FROM staff WHERE id = $1`, ids[email]); n != want {
			t.Errorf("%s counted %d assignments, want %d", email, n, want)
		}
	}
	if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM lead_events WHERE type = 'owner_assigned'`); n != 100 {
		t.Errorf("%d owner_assigned events, want 100", n)
	}

	// 100 confirmations and 100 owner emails, each once, from whichever instance claimed it
	waitUntil(t, 60*time.Second, "every due email job done", func() bool {
		return queryInt(t, sqlDB, `SELECT COUNT(*) FROM email_jobs WHERE status <> 'done' AND kind <> 'owner_overdue'`) == 0
	})
	time.Sleep(500 * time.Millisecond)
	perRecipient := map[string]int{}
	for _, m := range smtp.Messages() {
		perRecipient[strings.ToLower(m.To[0])]++
		if to := m.To[0]; weights[to] > 0 && !strings.HasPrefix(m.Header("Subject"), "Ny lead: ") {
			t.Errorf("owner email subject %q", m.Header("Subject"))
		}
	}
	for email, want := range map[string]int{"kari@norse.example": 25, "ola@norse.example": 25, "per@norse.example": 50} {
		if perRecipient[email] != want {
			t.Errorf("%s got %d emails, want %d", email, perRecipient[email], want)
		}
	}
	if len(smtp.Messages()) != 200 {
		t.Errorf("%d messages, want 200", len(smtp.Messages()))
	}
	for _, p := range procs {
		p.Stop(t)
	}
	checkIntegrity(t, sqlDB)
}
