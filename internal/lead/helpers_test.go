package lead_test

import "github.com/norsedigital/leads/internal/lead"

func ptr[T any](v T) *T { return &v }

// validBooking passes every rule; tests change one field at a time.
func validBooking() lead.BookingInput {
	return lead.BookingInput{
		FirstName:        "Kari",
		LastName:         "Nordmann",
		Email:            "kari.nordmann@example.no",
		Phone:            "+47 22 33 44 55",
		OrganizationName: "Frivillig Norge",
		ConsentGiven:     ptr(true),
	}
}

// issuesOn returns the issues on one field.
func issuesOn(issues []lead.Issue, field string) []lead.Issue {
	var out []lead.Issue
	for _, is := range issues {
		if is.Field == field {
			out = append(out, is)
		}
	}
	return out
}
