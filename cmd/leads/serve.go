package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/norsedigital/leads/internal/calendar"
	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/i18n"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/metrics"
	"github.com/norsedigital/leads/internal/store"
	"github.com/norsedigital/leads/internal/web"
	"github.com/norsedigital/leads/internal/webhook"
)

// openStore opens and migrates the database; clock stamps what the store writes.
func openStore(ctx context.Context, cfg *config, logger *slog.Logger, clock func() time.Time) (*store.Store, error) {
	s, err := store.Open(ctx, cfg.Database, store.Options{Now: clock, MaxConns: cfg.DBMaxConns,
		Calendar: calendar.New(cfg.Location), ContactSLA: cfg.ContactSLA, DefaultOwner: cfg.DefaultOwner})
	if err != nil {
		return nil, err
	}
	n, err := s.Migrate(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	logger.Info("database ready", "engine", s.Engine(), "migrations_applied", n)
	return s, nil
}

func migrate(ctx context.Context, cfg *config, logger *slog.Logger, stdout io.Writer) error {
	s, err := openStore(ctx, cfg, logger, time.Now)
	if err != nil {
		return err
	}
	return s.Close()
}

// serve runs the HTTP server and the workers until ctx is cancelled (SIGTERM), then shuts
// down in an order that loses nothing and sends nothing twice (issue 19):
//  1. the listeners close and the requests in flight finish: every booking answered is
//     committed, with its email job;
//  2. the workers claim nothing more, give back what they claimed and did not begin, and
//     finish the deliveries in flight: an email sent is marked done;
//  3. only then is the store closed, after the last writes waiting for a shared commit.
//
// All of it within cfg.ShutdownTimeout; past it, serve says so in the log and returns an
// error without waiting further (a delivery abandoned then is sent again after its lease).
func serve(ctx context.Context, cfg *config, logger *slog.Logger) error {
	if path := cfg.getenv("LEADS_CPUPROFILE"); path != "" {
		// for the load benchmark (go run ./cmd/leadsbench -cpuprofile): the whole run's profile
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if cfg.getenv("GOGC") == "" {
		// A booking allocates some 60 KB (request, JSON, SQL arguments, the email) over a
		// live heap of a few MB, so the default GOGC=100 collected many times a second: at
		// 200 a booking cost 8–12% less CPU at 8 and 64 clients for 6–8 MB more peak RSS
		// (docs/benchmarks.md). GOGC set by the operator wins.
		debug.SetGCPercent(200)
	}
	// one clock for the store and the booking service: the rate limit compares their times
	clock := time.Now
	st, err := openStore(ctx, cfg, logger, clock)
	if err != nil {
		return err
	}
	defer st.Close()

	var sender mail.Sender = mail.NewLogSender(logger)
	if cfg.SMTP != "" {
		if sender, err = mail.NewSMTPSender(cfg.SMTP, cfg.MailFrom); err != nil {
			return err
		}
	}
	// one message catalog for the pages and every email
	catalog, err := i18n.NewCatalog()
	if err != nil {
		return err
	}
	renderer, err := mail.NewRenderer(catalog)
	if err != nil {
		return err
	}
	invitations, err := mail.NewInvitationRenderer(catalog)
	if err != nil {
		return err
	}
	// every email to a lead carries a fresh link to their own page (SPEC §14)
	personalLinks := jobs.PersonalLinks{PublicURL: cfg.PublicURL}
	demoEmails := &jobs.DemoEmails{Store: st, Renderer: invitations, Location: cfg.Location, PublicURL: cfg.PublicURL,
		PersonalLink: personalLinks.URL}
	ownerRenderer, err := mail.NewOwnerRenderer(catalog)
	if err != nil {
		return err
	}
	ownerEmails := &jobs.OwnerEmails{Store: st, Renderer: ownerRenderer, PublicURL: cfg.PublicURL, Location: cfg.Location}
	clientIP, err := httpapi.NewClientIPHeader(cfg.trustedProxies(), cfg.ClientIPHeader)
	if err != nil {
		return err
	}
	// one registry per server, never the global one: tests run several servers in a process
	reg := metrics.New(st, metrics.Options{})
	// demo scheduling (SPEC §13): working days and slots in --timezone
	demoRules := &store.DemoRules{Calendar: calendar.New(cfg.Location), Hours: cfg.DemoHours, Length: cfg.DemoLength}
	booker := &intake.Service{Store: st, RateLimit: cfg.RateLimit, ConsentVersion: cfg.ConsentVersion,
		Now: clock, Observe: reg.ObserveBooking, Demos: demoRules,
		SpamPolicy: cfg.SpamPolicy, PowMaxNumber: cfg.PowMaxNumber, Logger: logger}
	pages, err := web.New(web.Config{Store: st, Catalog: catalog, Intake: booker, ClientIP: clientIP.Of, Logger: logger,
		IPRetention: cfg.IPRetention, SecureCookies: cfg.behindTLS(), Location: cfg.Location,
		InactiveRetention: cfg.InactiveRetention, OIDC: cfg.oidc(), Demos: demoRules})
	if err != nil {
		return err
	}
	hooks := &webhook.Guard{AllowPrivate: cfg.AllowPrivateWebhooks}
	handler := httpapi.NewServer(httpapi.Deps{
		Store:            st,
		Intake:           booker,
		Web:              pages,
		Logger:           logger,
		ClientIP:         clientIP,
		Version:          version(),
		Metrics:          reg,
		MetricsElsewhere: cfg.AdminAddr != "",
		Webhooks:         hooks,
		HSTS:             cfg.behindTLS(),
		Demos:            demoRules,
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	servers := []*http.Server{srv}
	listeners := []net.Listener{ln}
	if cfg.AdminAddr != "" {
		adminLn, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			ln.Close()
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", reg.Handler())
		servers = append(servers, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: time.Minute, ErrorLog: srv.ErrorLog})
		listeners = append(listeners, adminLn)
		logger.Info("admin listening", "addr", adminLn.Addr().String())
	}
	logger.Info("listening", "addr", ln.Addr().String(), "version", version())

	// every email to a lead carries a fresh link to their own page (SPEC §14)
	linkRenderer, err := mail.NewPersonalLinkRenderer(catalog)
	if err != nil {
		return err
	}
	// the email kinds other than the confirmation, each composed by its feature
	composers := map[string]jobs.Composer{
		store.EmailSignInLink:   jobs.SignInLinkComposer(st, cfg.PublicURL, clock),
		store.EmailPersonalLink: personalLinks.Composer(linkRenderer, cfg.PublicURL+"/privacy"),
	}
	maps.Copy(composers, demoEmails.Composers())
	maps.Copy(composers, ownerEmails.Composers())

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		(&jobs.EmailWorker{Store: st, Sender: sender, Renderer: renderer, Logger: logger,
			PrivacyURL: cfg.PublicURL + "/privacy", BaseBackoff: cfg.MailRetry, Lease: cfg.MailLease,
			Observe: reg.ObserveEmail, PersonalLink: personalLinks.URL, Composers: composers}).Run(workCtx)
	})

	wg.Go(func() {
		(&jobs.WebhookWorker{Store: st, Guard: hooks, Logger: logger}).Run(workCtx)
	})
	wg.Go(func() {
		// first round shortly after start, then hourly; one instance at a time does a round.
		// Addresses stay at least as long as the rate limit's window, which counts them.
		// held submissions (SPEC §15) go after HeldRetention, whatever --ip-retention says
		(&jobs.RetentionJob{Store: st, Retention: max(cfg.IPRetention, cfg.RateLimit.Window), Logger: logger,
			InactiveRetention: cfg.InactiveRetention, HeldRetention: jobs.DefaultHeldRetention}).Run(workCtx)
	})

	// Start-up (migrations, templates, the catalogs) leaves garbage the first collection
	// would free only once the heap has doubled: give it back now, so that an idle
	// instance holds what it uses (SPEC §8: < 30 MB idle).
	debug.FreeOSMemory()
	errc := make(chan error, len(servers))
	for i, sv := range servers {
		go func() { errc <- sv.Serve(listeners[i]) }()
	}
	select {
	case err := <-errc:
		for _, sv := range servers {
			sv.Close()
		}
		stopWork()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests", "timeout", cfg.ShutdownTimeout.String())
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	err = nil
	for _, sv := range servers {
		if e := sv.Shutdown(shutCtx); e != nil && !errors.Is(e, http.ErrServerClosed) {
			err = errors.Join(err, e)
		}
	}
	if err != nil {
		for _, sv := range servers {
			sv.Close()
		}
		stopWork()
		if shutCtx.Err() == nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		// no personal data: only what was still running
		logger.Error("shutdown deadline passed: requests still in flight were cut", "timeout", cfg.ShutdownTimeout.String())
		return fmt.Errorf("shutdown: requests still in flight after %v", cfg.ShutdownTimeout)
	}
	logger.Info("shutting down: stopping workers")
	stopWork()
	workersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(workersDone)
	}()
	select {
	case <-workersDone:
	case <-shutCtx.Done():
		logger.Error("shutdown deadline passed: email or webhook deliveries still in flight were abandoned; "+
			"they are sent again when their lease runs out", "timeout", cfg.ShutdownTimeout.String(),
			"mail_lease", cfg.MailLease.String())
		return fmt.Errorf("shutdown: deliveries still in flight after %v", cfg.ShutdownTimeout)
	}
	logger.Info("stopped")
	return nil // the deferred Close flushes the store's last grouped writes
}
