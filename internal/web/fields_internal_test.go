package web

import (
	"slices"
	"testing"

	"github.com/norsedigital/leads/internal/lead"
)

// TestBookingFormUsesTheFieldTable: the form shows or carries hidden every text field a
// booking takes, each once, with the table's limit and required-ness, and its checkbox is
// the booking's consent field.
func TestBookingFormUsesTheFieldTable(t *testing.T) {
	var names []string
	for _, f := range bookingFields {
		tf, ok := lead.LookupField(f.Name)
		if !ok || f.MaxLength != tf.Limit || f.Required != tf.Required || f.MaxLength == 0 {
			t.Errorf("%s: maxlength %d, required %v; the table %+v", f.Name, f.MaxLength, f.Required, tf)
		}
		names = append(names, f.Name)
	}
	names = append(names, utmFields...)
	want := lead.FieldNames(func(f *lead.Field) bool { return f.BookingText(&lead.BookingInput{}) != nil })
	if !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(want))) {
		t.Errorf("form fields %v, the table's booking text fields %v", names, want)
	}
	if !slices.Equal(utmFields, []string{"utm_source", "utm_medium", "utm_campaign"}) {
		t.Errorf("hidden fields %v", utmFields)
	}
	if f, ok := lead.LookupField(consentField); !ok || f.BookingBool(&lead.BookingInput{}) == nil {
		t.Errorf("the checkbox %q is not the booking's consent field", consentField)
	}
}
