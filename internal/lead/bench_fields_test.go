package lead

import "testing"

// BenchmarkValidateBooking is a typical public booking's validation.
func BenchmarkValidateBooking(b *testing.B) {
	consent := true
	in := BookingInput{FirstName: "Kari", LastName: "Nordmann", Email: "kari.nordmann@example.no", Phone: "+47 22 33 44 55",
		OrganizationName: "Frivillig Norge", OrganizationType: "non-profit", OrganizationSize: "10-49", RoleTitle: "Coordinator",
		Message: "We would like to see how mentors are matched.", UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "autumn",
		ConsentGiven: &consent}
	b.ReportAllocs()
	for b.Loop() {
		if _, r := ValidateBooking(in); !r.OK() {
			b.Fatal(r.Errors)
		}
	}
}
