package lead

// Input is the validated booking b as a booking input again, consent given: a held booking
// released later (SPEC §15) is validated once more, as if it arrived then.
func (b Booking) Input() BookingInput {
	var in BookingInput
	for i := range fieldTable {
		f := &fieldTable[i]
		if p, q := f.BookingText(&in), f.booked(&b); p != nil && q != nil {
			*p = *q
		}
	}
	consent := true
	in.ConsentGiven = &consent
	return in
}
