package jobs_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/store/storetest"
)

// The sign-in link is minted when the email is written, not when it is asked for; a late
// email or one to a member deactivated meanwhile is not sent.
func TestSignInLinkComposer(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		clock := storetest.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
		s := storetest.MustOpen(t, e.URL(t), store.Options{Now: clock.Now})
		name, email, role := "Kari Selger", "kari@norse.example", "sales"
		m, err := s.CreateMember(t.Context(), lead.MemberInput{Name: &name, Email: &email, Role: &role})
		if err != nil {
			t.Fatal(err)
		}
		compose := jobs.SignInLinkComposer(s, "https://leads.example", clock.Now)
		job := store.EmailJob{Kind: store.EmailSignInLink, StaffID: m.ID, To: email, FirstName: name, CreatedAt: clock.Now()}
		msg, err := compose(t.Context(), job, i18n.EN)
		if err != nil {
			t.Fatal(err)
		}
		_, token, ok := strings.Cut(msg.Text, "token=")
		token, _, _ = strings.Cut(token, "\n")
		if !ok || !strings.Contains(msg.Text, "https://leads.example/console/sign-in/link?lang=en&token=lsl_") {
			t.Fatalf("text:\n%s", msg.Text)
		}
		if got, err := s.UseSignInLink(t.Context(), strings.TrimSpace(token)); err != nil || got.ID != m.ID {
			t.Fatalf("the emailed link: %v, %v", got.ID, err)
		}

		clock.Advance(time.Hour + time.Second)
		if _, err := compose(t.Context(), job, i18n.EN); !errors.Is(err, jobs.ErrSkipEmail) {
			t.Fatalf("an hour late: %v", err)
		}
		job.CreatedAt = clock.Now()
		if _, err := s.UpdateMember(t.Context(), m.ID, lead.MemberInput{Active: new(false)}, lead.Actor{Name: "test"}); err != nil {
			t.Fatal(err)
		}
		if _, err := compose(t.Context(), job, i18n.EN); !errors.Is(err, jobs.ErrSkipEmail) {
			t.Fatalf("deactivated member: %v", err)
		}
		var n int
		s.DB().QueryRow(`SELECT COUNT(*) FROM signin_links`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d links minted, want the one that was sent", n)
		}
	})
}
