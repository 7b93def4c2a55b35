package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/norsedigital/leads/internal/lead"
)

// OIDCConfig sets up single sign-on with an OpenID provider (SPEC §11): the authorization
// code flow with PKCE, state and nonce, for the active member with the verified email.
type OIDCConfig struct {
	Issuer, ClientID, ClientSecret string
	// RedirectURL is <public-url>/console/oidc/callback, registered with the provider.
	RedirectURL string
	// Name is shown on the button ("Sign in with Name"); a generic label when empty.
	Name string
	// HTTPClient talks to the provider; a client with a 10 s timeout when nil.
	HTTPClient *http.Client
}

const (
	// oidcCookie holds one sign-in attempt's state, nonce and PKCE verifier. SameSite=Lax:
	// the provider sends the browser back with a cross-site top-level GET, which Strict
	// would strip it from.
	oidcCookie     = "leads_oidc"
	oidcCookiePath = "/console/oidc"
	oidcAttempt    = 10 * time.Minute
)

// oidcClient finds the provider lazily: the service starts, and signs in by email link
// and token, while the provider is down; discovery is tried again on the next attempt
// until it succeeds, then kept.
type oidcClient struct {
	cfg OIDCConfig
	mu  sync.Mutex
	rp  *oidc.Provider
}

func newOIDCClient(cfg OIDCConfig) *oidcClient {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &oidcClient{cfg: cfg}
}

// provider is the discovered provider. Discovery checks that the provider's document names
// the configured issuer.
func (c *oidcClient) provider(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rp != nil {
		return c.rp, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, c.cfg.HTTPClient), 10*time.Second)
	defer cancel()
	rp, err := oidc.NewProvider(ctx, c.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	c.rp = rp
	return rp, nil
}

func (c *oidcClient) oauth2(rp *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: rp.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// ssoLabel is the name on the single sign-on button, or "" when it is not set up.
func (p *Pages) ssoLabel(r *http.Request) string {
	if p.oidc == nil {
		return ""
	}
	if p.oidc.cfg.Name != "" {
		return p.oidc.cfg.Name
	}
	return p.tr(r).T("signin.sso_default")
}

func randomString() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// OIDCStart is POST /console/oidc/start: to the provider's authorization endpoint, with a
// fresh state, nonce and PKCE verifier remembered in a short-lived cookie.
func (p *Pages) OIDCStart(w http.ResponseWriter, r *http.Request) {
	tr := p.tr(r)
	if p.oidc == nil {
		p.errorPage(w, r, http.StatusNotFound, tr.T("errors.not_found"), tr.T("signin.sso_off"))
		return
	}
	rp, err := p.oidc.provider(r.Context())
	if err != nil {
		p.oidcRefused(w, r, "discovery_failed", err, http.StatusServiceUnavailable, tr.T("errors.unavailable"), tr.T("signin.sso_unavailable"))
		return
	}
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state + "." + nonce + "." + verifier, Path: oidcCookiePath,
		MaxAge: int(oidcAttempt / time.Second), HttpOnly: true, Secure: p.cfg.SecureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, p.oidc.oauth2(rp).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusSeeOther)
}

// OIDCCallback is GET /console/oidc/callback: the provider's answer. The state must be the
// cookie's, the code is exchanged with the PKCE verifier, the ID token must be signed by
// the provider, issued by the configured issuer, for our client id, unexpired and carry the
// cookie's nonce, and its email must be verified and belong to an active member. Anything
// else is refused with no session and nothing stored.
func (p *Pages) OIDCCallback(w http.ResponseWriter, r *http.Request) {
	tr := p.tr(r)
	if p.oidc == nil {
		p.errorPage(w, r, http.StatusNotFound, tr.T("errors.not_found"), tr.T("signin.sso_off"))
		return
	}
	failed := func(reason string, err error) {
		p.oidcRefused(w, r, reason, err, http.StatusBadRequest, tr.T("signin.sso_refused_title"), tr.T("signin.sso_failed_text"))
	}
	refused := func(reason string, err error) {
		p.oidcRefused(w, r, reason, err, http.StatusForbidden, tr.T("signin.sso_refused_title"), tr.T("signin.sso_refused_text"))
	}
	q := r.URL.Query()
	atSignIn(r)
	c, err := r.Cookie(oidcCookie)
	// one attempt, one callback
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: oidcCookiePath, MaxAge: -1, HttpOnly: true,
		Secure: p.cfg.SecureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	if err != nil {
		failed("no_attempt", nil)
		return
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(parts[0])) != 1 {
		failed("state_mismatch", nil)
		return
	}
	nonce, verifier := parts[1], parts[2]
	if e := q.Get("error"); e != "" {
		refused("provider_error", errors.New(clip(e)))
		return
	}
	rp, err := p.oidc.provider(r.Context())
	if err != nil {
		p.oidcRefused(w, r, "discovery_failed", err, http.StatusServiceUnavailable, tr.T("errors.unavailable"), tr.T("signin.sso_unavailable"))
		return
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), p.oidc.cfg.HTTPClient), 15*time.Second)
	defer cancel()
	tok, err := p.oidc.oauth2(rp).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		failed("code_exchange_failed", err)
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		refused("no_id_token", nil)
		return
	}
	// signature (the provider's published keys), issuer, audience and expiry
	idt, err := rp.VerifierContext(ctx, &oidc.Config{ClientID: p.oidc.cfg.ClientID, Now: p.cfg.Now}).Verify(ctx, rawID)
	if err != nil {
		refused("id_token_invalid", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		refused("nonce_mismatch", nil)
		return
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		refused("claims_unreadable", err)
		return
	}
	if claims.Email == "" {
		// some providers put the email in userinfo only; it must be the same subject's
		info, err := rp.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil || info.Subject != idt.Subject {
			refused("no_email", err)
			return
		}
		claims.Email, claims.EmailVerified = info.Email, info.EmailVerified
	}
	if !verified(claims.EmailVerified) {
		refused("email_unverified", nil)
		return
	}
	m, err := p.cfg.Store.ActiveMemberByEmail(r.Context(), claims.Email)
	if errors.Is(err, lead.ErrNotFound) {
		refused("no_active_member", nil)
		return
	}
	if err != nil {
		p.internalError(w, r, err)
		return
	}
	r, ok := p.openMemberSession(w, r, m)
	if !ok {
		return
	}
	p.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "single sign-on", slog.String("staff_id", m.ID),
		slog.String("request_id", w.Header().Get("X-Request-Id")))
	// a page, not a redirect: after the provider's cross-site redirect the browser would not
	// send the SameSite=Strict session cookie with the next request of the same navigation
	p.render(w, r, http.StatusOK, "console_signin_done", signInData{chrome: p.base(r, p.tr(r).T("signin.done_title"))})
}

// oidcRefused answers a refused single sign-on and logs why: the reason and the library's
// error (issuer and client ids at most), never who tried.
func (p *Pages) oidcRefused(w http.ResponseWriter, r *http.Request, reason string, err error, status int, title, text string) {
	attrs := []slog.Attr{slog.String("reason", reason), slog.String("request_id", w.Header().Get("X-Request-Id"))}
	if err != nil {
		attrs = append(attrs, slog.String("error", clip(err.Error())))
	}
	p.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "single sign-on refused", attrs...)
	p.errorPage(w, r, status, title, text)
}

// verified reads email_verified, which some providers send as a string.
func verified(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		b, _ := strconv.ParseBool(x)
		return b
	}
	return false
}

func clip(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return fmt.Sprintf("%q", s)
}
