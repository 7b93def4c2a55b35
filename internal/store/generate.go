package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/norsedigital/leads/internal/lead"
)

// GenerateOptions tune Generate; the zero value is usable.
type GenerateOptions struct {
	// Seed makes the data reproducible: the same seed gives the same leads, ids and emails,
	// so a second run into the same database needs another seed (emails are unique).
	Seed int64
	// Span spreads created_at evenly over [now-Span, now]; two years when zero.
	Span time.Duration
	// Progress, when set, is called after every committed batch with the rows so far.
	Progress func(done int)
}

// generateActor is the actor of the events the generator writes.
const generateActor = "generator"

const (
	genRowsPerStatement = 500    // 22 parameters a row: far below both engines' limits
	genProgressEvery    = 10_000 // leads between two progress reports
)

// Generate inserts n synthetic, realistic leads for tests, benchmarks and demos: varied
// names and organizations, unique emails, every source and status (older leads further
// along the pipeline), some phones, messages, notes and UTM values, created_at spread
// over Span in ascending order (as real traffic is inserted). demo_booking leads get their
// booking row; lost and disqualified leads get the status_changed event that shows how far
// they had come, so the statistics have something to count. Other events are not written.
//
// Rows go in as prepared multi-row INSERTs in one transaction, with the secondary indexes
// built afresh after them when the load at least doubles the tables and the search index
// brought up to date once (Store.bulkInsert). The transaction holds the tables until it
// commits: a load of a million rows is for a quiet database.
func (s *Store) Generate(ctx context.Context, n int, opts GenerateOptions) error {
	if n < 0 {
		return fmt.Errorf("generate: negative count")
	}
	span := opts.Span
	if span <= 0 {
		span = 2 * 365 * 24 * time.Hour
	}
	g := newGenerator(opts.Seed, s.now().UTC().Truncate(time.Microsecond), span, n)
	finish, err := s.d.bulkLoad(ctx, s.write)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if err := s.generate(ctx, g, n, opts.Progress); err != nil {
		finish(context.WithoutCancel(ctx))
		return err
	}
	if err := finish(ctx); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	return nil
}

// generate writes the n leads in one transaction: the DDL of bulkInsert must not be seen
// half done. It holds the tables (the database, on SQLite) until it commits.
func (s *Store) generate(ctx context.Context, g *generator, n int, progress func(int)) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var existing int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM leads`).Scan(&existing); err != nil {
			return err
		}
		return s.bulkInsert(ctx, tx, n >= existing, func() error {
			return s.generateRows(ctx, tx, g, n, progress)
		})
	})
	if s.d.isUniqueViolation(err) {
		return fmt.Errorf("generate: these leads already exist (same seed as an earlier run?): use another seed")
	}
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	return nil
}

// schemaObject is an index or trigger a bulk load drops and creates again.
type schemaObject struct{ drop, create string }

func querySchemaObjects(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]schemaObject, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.drop, &o.create); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// bulkInsert runs insert, which adds leads (with their bookings and events) to the end of
// the tables in tx, with what slows row-by-row inserts dropped (dialect.bulkDroppable),
// then builds that again and brings the search index up to date.
func (s *Store) bulkInsert(ctx context.Context, tx *sql.Tx, rebuild bool, insert func() error) error {
	objects, err := s.d.bulkDroppable(ctx, tx, rebuild)
	if err != nil {
		return err
	}
	indexSearch, err := s.d.bulkIndexSearch(ctx, tx)
	if err != nil {
		return err
	}
	for _, o := range objects {
		if _, err := tx.ExecContext(ctx, o.drop); err != nil {
			return err
		}
	}
	if err := insert(); err != nil {
		return err
	}
	for _, o := range objects {
		if _, err := tx.ExecContext(ctx, o.create); err != nil {
			return err
		}
	}
	return indexSearch()
}

// generateRows inserts the generator's n leads (and their bookings and events) in tx, with
// statements of genRowsPerStatement rows, each prepared once. The rows are made on another
// goroutine, a chunk ahead: the engine's work is on this one.
func (s *Store) generateRows(ctx context.Context, tx *sql.Tx, g *generator, n int, progress func(int)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the maker when an insert fails
	chunks := make(chan genChunk, 2)
	go g.makeChunks(ctx, n, chunks)

	tables := []*bulkInsert{{head: genLeadSQL}, {head: genBookingSQL}, {head: genEventSQL}}
	defer func() {
		for _, t := range tables {
			if t.full != nil {
				t.full.Close()
			}
		}
	}()
	done := 0
	for c := range chunks {
		for k, t := range tables {
			t.add(c.args[k], c.widths[k])
		}
		// bookings and events go in after the leads they reference
		if tables[0].ready() {
			for _, t := range tables {
				for t.ready() {
					if err := s.insertFull(ctx, tx, t); err != nil {
						return err
					}
				}
			}
		}
		if done/genProgressEvery != (done+c.leads)/genProgressEvery && progress != nil {
			progress(done + c.leads)
		}
		done += c.leads
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		if err := s.flushRows(ctx, tx, t); err != nil { // in order: leads first
			return err
		}
	}
	if progress != nil && n%genProgressEvery != 0 {
		progress(n)
	}
	return nil
}

// genChunk is the values of genRowsPerStatement leads' rows (fewer in the last chunk), one
// row after another for each table: leads, bookings, events.
type genChunk struct {
	args   [3][]any
	widths [3]int
	leads  int
}

// makeChunks sends the n leads' rows in chunks and closes out, early when ctx is done.
func (g *generator) makeChunks(ctx context.Context, n int, out chan<- genChunk) {
	defer close(out)
	for start := 0; start < n; start += genRowsPerStatement {
		c := genChunk{leads: min(genRowsPerStatement, n-start)}
		for i := start; i < start+c.leads; i++ {
			for k, row := range g.row(i) {
				if row != nil {
					c.widths[k] = len(row)
					c.args[k] = append(c.args[k], row...)
				}
			}
		}
		select {
		case out <- c:
		case <-ctx.Done():
			return
		}
	}
}

const (
	genLeadSQL = `INSERT INTO leads (id, first_name, last_name, email, email_normalized, phone, organization_name,
	organization_type, organization_size, role_title, source, status, notes, message, utm_source, utm_medium,
	utm_campaign, ip_address, consent_given, consent_timestamp, created_at, updated_at) VALUES `
	genBookingSQL = `INSERT INTO bookings (id, lead_id, first_name, last_name, email, phone, organization_name,
	organization_type, organization_size, role_title, message, utm_source, utm_medium, utm_campaign, ip_address,
	user_agent, consent_version, consent_timestamp, created_at) VALUES `
	genEventSQL = `INSERT INTO lead_events (id, lead_id, type, actor, details, created_at) VALUES `
)

// bulkInsert gathers the rows of one table into multi-row INSERTs.
type bulkInsert struct {
	head  string
	width int
	args  []any
	full  *sql.Stmt // the INSERT of genRowsPerStatement rows, prepared on first use
}

// add appends the values of whole rows of width values each.
func (t *bulkInsert) add(values []any, width int) {
	if len(values) > 0 {
		t.width = width
		t.args = append(t.args, values...)
	}
}

// ready reports whether a full statement's rows are waiting.
func (t *bulkInsert) ready() bool {
	return t.width > 0 && len(t.args) >= genRowsPerStatement*t.width
}

// insertFull inserts the first genRowsPerStatement waiting rows.
func (s *Store) insertFull(ctx context.Context, tx *sql.Tx, t *bulkInsert) error {
	if t.full == nil {
		st, err := tx.PrepareContext(ctx, s.multiRowInsert(t.head, t.width, genRowsPerStatement))
		if err != nil {
			return err
		}
		t.full = st
	}
	n := genRowsPerStatement * t.width
	if _, err := t.full.ExecContext(ctx, t.args[:n]...); err != nil {
		return err
	}
	t.args = append(t.args[:0], t.args[n:]...)
	return nil
}

// flushRows inserts the rows left over, fewer than a full statement.
func (s *Store) flushRows(ctx context.Context, tx *sql.Tx, t *bulkInsert) error {
	for t.ready() {
		if err := s.insertFull(ctx, tx, t); err != nil {
			return err
		}
	}
	if len(t.args) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.multiRowInsert(t.head, t.width, len(t.args)/t.width), s.d.unpreparedArgs(t.args)...)
	t.args = t.args[:0]
	return err
}

// multiRowInsert is head followed by rows groups of width placeholders, numbered in order.
func (s *Store) multiRowInsert(head string, width, rows int) string {
	var b strings.Builder
	b.WriteString(head)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + s.paramList(i*width+1, width) + ")")
	}
	return b.String()
}

// generator makes the rows; one per Generate call, not safe for concurrent use.
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

// row returns the i-th lead's INSERT values, its booking's (or nil) and its event's (or nil).
func (g *generator) row(i int) [3][]any {
	r := g.r
	created := g.start.Add(time.Duration(i)*g.step + time.Duration(r.Int64N(int64(g.step)+1))).Truncate(time.Microsecond)
	if created.After(g.now) {
		created = g.now
	}
	age := g.now.Sub(created)
	id := uuidV7At(created, r)
	first, last := pick(r, genFirstNames), pick(r, genLastNames)
	org := pick(r, genPlaces) + " " + pick(r, genOrgWords) + " " + pick(r, genOrgKinds)
	domain := asciiSlug(org) + pick(r, genTLDs)
	email := asciiSlug(first) + "." + asciiSlug(last) + "." + g.tag + strconv.FormatInt(int64(i), 36) + "@" + domain
	source := weighted(r, genSources)
	status, reachedStage := genStatus(r, age)

	opt := func(p float64, v string) any {
		if r.Float64() < p {
			return v
		}
		return nil
	}
	phone := opt(0.6, fmt.Sprintf("+47%08d", 40000000+r.IntN(59999999)))
	oType, oSize, role := opt(0.8, pick(r, genOrgTypes)), opt(0.7, pick(r, genOrgSizes)), opt(0.7, pick(r, genRoles))
	var message, notes, utmSource, utmMedium, utmCampaign, ip any
	if source == lead.SourceDemoBooking || source == lead.SourceContactForm {
		message = opt(0.7, pick(r, genMessages))
	}
	if source == lead.SourceDemoBooking || source == lead.SourceSocialMedia {
		if r.Float64() < 0.7 {
			utmSource, utmMedium, utmCampaign = pick(r, genUTMSources), pick(r, genUTMMediums), pick(r, genCampaigns)
		}
	}
	if source == lead.SourceDemoBooking && age < 30*24*time.Hour {
		ip = fmt.Sprintf("198.51.100.%d", r.IntN(254)+1)
	}
	if status != lead.StatusNew {
		notes = opt(0.3, "["+created.Add(24*time.Hour).Format(time.RFC3339)+"] "+pick(r, genNotes))
	}
	updated := created.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
	if updated.After(g.now) {
		updated = g.now
	}
	c, u := ts(created), ts(updated)
	leadRow := []any{id, first, last, email, lead.NormalizeEmail(email), phone, org, oType, oSize, role,
		string(source), string(status), notes, message, utmSource, utmMedium, utmCampaign, ip, true, c, c, u}

	var bookingRow, eventRow []any
	if source == lead.SourceDemoBooking {
		bookingRow = []any{uuidV7At(created, r), id, first, last, email, phone, org, oType, oSize, role, message,
			utmSource, utmMedium, utmCampaign, ip, pick(r, genUserAgents), "2026-01", c, c}
	}
	if status == lead.StatusLost || status == lead.StatusDisqualified {
		details := `{"from":"` + string(lead.Pipeline[reachedStage]) + `","to":"` + string(status) + `"}`
		eventRow = []any{uuidV7At(updated, r), id, EventStatusChanged, generateActor, details, u}
	}
	return [3][]any{leadRow, bookingRow, eventRow}
}

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
			if a, ok := genASCII[c]; ok {
				b.WriteString(a)
			}
		}
	}
	return b.String()
}

var genASCII = map[rune]string{'æ': "ae", 'ø': "o", 'å': "a", 'ä': "a", 'ö': "o", 'é': "e", 'è': "e", 'ü': "u",
	'ñ': "n", 'ó': "o", 'á': "a", 'í': "i", 'ç': "c", 'ł': "l", 'ş': "s", 'ğ': "g", 'ı': "i"}

var (
	genFirstNames = []string{"Ada", "Øyvind", "Åse", "Ingrid", "Kari", "Ola", "Nora", "Emma", "Jakob", "Lars", "Sofie",
		"Henrik", "Maja", "Elias", "Astrid", "Bjørn", "Sigrid", "Magnus", "Thea", "Sander", "Liv", "Tobias", "Ida",
		"Mohammed", "Fatima", "Amir", "Leila", "Yusuf", "Aisha", "Omar", "Zainab", "Mei", "Wei", "Li", "Hiroshi",
		"Yuki", "Priya", "Arjun", "Ananya", "Rahul", "José", "María", "Lucía", "Carlos", "Sofía", "Mateo", "Chloé",
		"Léa", "Élodie", "Lukas", "Jonas", "Mia", "Anna", "Katarzyna", "Piotr", "Agnieszka", "Olena", "Dmytro",
		"Mehmet", "Ayşe", "Emre", "Kwame", "Amara", "Chinedu", "Ngozi", "Tariq", "Noor", "Eero", "Aino", "Sven",
		"Karin", "Freja", "Mads", "Søren", "Grace", "James", "Olivia", "William", "Charlotte", "Daniel", "Hannah"}
	genLastNames = []string{"Lovelace", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
		"Kristiansen", "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Johannessen",
		"Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen", "Lund", "Sørensen", "Jakobsen",
		"Moen", "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen",
		"Bakken", "Kristoffersen", "Mathisen", "Lie", "Amundsen", "Nguyen", "Rasmussen", "Ali", "Ahmed", "Hussain",
		"Khan", "Mohamed", "Yilmaz", "Kaya", "Nowak", "Kowalski", "Wiśniewski", "Kovalenko", "Shevchenko", "García",
		"Rodríguez", "Martínez", "López", "Müller", "Schmidt", "Schneider", "Fischer", "Dubois", "Lefèvre", "Rossi",
		"Russo", "Tanaka", "Suzuki", "Wang", "Zhang", "Chen", "Liu", "Patel", "Sharma", "Singh", "Okafor", "Mensah",
		"Virtanen", "Korhonen", "Lindqvist", "Nyström", "Åberg", "Smith", "Jones", "Taylor", "Brown", "Wilson",
		"O'Brien", "Murphy", "Kelly", "Walsh", "Byrne", "Ryan", "da Silva", "Santos", "Ferreira", "Wu"}
	genPlaces = []string{"Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø", "Drammen", "Kristiansand", "Bodø",
		"Ålesund", "Fredrikstad", "Hamar", "Lillehammer", "Molde", "Narvik", "Alta", "Stockholm", "Göteborg",
		"Malmö", "Uppsala", "København", "Aarhus", "Odense", "Helsinki", "Tampere", "Reykjavík", "Nordic",
		"Northern", "Coastal", "Fjord", "Valley", "City", "Harbour", "Inland", "Westside", "Eastgate", "Riverside",
		"Highland", "Midtown", "Southern", "Arctic"}
	genOrgWords = []string{"Youth", "Volunteer", "Refugee", "Senior", "Student", "Community", "Family", "Peer",
		"Women's", "Newcomer", "Neighbourhood", "Sports", "Literacy", "Health", "Recovery", "Career", "Mentoring",
		"Friendship", "Welcome", "Inclusion"}
	genOrgKinds = []string{"Mentors", "Network", "Association", "Foundation", "Alliance", "Centre", "Council",
		"Initiative", "Society", "Trust", "Club", "Partnership", "Collective", "Services", "Project", "Hub",
		"Red Cross", "Church Council", "Municipality", "Union"}
	genTLDs       = []string{".example", ".example.org", ".example.no", ".example.net"}
	genOrgTypes   = []string{"non-profit", "public sector", "membership organization", "foundation", "municipality", "university", "faith-based organization", "sports club"}
	genOrgSizes   = []string{"1-10", "10-50", "50-200", "200-1000", "1000+"}
	genRoles      = []string{"Volunteer Coordinator", "Program Manager", "Executive Director", "Head of Volunteering", "Mentor Lead", "Operations Manager", "Project Coordinator", "CEO", "Community Manager", "IT Lead"}
	genMessages   = []string{"We run 40 mentors and want to stop using spreadsheets.", "Could you show us how matching works?", "We are a small team with <50 volunteers; is Meander a fit?", "Interested in the reporting features for our R&D grant.", "Our municipality is looking for a platform for refugee mentors.", "Please call me next week.", "We need GDPR-compliant volunteer records.", "How does pricing work for non-profits?"}
	genNotes      = []string{"Called, left a voicemail.", "Good call; sending the deck.", "Budget decision in Q3.", "Wants a pilot with two programmes.", "Asked for references.", "Decision maker is the board."}
	genCampaigns  = []string{"spring-webinar", "volunteer-week", "nonprofit-summit", "newsletter-march", "linkedin-mentors", "retargeting", "partner-launch", "autumn-demo-days"}
	genUTMSources = []string{"google", "linkedin", "facebook", "newsletter", "partner-site"}
	genUTMMediums = []string{"cpc", "social", "email", "referral"}
	genUserAgents = []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148"}
	genSources    = []weightedSource{{lead.SourceDemoBooking, 35}, {lead.SourceContactForm, 15}, {lead.SourceEmail, 8},
		{lead.SourcePhone, 5}, {lead.SourceEvent, 10}, {lead.SourceReferral, 8}, {lead.SourcePartner, 6},
		{lead.SourceSocialMedia, 7}, {lead.SourceImport, 4}, {lead.SourceOther, 2}}
)
