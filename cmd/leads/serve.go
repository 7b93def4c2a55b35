package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/norsedigital/leads/internal/httpapi"
	"github.com/norsedigital/leads/internal/intake"
	"github.com/norsedigital/leads/internal/jobs"
	"github.com/norsedigital/leads/internal/mail"
	"github.com/norsedigital/leads/internal/store"
)

func openStore(ctx context.Context, cfg *config, logger *slog.Logger) (*store.Store, error) {
	s, err := store.Open(ctx, cfg.Database, store.Options{})
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
	s, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	return s.Close()
}

// serve runs the HTTP server and the email worker until ctx is cancelled (SIGTERM), then
// drains in-flight requests and stops the worker.
func serve(ctx context.Context, cfg *config, logger *slog.Logger) error {
	st, err := openStore(ctx, cfg, logger)
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
	renderer, err := mail.NewRenderer()
	if err != nil {
		return err
	}
	clientIP, err := httpapi.NewClientIP(cfg.trustedProxies())
	if err != nil {
		return err
	}
	handler := httpapi.NewServer(httpapi.Deps{
		Store:    st,
		Intake:   &intake.Service{Store: st, RateLimit: cfg.RateLimit, ConsentVersion: cfg.ConsentVersion},
		Logger:   logger,
		ClientIP: clientIP,
		Version:  version(),
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	logger.Info("listening", "addr", ln.Addr().String(), "version", version())

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		(&jobs.EmailWorker{Store: st, Sender: sender, Renderer: renderer, Logger: logger,
			PrivacyURL: cfg.PublicURL + "/privacy", BaseBackoff: cfg.MailRetry}).Run(workCtx)
	})

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		stopWork()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	stopWork()
	wg.Wait()
	logger.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
