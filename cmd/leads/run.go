package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/spam"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/web"
)

const usage = `leads — lead intake and sales pipeline service

Usage:
  leads serve   [flags]   start the HTTP service and the email worker
  leads migrate [flags]   apply database migrations and exit
  leads token create --name N --role sales|admin   print a new staff API token
  leads token create --staff EMAIL                  print a token that acts as that member
  leads token list | token revoke --name N
  leads staff add --name N --email E --role sales|admin [--weight W] [--language nb|en]
  leads staff list | staff disable --email E        the sales team
  leads generate --count N                          fill the database with N realistic leads
  leads version           print the version

Flags of serve and migrate (each has an environment twin):
`

// run is the whole program: main passes the process's arguments, environment and
// streams, tests pass their own.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		newConfig(getenv).flags(stderr).PrintDefaults()
		return errors.New("missing subcommand")
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, version())
		return nil
	case "serve", "migrate":
		cfg := newConfig(getenv)
		fs := cfg.flags(stderr)
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if err := cfg.validate(); err != nil {
			return err
		}
		logger := slog.New(slog.NewJSONHandler(stderr, nil))
		if cmd == "migrate" {
			return migrate(ctx, cfg, logger, stdout)
		}
		return serve(ctx, cfg, logger)
	case "generate":
		return generateCmd(ctx, rest, getenv, stdout, stderr)
	case "token":
		return tokenCmd(ctx, rest, getenv, stdout, stderr)
	case "staff":
		return staffCmd(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		newConfig(getenv).flags(stdout).PrintDefaults()
		return nil
	}
	return fmt.Errorf("unknown subcommand %q (try: serve, migrate, version)", cmd)
}

// config is every setting of SPEC §6; each flag defaults to its environment twin.
type config struct {
	getenv               func(string) string
	Addr                 string
	Database             string
	SMTP                 string
	MailFrom             string
	TrustedProxies       string
	ClientIPHeader       string
	RateLimitRaw         string
	RateLimit            intake.RateLimit
	IPRetention          time.Duration
	ConsentVersion       string
	AdminAddr            string
	AllowPrivateWebhooks bool
	PublicURL            string
	MailRetry            time.Duration
	MailLease            time.Duration
	ShutdownTimeout      time.Duration
	DBMaxConns           int
	Timezone             string
	Location             *time.Location // of Timezone
	InactiveRetention    time.Duration  // --inactive-retention; 0 keeps inactive leads
	OIDCIssuer           string
	OIDCClientID         string
	OIDCClientSecret     string
	OIDCName             string
	DemoHours            calendar.Hours // --demo-hours
	DemoLength           time.Duration  // --demo-length
	DefaultOwner         string         // SPEC §11: the member given a lead nobody is eligible for
	ContactSLA           int            // SPEC §11: working days to the first contact
	finish               func() error   // converts the parsed raw values
	// spam defence (SPEC §15)
	SpamPolicy   spam.Policy
	PowMaxNumber int64
}

func newConfig(getenv func(string) string) *config { return &config{getenv: getenv} }

func (c *config) flags(out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("leads", flag.ContinueOnError)
	fs.SetOutput(out)
	str := func(p *string, name, env, def, help string) {
		if v := c.getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, help+" ($"+env+")")
	}
	str(&c.Addr, "addr", "LEADS_ADDR", "127.0.0.1:8080", "listen address")
	str(&c.Database, "database", "LEADS_DATABASE_URL", "sqlite:leads.db", "database URL: sqlite:PATH or postgres://…")
	str(&c.SMTP, "smtp", "LEADS_SMTP_URL", "", "SMTP URL smtp://user:pass@host:port or smtps://…; empty logs emails instead")
	str(&c.MailFrom, "mail-from", "LEADS_MAIL_FROM", "Meander <no-reply@meander.invalid>", "From header of emails")
	str(&c.TrustedProxies, "trusted-proxies", "LEADS_TRUSTED_PROXIES", "", "comma list of proxy CIDRs whose X-Forwarded-For is believed")
	str(&c.ClientIPHeader, "client-ip-header", "LEADS_CLIENT_IP_HEADER", "X-Forwarded-For", "the header a trusted proxy sets with the client address: X-Forwarded-For or Forwarded")
	str(&c.RateLimitRaw, "rate-limit", "LEADS_RATE_LIMIT", "5/1h", "accepted bookings per client IP per window")
	retention := "720h"
	str(&retention, "ip-retention", "LEADS_IP_RETENTION", "720h", "how long IP addresses are kept")
	str(&c.ConsentVersion, "consent-version", "LEADS_CONSENT_VERSION", "2026-01", "version of the consent text shown on the form")
	str(&c.AdminAddr, "admin-addr", "LEADS_ADMIN_ADDR", "", "serve /metrics only on this address (empty: on --addr)")
	str(&c.PublicURL, "public-url", "LEADS_PUBLIC_URL", "", "public base URL for links in emails (default http://ADDR)")
	allow, _ := strconv.ParseBool(c.getenv("LEADS_ALLOW_PRIVATE_WEBHOOKS"))
	fs.BoolVar(&c.AllowPrivateWebhooks, "allow-private-webhooks", allow, "allow webhook URLs on private networks ($LEADS_ALLOW_PRIVATE_WEBHOOKS)")
	mailRetry := "5s"
	str(&mailRetry, "mail-retry", "LEADS_MAIL_RETRY", "5s", "first retry delay of a failed email, doubled per attempt up to 1h, for 24h")
	mailLease := "2m"
	str(&mailLease, "mail-lease", "LEADS_MAIL_LEASE", "2m", "how long a worker owns a claimed email; after a crash it is sent again when this runs out")
	shutdown := "25s"
	str(&shutdown, "shutdown-timeout", "LEADS_SHUTDOWN_TIMEOUT", "25s", "on SIGTERM, how long to wait for requests and emails in flight (keep it below the grace period of whatever sends SIGTERM)")
	maxConns := strconv.Itoa(store.DefaultMaxConns)
	str(&maxConns, "db-max-conns", "LEADS_DB_MAX_CONNS", maxConns, "most PostgreSQL connections this instance opens; all instances and tools on a server share its max_connections")
	str(&c.Timezone, "timezone", "LEADS_TIMEZONE", "Europe/Oslo", "IANA time zone of the dates and times the console shows people (the API stays UTC)")
	spamPolicy, powMax := string(spam.PolicyHold), strconv.Itoa(spam.DefaultMaxNumber)
	str(&spamPolicy, "spam-policy", "LEADS_SPAM_POLICY", spamPolicy, "public bookings failing the spam check (proof of work, form age): hold for review, refuse (422), or off")
	str(&powMax, "pow-maxnumber", "LEADS_POW_MAXNUMBER", powMax, "largest secret number of a proof-of-work challenge (the work a client does, on average half of it)")
	str(&c.OIDCIssuer, "oidc-issuer", "LEADS_OIDC_ISSUER", "", "single sign-on: the OpenID provider's issuer URL (with --oidc-client-id and --oidc-client-secret)")
	str(&c.OIDCClientID, "oidc-client-id", "LEADS_OIDC_CLIENT_ID", "", "single sign-on: our client id at the provider")
	str(&c.OIDCClientSecret, "oidc-client-secret", "LEADS_OIDC_CLIENT_SECRET", "", "single sign-on: our client secret at the provider")
	str(&c.OIDCName, "oidc-name", "LEADS_OIDC_NAME", "", "single sign-on: the provider's name on the button (\"Sign in with …\")")
	demoHours, demoLength := "09:00-15:00", "30m"
	str(&demoHours, "demo-hours", "LEADS_DEMO_HOURS", demoHours, "daily window of demos in --timezone, on working days")
	str(&demoLength, "demo-length", "LEADS_DEMO_LENGTH", demoLength, "length of a demo, and the step of the offered slots")
	str(&c.DefaultOwner, "default-owner", "LEADS_DEFAULT_OWNER", "", "email of the member who gets a new lead when no sales member is eligible (empty: no owner)")
	sla := "1"
	str(&sla, "contact-sla", "LEADS_CONTACT_SLA", "1", "working days (in --timezone) within which a new lead must be contacted; 0: at once")
	c.finish = func() error {
		h, err := calendar.ParseHours(demoHours)
		if err != nil {
			return fmt.Errorf("--demo-hours: %w", err)
		}
		c.DemoHours = h
		if c.DemoLength, err = time.ParseDuration(demoLength); err != nil || c.DemoLength < time.Minute || c.DemoLength > h.End-h.Start {
			return fmt.Errorf("--demo-length %q: want a duration like 30m that fits in --demo-hours", demoLength)
		}
		sp, err := spam.ParsePolicy(spamPolicy)
		if err != nil {
			return fmt.Errorf("--spam-policy: %w", err)
		}
		c.SpamPolicy = sp
		pm, err := strconv.ParseInt(powMax, 10, 64)
		if err != nil || pm < 1 || pm > 100_000_000 {
			return fmt.Errorf("--pow-maxnumber %q: want a number from 1 to 100000000, like %d", powMax, spam.DefaultMaxNumber)
		}
		c.PowMaxNumber = pm
		n, err := strconv.Atoi(sla)
		if err != nil || n < 0 {
			return fmt.Errorf("--contact-sla %q: want a whole number of working days, 0 or more", sla)
		}
		c.ContactSLA = n
		mc, err := strconv.Atoi(maxConns)
		if err != nil || mc <= 0 {
			return fmt.Errorf("--db-max-conns %q: want a positive number like %d", maxConns, store.DefaultMaxConns)
		}
		c.DBMaxConns = mc
		loc, err := time.LoadLocation(c.Timezone)
		if err != nil || c.Timezone == "" {
			return fmt.Errorf("--timezone %q: want an IANA time zone like Europe/Oslo", c.Timezone)
		}
		c.Location = loc
		st, err := time.ParseDuration(shutdown)
		if err != nil || st <= 0 {
			return fmt.Errorf("--shutdown-timeout %q: want a positive duration like 25s", shutdown)
		}
		c.ShutdownTimeout = st
		ml, err := time.ParseDuration(mailLease)
		if err != nil || ml <= 0 {
			return fmt.Errorf("--mail-lease %q: want a positive duration like 2m", mailLease)
		}
		c.MailLease = ml
		mr, err := time.ParseDuration(mailRetry)
		if err != nil || mr <= 0 {
			return fmt.Errorf("--mail-retry %q: want a positive duration like 5s", mailRetry)
		}
		c.MailRetry = mr
		d, err := time.ParseDuration(retention)
		if err != nil || d <= 0 {
			return fmt.Errorf("--ip-retention %q: want a positive duration like 720h", retention)
		}
		c.IPRetention = d
		return nil
	}
	// the prospect's own page (SPEC §14): lost and disqualified leads are not kept forever
	inactive := "17520h"
	str(&inactive, "inactive-retention", "LEADS_INACTIVE_RETENTION", inactive, "anonymize lost and disqualified leads unchanged this long (0: never)")
	finish := c.finish
	c.finish = func() error {
		d, err := time.ParseDuration(inactive)
		if err != nil || d < 0 {
			return fmt.Errorf("--inactive-retention %q: want a duration like 17520h, or 0 to keep inactive leads", inactive)
		}
		c.InactiveRetention = d
		return finish()
	}
	return fs
}

func (c *config) validate() error {
	if c.finish != nil {
		if err := c.finish(); err != nil {
			return err
		}
	}
	rl, err := intake.ParseRateLimit(c.RateLimitRaw)
	if err != nil {
		return err
	}
	c.RateLimit = rl
	if c.ClientIPHeader, err = httpapi.ParseClientIPHeader(c.ClientIPHeader); err != nil {
		return fmt.Errorf("--client-ip-header: %w", err)
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	set := 0
	for _, v := range []string{c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		return errors.New("single sign-on needs all of --oidc-issuer, --oidc-client-id and --oidc-client-secret")
	}
	return nil
}

// oidc is the single sign-on setup, or nil when it is off. Discovery waits for the first
// sign-in (web.OIDCConfig), so the service starts while the provider is down.
func (c *config) oidc() *web.OIDCConfig {
	if c.OIDCIssuer == "" {
		return nil
	}
	return &web.OIDCConfig{Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, ClientSecret: c.OIDCClientSecret,
		RedirectURL: c.PublicURL + "/console/oidc/callback", Name: c.OIDCName}
}

// behindTLS reports whether people reach the service over HTTPS (--public-url https://…):
// then the console cookie is Secure and responses carry HSTS.
func (c *config) behindTLS() bool {
	return strings.HasPrefix(strings.ToLower(c.PublicURL), "https://")
}

func (c *config) trustedProxies() []string {
	if strings.TrimSpace(c.TrustedProxies) == "" {
		return nil
	}
	return strings.Split(c.TrustedProxies, ",")
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
