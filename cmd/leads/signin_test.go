package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/mail/mailtest"
)

// The real program sends a sign-in link through its email worker (the composer serve
// registers) and the link opens a session; the logs carry neither the address, the name
// nor the token.
func TestSignInLinkThroughTheProgram(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "leads.db")
	if _, _, err := leadsCmd(t, db, "staff", "add", "--name", "Kari Selger", "--email", "kari@norse.example", "--role", "sales"); err != nil {
		t.Fatal(err)
	}
	smtp := mailtest.Start(t)
	p := startProgram(t, nil, "--database", db, "--smtp", smtp.URL(), "--public-url", "https://leads.norse.example")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, p.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, _ := send("POST", "/console/sign-in/email", url.Values{"email": {"kari@norse.example"}}); status != 200 {
		t.Fatalf("ask: %d", status)
	}
	msgs := smtp.WaitFor(t, 1, 15*time.Second)
	m := regexp.MustCompile(`https://leads\.norse\.example(/console/sign-in/link\?\S+)`).FindStringSubmatch(msgs[0].TextBody())
	if m == nil || msgs[0].To[0] != "kari@norse.example" {
		t.Fatalf("no link to the public URL in:\n%s", msgs[0].TextBody())
	}
	status, page := send("GET", m[1], nil)
	token := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page)
	if status != 200 || token == nil {
		t.Fatalf("link page: %d\n%s", status, page)
	}
	if status, _ := send("POST", "/console/sign-in/link", url.Values{"token": {token[1]}}); status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", status)
	}
	if status, page := send("GET", "/console/leads", nil); status != 200 || !strings.Contains(page, "Kari Selger") {
		t.Fatalf("console: %d", status)
	}
	logs := p.Logs.String()
	for _, secret := range []string{"kari@norse.example", "Kari Selger", token[1], "lsl_"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs carry %q", secret)
		}
	}
	if !strings.Contains(logs, `"outcome":"queued"`) {
		t.Errorf("the request's outcome is not logged:\n%s", logs)
	}
}

func TestSingleSignOnFlagsComeTogether(t *testing.T) {
	err := run(context.Background(), []string{"leads", "migrate", "--database", "sqlite:" + filepath.Join(t.TempDir(), "x.db"),
		"--oidc-issuer", "https://id.norse.example"}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--oidc-client-id") {
		t.Fatalf("an issuer without a client: %v", err)
	}
	env := map[string]string{"LEADS_OIDC_ISSUER": "https://id.norse.example", "LEADS_OIDC_CLIENT_ID": "leads", "LEADS_OIDC_CLIENT_SECRET": "s"}
	if err := run(context.Background(), []string{"leads", "migrate", "--database", "sqlite:" + filepath.Join(t.TempDir(), "y.db")},
		func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
		t.Fatalf("all three from the environment: %v", err)
	}
}
