package integration

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/mail/mailtest"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// SIGKILL under load loses no accepted booking, leaves nothing half-written, and every new
// lead gets exactly one email — two only when its job was being sent at the kill, the one
// exception SPEC §3.6 allows (SMTP accepted it, the process died before marking it done).
func TestCrashUnderLoad(t *testing.T) {
	leadsBinary(t)
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		db := e.URL(t)
		smtp := mailtest.Start(t)
		// a short lease, so that the jobs the killed process held are due again within the test
		args := []string{"--database", db, "--smtp", smtp.URL(), "--mail-retry", "200ms", "--mail-lease", "3s",
			"--trusted-proxies", "127.0.0.1/32"}
		p := mustStart(t, args...)

		const total, killAfter = 200, 50
		client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: total}}
		var answered atomic.Int32
		killed := make(chan struct{})
		answers := fire(total, func(i int) answer {
			a := post(client, p.URL, booking(fmt.Sprintf("crash%d@example.org", i)), "X-Forwarded-For", benchIP(i))
			if answered.Add(1) == killAfter {
				p.Kill()
				close(killed)
			}
			return a
		})
		<-killed
		counts := statusCounts(answers)
		t.Logf("answers at the kill: %v (0 = connection failed)", counts)
		if counts[201] < killAfter || counts[201]+counts[0] != total {
			t.Fatalf("statuses %v: want only 201s and cut connections", counts)
		}

		sqlDB := openDB(t, db)
		// the jobs the dead process was delivering: the only ones that may go out twice
		runningAtKill := map[string]bool{}
		rows, err := sqlDB.Query(`SELECT l.email FROM email_jobs j JOIN leads l ON l.id = j.lead_id WHERE j.status = 'running'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var email string
			rows.Scan(&email)
			runningAtKill[strings.ToLower(email)] = true
		}
		rows.Close()
		t.Logf("jobs running at the kill: %d; messages sent by then: %d", len(runningAtKill), len(smtp.Messages()))

		p2 := mustStart(t, args...)
		waitUntil(t, 40*time.Second, "every email job done after the restart", func() bool {
			return queryInt(t, sqlDB, `SELECT COUNT(*) FROM email_jobs WHERE status <> 'done'`) == 0
		})

		for _, a := range answers {
			if a.Status != 201 {
				continue
			}
			if n := queryInt(t, sqlDB, `SELECT COUNT(*) FROM bookings b JOIN leads l ON l.id = b.lead_id WHERE b.id = $1`, a.BookingID); n != 1 {
				t.Errorf("booking %s was answered 201 but is not stored with its lead", a.BookingID)
			}
		}
		checkIntegrity(t, sqlDB)

		leads := map[string]bool{}
		rows, err = sqlDB.Query(`SELECT email FROM leads`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var email string
			rows.Scan(&email)
			leads[strings.ToLower(email)] = true
		}
		rows.Close()
		if len(leads) < counts[201] {
			t.Errorf("%d leads for %d accepted bookings", len(leads), counts[201])
		}
		got := map[string]int{}
		for _, m := range smtp.Messages() {
			for _, to := range m.To {
				got[strings.ToLower(to)]++
			}
		}
		twice := 0
		for email := range leads {
			switch n := got[email]; {
			case n == 1:
			case n == 2 && runningAtKill[email]:
				twice++
			default:
				t.Errorf("%s got %d emails (its job running at the kill: %v)", email, n, runningAtKill[email])
			}
		}
		for to := range got {
			if !leads[to] {
				t.Errorf("an email went to %s, who is not a lead", to)
			}
		}
		t.Logf("%d leads stored, %d bookings answered 201; %d emails sent twice (jobs in flight at the kill)",
			len(leads), counts[201], twice)
		p2.Stop(t)
	})
}
