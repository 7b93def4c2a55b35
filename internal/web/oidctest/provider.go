// Package oidctest starts a real OpenID provider for tests: the op package of
// github.com/zitadel/oidc serves discovery, the keys, the authorization and token
// endpoints and userinfo over TCP; this package is only its storage (one confidential
// client, some users, an RSA signing key, requests in memory) and a login step that signs
// in the user a test chose. Knobs make the provider misbehave the ways a single sign-on
// client must refuse: another nonce, another audience, another issuer in the ID token.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person the provider knows.
type User struct {
	ID            string
	Email         string
	EmailVerified bool
}

// Provider is a running OpenID provider.
type Provider struct {
	Issuer       string
	ClientID     string
	ClientSecret string

	mu       sync.Mutex
	users    map[string]User
	current  string // who signs in at the login step
	nonce    *string
	audience []string
	tokenIss string
	requests map[string]*authRequest
	codes    map[string]string
	tokens   map[string]string // access token id → subject
	key      *rsa.PrivateKey
	keyID    string
	clients  map[string]client
}

// Start runs a provider on 127.0.0.1 with the client clientID/secret, whose only redirect
// URI is redirectURI, and users. It stops when the test ends.
func Start(t testing.TB, clientID, secret, redirectURI string, users ...User) *Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{Issuer: "http://" + ln.Addr().String(), ClientID: clientID, ClientSecret: secret,
		users: map[string]User{}, requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]string{},
		key: key, keyID: uuid.NewString(), clients: map[string]client{}}
	p.clients[clientID] = client{id: clientID, secret: secret, redirect: redirectURI}
	for _, u := range users {
		p.users[u.ID] = u
	}
	issuer := func(bool) (op.IssuerFromRequest, error) {
		return func(r *http.Request) string {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.tokenIss != "" && strings.HasSuffix(r.URL.Path, "/oauth/token") {
				return p.tokenIss
			}
			return p.Issuer
		}, nil
	}
	provider, err := op.NewProvider(&op.Config{CryptoKey: sha256.Sum256([]byte("oidctest")), CodeMethodS256: true, AuthMethodPost: true},
		storage{p}, issuer, op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	// the login step: whoever the test chose has signed in
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		p.mu.Lock()
		req, ok := p.requests[id]
		if ok {
			req.subject, req.done, req.authTime = p.current, true, time.Now()
		}
		p.mu.Unlock()
		if !ok {
			http.Error(w, "unknown auth request", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, op.AuthCallbackURL(provider)(op.ContextWithIssuer(r.Context(), p.Issuer), id), http.StatusFound)
	})
	mux.Handle("/", provider)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	return p
}

// AddClient registers another client (for the audience test).
func (p *Provider) AddClient(id, secret, redirectURI string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients[id] = client{id: id, secret: secret, redirect: redirectURI}
}

// SignInAs makes the user id the one who signs in at the next login step.
func (p *Provider) SignInAs(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current = id
}

// WrongNonce makes ID tokens carry nonce instead of the one the client sent.
func (p *Provider) WrongNonce(nonce string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nonce = &nonce
}

// WrongAudience makes the provider take the client for the client other: its ID tokens
// then name other as their audience (op always adds the client the request is for).
func (p *Provider) WrongAudience(other string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.audience = []string{other}
}

// WrongIssuer makes the token endpoint issue ID tokens in the name of iss, while discovery
// keeps naming the provider.
func (p *Provider) WrongIssuer(iss string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokenIss = iss
}

// Reset takes back every knob.
func (p *Provider) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nonce, p.audience, p.tokenIss = nil, nil, ""
}

// authRequest is one authorization request as stored.
type authRequest struct {
	p         *Provider
	id        string
	clientID  string
	redirect  string
	state     string
	nonce     string
	scopes    []string
	challenge *oidc.CodeChallenge
	subject   string
	done      bool
	authTime  time.Time
}

func (a *authRequest) GetID() string          { return a.id }
func (a *authRequest) GetACR() string         { return "" }
func (a *authRequest) GetAMR() []string       { return []string{"pwd"} }
func (a *authRequest) GetAuthTime() time.Time { return a.authTime }
func (a *authRequest) GetClientID() string {
	a.p.mu.Lock()
	defer a.p.mu.Unlock()
	if a.p.audience != nil {
		return a.p.audience[0]
	}
	return a.clientID
}
func (a *authRequest) GetRedirectURI() string { return a.redirect }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseTypeCode
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return "" }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string {
	a.p.mu.Lock()
	defer a.p.mu.Unlock()
	if a.p.nonce != nil {
		return *a.p.nonce
	}
	return a.nonce
}
func (a *authRequest) GetAudience() []string { return []string{a.GetClientID()} }

// client is a confidential web client with a secret and one redirect URI.
type client struct{ id, secret, redirect string }

func (c client) GetID() string                       { return c.id }
func (c client) RedirectURIs() []string              { return []string{c.redirect} }
func (c client) PostLogoutRedirectURIs() []string    { return nil }
func (c client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c client) LoginURL(id string) string           { return "/login?authRequestID=" + id }
func (c client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c client) IDTokenLifetime() time.Duration      { return 5 * time.Minute }
func (c client) DevMode() bool                       { return true } // http redirect URIs on loopback
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c client) IsScopeAllowed(string) bool           { return false }
func (c client) IDTokenUserinfoClaimsAssertion() bool { return true } // email in the ID token
func (c client) ClockSkew() time.Duration             { return 0 }

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

// storage is op.Storage over the Provider's maps.
type storage struct{ p *Provider }

var errNotFound = errors.New("not found")

func (s storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	a := &authRequest{p: s.p, id: uuid.NewString(), clientID: r.ClientID, redirect: r.RedirectURI, state: r.State,
		nonce: r.Nonce, scopes: r.Scopes}
	if r.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	s.p.requests[a.id] = a
	return a, nil
}

func (s storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if a, ok := s.p.requests[id]; ok {
		return a, nil
	}
	return nil, errNotFound
}

func (s storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.p.mu.Lock()
	id, ok := s.p.codes[code]
	s.p.mu.Unlock()
	if !ok {
		return nil, errNotFound
	}
	return s.AuthRequestByID(ctx, id)
}

func (s storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	s.p.codes[code] = id
	return nil
}

func (s storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	delete(s.p.requests, id)
	for c, rid := range s.p.codes {
		if rid == id {
			delete(s.p.codes, c)
		}
	}
	return nil
}

func (s storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	id := uuid.NewString()
	s.p.tokens[id] = r.GetSubject()
	return id, time.Now().Add(5 * time.Minute), nil
}

func (s storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("no refresh tokens")
}

func (s storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s storage) TerminateSession(context.Context, string, string) error { return nil }

func (s storage) RevokeToken(context.Context, string, string, string) *oidc.Error { return nil }

func (s storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{id: s.p.keyID, key: s.p.key}, nil
}

func (s storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{signingKey{id: s.p.keyID, key: s.p.key}}}, nil
}

func (s storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if c, ok := s.p.clients[id]; ok {
		if s.p.audience != nil {
			c.id = s.p.audience[0]
		}
		return c, nil
	}
	return nil, errNotFound
}

func (s storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if c, ok := s.p.clients[id]; ok && c.secret == secret {
		return nil
	}
	return errors.New("invalid client")
}

func (s storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	return s.userinfo(info, r.GetSubject(), scopes)
}

func (s storage) userinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	u, ok := s.p.users[subject]
	if !ok {
		return errNotFound
	}
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeOpenID:
			info.Subject = u.ID
		case oidc.ScopeEmail:
			info.Email, info.EmailVerified = u.Email, oidc.Bool(u.EmailVerified)
		}
	}
	return nil
}

func (s storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	return s.userinfo(info, subject, []string{oidc.ScopeOpenID, oidc.ScopeEmail})
}

func (s storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("no introspection")
}

func (s storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotFound
}

func (s storage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}

func (s storage) Health(context.Context) error { return nil }
