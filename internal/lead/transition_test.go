package lead_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/norsedigital/leads/internal/lead"
)

// transitionMatrix is SPEC §3.4 written out: row = from, column = to, both in the order of
// lead.Statuses; "x" allowed, "." refused. The diagonal is the allowed no-op.
var transitionMatrix = []string{
	//            new con qua dsc dco pro neg won lost dis
	"new:           x  x  .  .  .  .  .  .  x  x",
	"contacted:     .  x  x  .  .  .  .  .  x  x",
	"qualified:     .  .  x  x  .  .  .  .  x  x",
	"demo_scheduled:.  .  .  x  x  .  .  .  x  x",
	"demo_completed:.  .  .  .  x  x  .  .  x  x",
	"proposal_sent: .  .  .  .  .  x  x  .  x  x",
	"negotiation:   .  .  .  .  .  .  x  x  x  x",
	"won:           .  .  .  .  .  .  .  x  x  x",
	"lost:          .  .  .  .  .  .  .  .  x  x",
	"disqualified:  .  .  .  .  .  .  .  .  .  x",
}

func TestCanTransitionMatrix(t *testing.T) {
	if len(transitionMatrix) != len(lead.Statuses) {
		t.Fatalf("matrix has %d rows, want %d", len(transitionMatrix), len(lead.Statuses))
	}
	for i, row := range transitionMatrix {
		name, cells, _ := strings.Cut(row, ":")
		from := lead.Status(name)
		if from != lead.Statuses[i] {
			t.Fatalf("row %d is %q, want %q", i, name, lead.Statuses[i])
		}
		marks := strings.Fields(cells)
		if len(marks) != len(lead.Statuses) {
			t.Fatalf("row %s has %d cells", from, len(marks))
		}
		for j, to := range lead.Statuses {
			want := marks[j] == "x"
			if got := lead.CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestCanTransitionUnknown(t *testing.T) {
	for _, c := range [][2]lead.Status{{"", lead.StatusLost}, {"open", lead.StatusDisqualified}, {lead.StatusNew, "NEW"}, {"x", "x"}} {
		if lead.CanTransition(c[0], c[1]) {
			t.Errorf("CanTransition(%q, %q) = true", c[0], c[1])
		}
	}
}

func TestNextStatuses(t *testing.T) {
	tests := map[lead.Status][]lead.Status{
		lead.StatusNew:           {lead.StatusContacted, lead.StatusLost, lead.StatusDisqualified},
		lead.StatusNegotiation:   {lead.StatusWon, lead.StatusLost, lead.StatusDisqualified},
		lead.StatusWon:           {lead.StatusLost, lead.StatusDisqualified},
		lead.StatusLost:          {lead.StatusDisqualified},
		lead.StatusDisqualified:  nil,
		lead.Status("unknown"):   nil,
		lead.StatusProposalSent:  {lead.StatusNegotiation, lead.StatusLost, lead.StatusDisqualified},
		lead.StatusDemoScheduled: {lead.StatusDemoCompleted, lead.StatusLost, lead.StatusDisqualified},
	}
	for from, want := range tests {
		if got := lead.NextStatuses(from); !slices.Equal(got, want) {
			t.Errorf("NextStatuses(%s) = %v, want %v", from, got, want)
		}
	}
}

func TestParseStatusAndSource(t *testing.T) {
	for _, s := range lead.Statuses {
		if got, ok := lead.ParseStatus(string(s)); !ok || got != s {
			t.Errorf("ParseStatus(%q) = %q, %v", s, got, ok)
		}
	}
	for _, s := range lead.Sources {
		if got, ok := lead.ParseSource(string(s)); !ok || got != s {
			t.Errorf("ParseSource(%q) = %q, %v", s, got, ok)
		}
	}
	for _, bad := range []string{"", "New", " new", "open", "demo-scheduled", "email "} {
		if _, ok := lead.ParseStatus(bad); ok {
			t.Errorf("ParseStatus(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "Email", "web", "social media", "import\n"} {
		if _, ok := lead.ParseSource(bad); ok {
			t.Errorf("ParseSource(%q) accepted", bad)
		}
	}
}
