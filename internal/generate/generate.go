// Package generate makes synthetic, realistic leads for tests, benchmarks and demos
// (leads generate) and loads them through store.BulkLoad.
package generate

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"iter"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/store"
)

// Options tune Leads; the zero value is usable.
type Options struct {
	// Seed makes the data reproducible: the same seed gives the same leads, ids and emails,
	// so a second run into the same database needs another seed (emails are unique).
	Seed int64
	// Span spreads created_at evenly over [now-Span, now]; two years when zero.
	Span time.Duration
	// Progress, when set, is called as the load goes with the leads stored so far: after
	// every progressEvery of them, and at the end.
	Progress func(done int)
}

// actor is the actor of the events the generator writes.
const actor = "generator"

const (
	batchSize     = 500    // leads handed to the store at a time
	progressEvery = 10_000 // leads between two progress reports
)

// Leads adds n synthetic, realistic leads to s: varied names and organizations, unique
// emails, every source and status (older leads further along the pipeline), some phones,
// messages, notes and UTM values, created_at spread over Span in ascending order (as real
// traffic is inserted). demo_booking leads get their booking row; lost and disqualified
// leads get the status_changed event that shows how far they had come, so the statistics
// have something to count. Other events are not written. The clock is the store's.
//
// The leads are made on another goroutine, a batch ahead of store.BulkLoad, which holds the
// tables until it commits: a load of a million rows is for a quiet database.
func Leads(ctx context.Context, s *store.Store, n int, opts Options) error {
	if n < 0 {
		return fmt.Errorf("generate: negative count")
	}
	span := opts.Span
	if span <= 0 {
		span = 2 * 365 * 24 * time.Hour
	}
	g := newGenerator(opts.Seed, s.Now().UTC().Truncate(time.Microsecond), span, n)
	err := s.BulkLoad(ctx, n, g.batches(n, opts.Progress))
	if lead.ErrorCode(err) == lead.CodeConflict {
		return fmt.Errorf("generate: these leads already exist (same seed as an earlier run?): use another seed")
	}
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if opts.Progress != nil && n%progressEvery != 0 {
		opts.Progress(n)
	}
	return nil
}

// batches yields the n leads in batches made on another goroutine, one batch ahead, and
// reports progress as the store takes them.
func (g *generator) batches(n int, progress func(int)) iter.Seq[[]store.BulkRecord] {
	return func(yield func([]store.BulkRecord) bool) {
		out := make(chan []store.BulkRecord, 2)
		stop := make(chan struct{})
		go func() {
			defer close(out)
			for start := 0; start < n; start += batchSize {
				b := make([]store.BulkRecord, 0, min(batchSize, n-start))
				for i := start; i < start+cap(b); i++ {
					b = append(b, g.record(i))
				}
				select {
				case out <- b:
				case <-stop:
					return
				}
			}
		}()
		defer func() {
			close(stop)
			for range out { // let the maker finish
			}
		}()
		done := 0
		for b := range out {
			if !yield(b) {
				return
			}
			if progress != nil && done/progressEvery != (done+len(b))/progressEvery {
				progress(done + len(b))
			}
			done += len(b)
		}
	}
}

// generator makes the rows; one per Leads call, not safe for concurrent use.
type generator struct {
	r     *rand.Rand
	now   time.Time
	start time.Time
	step  time.Duration
	tag   string // per seed, keeps emails of different runs apart
}

func newGenerator(seed int64, now time.Time, span time.Duration, n int) *generator {
	h := fnv.New32a()
	binary.Write(h, binary.BigEndian, seed)
	g := &generator{r: rand.New(rand.NewPCG(uint64(seed), 0x6c656164)), now: now, start: now.Add(-span),
		tag: strconv.FormatUint(uint64(h.Sum32()), 36)}
	if n > 0 {
		g.step = span / time.Duration(n)
	}
	return g
}

// record returns the i-th lead, with its booking and its event when it has them.
func (g *generator) record(i int) store.BulkRecord {
	r := g.r
	created := g.start.Add(time.Duration(i)*g.step + time.Duration(r.Int64N(int64(g.step)+1))).Truncate(time.Microsecond)
	if created.After(g.now) {
		created = g.now
	}
	age := g.now.Sub(created)
	id := uuidV7At(created, r)
	first, last := pick(r, firstNames), pick(r, lastNames)
	org := pick(r, places) + " " + pick(r, orgWords) + " " + pick(r, orgKinds)
	domain := asciiSlug(org) + pick(r, tlds)
	email := asciiSlug(first) + "." + asciiSlug(last) + "." + g.tag + strconv.FormatInt(int64(i), 36) + "@" + domain
	source := weighted(r, sources)
	status, reachedStage := genStatus(r, age)

	opt := func(p float64, v string) *string {
		if r.Float64() < p {
			return &v
		}
		return nil
	}
	phone := opt(0.6, fmt.Sprintf("+47%08d", 40000000+r.IntN(59999999)))
	oType, oSize, role := opt(0.8, pick(r, orgTypes)), opt(0.7, pick(r, orgSizes)), opt(0.7, pick(r, roles))
	var message, notes, utmSource, utmMedium, utmCampaign, ip *string
	if source == lead.SourceDemoBooking || source == lead.SourceContactForm {
		message = opt(0.7, pick(r, messages))
	}
	if source == lead.SourceDemoBooking || source == lead.SourceSocialMedia {
		if r.Float64() < 0.7 {
			utmSource, utmMedium, utmCampaign = ptr(pick(r, utmSources)), ptr(pick(r, utmMediums)), ptr(pick(r, campaigns))
		}
	}
	if source == lead.SourceDemoBooking && age < 30*24*time.Hour {
		ip = ptr(fmt.Sprintf("198.51.100.%d", r.IntN(254)+1))
	}
	if status != lead.StatusNew {
		notes = opt(0.3, "["+created.Add(24*time.Hour).Format(time.RFC3339)+"] "+pick(r, noteTexts))
	}
	updated := created.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
	if updated.After(g.now) {
		updated = g.now
	}
	rec := store.BulkRecord{Lead: lead.Lead{ID: id, FirstName: first, LastName: last, Email: email, Phone: phone,
		OrganizationName: org, OrganizationType: oType, OrganizationSize: oSize, RoleTitle: role,
		Source: source, Status: status, Notes: notes, Message: message, UTMSource: utmSource, UTMMedium: utmMedium,
		UTMCampaign: utmCampaign, IPAddress: ip, ConsentGiven: true, ConsentTimestamp: &created, CreatedAt: created, UpdatedAt: updated}}
	if source == lead.SourceDemoBooking {
		rec.Booking = &lead.BookingRecord{ID: uuidV7At(created, r), LeadID: id, FirstName: first, LastName: last, Email: email,
			Phone: phone, OrganizationName: org, OrganizationType: oType, OrganizationSize: oSize, RoleTitle: role,
			Message: message, UTMSource: utmSource, UTMMedium: utmMedium, UTMCampaign: utmCampaign, IPAddress: ip,
			UserAgent: ptr(pick(r, userAgents)), ConsentVersion: "2026-01", ConsentTimestamp: created, CreatedAt: created}
	}
	if status == lead.StatusLost || status == lead.StatusDisqualified {
		details := `{"from":"` + string(lead.Pipeline[reachedStage]) + `","to":"` + string(status) + `"}`
		rec.Event = &lead.Event{ID: uuidV7At(updated, r), Type: lead.EventStatusChanged, Actor: actor,
			Details: json.RawMessage(details), CreatedAt: updated}
	}
	return rec
}

func ptr(s string) *string { return &s }

// genStatus walks a lead along the pipeline, further the older it is, and may then lose or
// disqualify it. It returns the status and the furthest stage reached.
func genStatus(r *rand.Rand, age time.Duration) (lead.Status, int) {
	maturity := min(1, age.Hours()/(24*90)) // three months to go the whole way
	advance := []float64{0.85, 0.7, 0.7, 0.85, 0.65, 0.6, 0.5}
	stage := 0
	for stage < len(advance) && r.Float64() < advance[stage]*maturity {
		stage++
	}
	if stage < len(lead.Pipeline)-1 && age > 14*24*time.Hour {
		switch x := r.Float64(); {
		case x < 0.1:
			return lead.StatusDisqualified, stage
		case x < 0.1+0.5*maturity:
			return lead.StatusLost, stage
		}
	}
	return lead.Pipeline[stage], stage
}

// uuidV7At is a UUIDv7 whose time part is t, so that ids sort like created_at.
func uuidV7At(t time.Time, r *rand.Rand) string {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[8:], r.Uint64())
	binary.BigEndian.PutUint64(u[0:8], uint64(t.UnixMilli())<<16|uint64(r.IntN(1<<12)))
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u.String()
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

type weightedSource struct {
	src lead.Source
	w   int
}

func weighted(r *rand.Rand, list []weightedSource) lead.Source {
	total := 0
	for _, x := range list {
		total += x.w
	}
	n := r.IntN(total)
	for _, x := range list {
		if n -= x.w; n < 0 {
			return x.src
		}
	}
	return list[0].src
}

// asciiSlug lower-cases s and spells Nordic and accented letters in ASCII for addresses.
func asciiSlug(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ', c == '-':
			b.WriteByte('-')
		default:
			if a, ok := asciiLetters[c]; ok {
				b.WriteString(a)
			}
		}
	}
	return b.String()
}

var asciiLetters = map[rune]string{'æ': "ae", 'ø': "o", 'å': "a", 'ä': "a", 'ö': "o", 'é': "e", 'è': "e", 'ü': "u",
	'ñ': "n", 'ó': "o", 'á': "a", 'í': "i", 'ç': "c", 'ł': "l", 'ş': "s", 'ğ': "g", 'ı': "i"}

var (
	firstNames = []string{"Ada", "Øyvind", "Åse", "Ingrid", "Kari", "Ola", "Nora", "Emma", "Jakob", "Lars", "Sofie",
		"Henrik", "Maja", "Elias", "Astrid", "Bjørn", "Sigrid", "Magnus", "Thea", "Sander", "Liv", "Tobias", "Ida",
		"Mohammed", "Fatima", "Amir", "Leila", "Yusuf", "Aisha", "Omar", "Zainab", "Mei", "Wei", "Li", "Hiroshi",
		"Yuki", "Priya", "Arjun", "Ananya", "Rahul", "José", "María", "Lucía", "Carlos", "Sofía", "Mateo", "Chloé",
		"Léa", "Élodie", "Lukas", "Jonas", "Mia", "Anna", "Katarzyna", "Piotr", "Agnieszka", "Olena", "Dmytro",
		"Mehmet", "Ayşe", "Emre", "Kwame", "Amara", "Chinedu", "Ngozi", "Tariq", "Noor", "Eero", "Aino", "Sven",
		"Karin", "Freja", "Mads", "Søren", "Grace", "James", "Olivia", "William", "Charlotte", "Daniel", "Hannah"}
	lastNames = []string{"Lovelace", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
		"Kristiansen", "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Johannessen",
		"Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen", "Lund", "Sørensen", "Jakobsen",
		"Moen", "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen",
		"Bakken", "Kristoffersen", "Mathisen", "Lie", "Amundsen", "Nguyen", "Rasmussen", "Ali", "Ahmed", "Hussain",
		"Khan", "Mohamed", "Yilmaz", "Kaya", "Nowak", "Kowalski", "Wiśniewski", "Kovalenko", "Shevchenko", "García",
		"Rodríguez", "Martínez", "López", "Müller", "Schmidt", "Schneider", "Fischer", "Dubois", "Lefèvre", "Rossi",
		"Russo", "Tanaka", "Suzuki", "Wang", "Zhang", "Chen", "Liu", "Patel", "Sharma", "Singh", "Okafor", "Mensah",
		"Virtanen", "Korhonen", "Lindqvist", "Nyström", "Åberg", "Smith", "Jones", "Taylor", "Brown", "Wilson",
		"O'Brien", "Murphy", "Kelly", "Walsh", "Byrne", "Ryan", "da Silva", "Santos", "Ferreira", "Wu"}
	places = []string{"Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø", "Drammen", "Kristiansand", "Bodø",
		"Ålesund", "Fredrikstad", "Hamar", "Lillehammer", "Molde", "Narvik", "Alta", "Stockholm", "Göteborg",
		"Malmö", "Uppsala", "København", "Aarhus", "Odense", "Helsinki", "Tampere", "Reykjavík", "Nordic",
		"Northern", "Coastal", "Fjord", "Valley", "City", "Harbour", "Inland", "Westside", "Eastgate", "Riverside",
		"Highland", "Midtown", "Southern", "Arctic"}
	orgWords = []string{"Youth", "Volunteer", "Refugee", "Senior", "Student", "Community", "Family", "Peer",
		"Women's", "Newcomer", "Neighbourhood", "Sports", "Literacy", "Health", "Recovery", "Career", "Mentoring",
		"Friendship", "Welcome", "Inclusion"}
	orgKinds = []string{"Mentors", "Network", "Association", "Foundation", "Alliance", "Centre", "Council",
		"Initiative", "Society", "Trust", "Club", "Partnership", "Collective", "Services", "Project", "Hub",
		"Red Cross", "Church Council", "Municipality", "Union"}
	tlds       = []string{".example", ".example.org", ".example.no", ".example.net"}
	orgTypes   = []string{"non-profit", "public sector", "membership organization", "foundation", "municipality", "university", "faith-based organization", "sports club"}
	orgSizes   = []string{"1-10", "10-50", "50-200", "200-1000", "1000+"}
	roles      = []string{"Volunteer Coordinator", "Program Manager", "Executive Director", "Head of Volunteering", "Mentor Lead", "Operations Manager", "Project Coordinator", "CEO", "Community Manager", "IT Lead"}
	messages   = []string{"We run 40 mentors and want to stop using spreadsheets.", "Could you show us how matching works?", "We are a small team with <50 volunteers; is Meander a fit?", "Interested in the reporting features for our R&D grant.", "Our municipality is looking for a platform for refugee mentors.", "Please call me next week.", "We need GDPR-compliant volunteer records.", "How does pricing work for non-profits?"}
	noteTexts  = []string{"Called, left a voicemail.", "Good call; sending the deck.", "Budget decision in Q3.", "Wants a pilot with two programmes.", "Asked for references.", "Decision maker is the board."}
	campaigns  = []string{"spring-webinar", "volunteer-week", "nonprofit-summit", "newsletter-march", "linkedin-mentors", "retargeting", "partner-launch", "autumn-demo-days"}
	utmSources = []string{"google", "linkedin", "facebook", "newsletter", "partner-site"}
	utmMediums = []string{"cpc", "social", "email", "referral"}
	userAgents = []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148"}
	sources    = []weightedSource{{lead.SourceDemoBooking, 35}, {lead.SourceContactForm, 15}, {lead.SourceEmail, 8},
		{lead.SourcePhone, 5}, {lead.SourceEvent, 10}, {lead.SourceReferral, 8}, {lead.SourcePartner, 6},
		{lead.SourceSocialMedia, 7}, {lead.SourceImport, 4}, {lead.SourceOther, 2}}
)
