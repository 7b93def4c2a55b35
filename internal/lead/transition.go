package lead

// Pipeline is the forward order of §3.4; a forward move goes exactly one step along it.
var Pipeline = []Status{
	StatusNew, StatusContacted, StatusQualified, StatusDemoScheduled,
	StatusDemoCompleted, StatusProposalSent, StatusNegotiation, StatusWon,
}

// CanTransition reports whether a lead in status from may be moved to status to (SPEC §3.4):
// one step forward along the pipeline; lost from anything but lost and disqualified (won
// included); disqualified from anything but itself. Setting the status a lead already has is
// allowed for every status, because the API treats it as a no-op (200, no event) rather than
// a refused move. Unknown statuses never transition.
func CanTransition(from, to Status) bool {
	if !from.Valid() || !to.Valid() {
		return false
	}
	switch {
	case from == to:
		return true
	case to == StatusDisqualified:
		return true
	case to == StatusLost:
		return from != StatusDisqualified
	}
	i, j := pipelineIndex(from), pipelineIndex(to)
	return i >= 0 && j == i+1
}

// NextStatuses lists the statuses a lead in status from can be moved to, in the order of
// Statuses, without from itself (the no-op is not a move). It is what the console offers
// as buttons and what a refused move's message lists.
func NextStatuses(from Status) []Status {
	var next []Status
	for _, to := range Statuses {
		if to != from && CanTransition(from, to) {
			next = append(next, to)
		}
	}
	return next
}

// Valid reports whether s is one of the ten statuses.
func (s Status) Valid() bool {
	_, ok := ParseStatus(string(s))
	return ok
}

// Valid reports whether s is one of the ten sources.
func (s Source) Valid() bool {
	_, ok := ParseSource(string(s))
	return ok
}

// ParseStatus returns the status spelled exactly s (no trimming or case folding: the API
// values are lower-case identifiers and anything else is status_enum_validation's business).
func ParseStatus(s string) (Status, bool) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// ParseSource returns the source spelled exactly s.
func ParseSource(s string) (Source, bool) {
	for _, src := range Sources {
		if string(src) == s {
			return src, true
		}
	}
	return "", false
}

func pipelineIndex(s Status) int {
	for i, p := range Pipeline {
		if p == s {
			return i
		}
	}
	return -1
}
