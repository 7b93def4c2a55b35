package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/norsedigital/leads/internal/lead"
	"github.com/norsedigital/leads/internal/webhook"
)

// The Standard Webhooks test vector, checked against an HMAC computed here by hand.
func TestSignStandardWebhooksVector(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts     = int64(1614265330)
		body   = `{"test": 2432232314}`
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + ".1614265330." + body))
	if byHand := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); byHand != want {
		t.Fatalf("hand-computed %s, vector says %s", byHand, want)
	}
	got, err := webhook.Sign(secret, id, ts, []byte(body))
	if err != nil || got != want {
		t.Fatalf("Sign = %q, %v; want %q", got, err, want)
	}
	if !webhook.Verify(secret, id, ts, []byte(body), "v1,bogus "+want) {
		t.Fatal("Verify refused the vector among several signatures")
	}
	for name, c := range map[string]struct {
		id   string
		ts   int64
		body string
	}{"other id": {"msg_x", ts, body}, "other time": {id, ts + 1, body}, "other body": {id, ts, body + " "}} {
		if webhook.Verify(secret, c.id, c.ts, []byte(c.body), want) {
			t.Errorf("%s: signature still verifies", name)
		}
	}
	if _, err := webhook.Sign("whsec_***", id, ts, nil); err == nil {
		t.Error("a secret that is not base64 signs")
	}
}

func TestNewSecret(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets %q %q", a, b)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil || len(key) < 24 {
		t.Fatalf("key of %d bytes, %v", len(key), err)
	}
}

func TestInternal(t *testing.T) {
	for _, c := range []struct {
		addr     string
		internal bool
	}{
		{"127.0.0.1", true}, {"127.255.255.254", true}, {"::1", true},
		{"10.0.0.1", true}, {"172.16.5.4", true}, {"172.31.255.255", true}, {"192.168.1.1", true},
		{"100.64.0.1", true}, {"100.127.255.255", true},
		{"169.254.169.254", true}, {"fe80::1", true},
		{"fc00::1", true}, {"fd12:3456::1", true},
		{"0.0.0.0", true}, {"0.1.2.3", true}, {"::", true},
		{"224.0.0.1", true}, {"239.255.255.250", true}, {"ff02::1", true}, {"255.255.255.255", true},
		{"::ffff:127.0.0.1", true}, {"::ffff:10.1.2.3", true}, {"64:ff9b::a00:1", true}, {"2002:c0a8:101::1", true},
		{"8.8.8.8", false}, {"1.1.1.1", false}, {"100.63.255.255", false}, {"100.128.0.0", false},
		{"172.15.255.255", false}, {"172.32.0.0", false}, {"203.0.113.10", false},
		{"2001:4860:4860::8888", false}, {"::ffff:8.8.8.8", false}, {"64:ff9b::808:808", false},
	} {
		if got := webhook.Internal(netip.MustParseAddr(c.addr)); got != c.internal {
			t.Errorf("Internal(%s) = %v, want %v", c.addr, got, c.internal)
		}
	}
}

// fakeResolver answers from a table; the test machine has no DNS to ask.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	list, ok := f[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range list {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func TestCheckURL(t *testing.T) {
	res := fakeResolver{
		"hooks.example.com":    {"203.0.113.7", "2001:db8::7"},
		"internal.example.com": {"10.1.2.3"},
		"mixed.example.com":    {"203.0.113.8", "127.0.0.1"},
		"metadata.example.com": {"169.254.169.254"},
	}
	strict := &webhook.Guard{Resolver: res}
	open := &webhook.Guard{AllowPrivate: true, Resolver: res}
	for _, c := range []struct {
		url          string
		strict, open bool
	}{
		{"https://hooks.example.com/in?x=1", true, true},
		{"http://203.0.113.10:8080/hook", true, true},
		{"https://[2001:db8::1]/hook", true, true},
		{"https://internal.example.com/hook", false, true},
		{"https://mixed.example.com/hook", false, true},
		{"https://metadata.example.com/latest", false, true},
		{"https://unknown.example.com/hook", false, true},
		{"http://127.0.0.1:9000/hook", false, true},
		{"http://localhost/hook", false, true},
		{"http://api.localhost/hook", false, true},
		{"http://[::1]/hook", false, true},
		{"http://10.0.0.1/", false, true},
		{"http://100.64.1.1/", false, true},
		{"http://169.254.169.254/latest/meta-data", false, true},
		{"http://[fd00::1]/", false, true},
		{"http://0.0.0.0/", false, true},
		{"http://[::ffff:127.0.0.1]/", false, true},
		{"ftp://hooks.example.com/", false, false},
		{"file:///etc/passwd", false, false},
		{"javascript:alert(1)", false, false},
		{"hooks.example.com/hook", false, false},
		{"https:///nohost", false, false},
		{"https://hooks.example.com:99999/", false, false},
		{" https://hooks.example.com/", false, false},
		{"", false, false},
		{"https://hooks.example.com/" + strings.Repeat("a", 2000), false, false},
	} {
		for _, g := range []struct {
			name  string
			guard *webhook.Guard
			want  bool
		}{{"strict", strict, c.strict}, {"allow-private", open, c.open}} {
			_, err := g.guard.CheckURL(context.Background(), c.url)
			if (err == nil) != g.want {
				t.Errorf("%s CheckURL(%.60q) = %v, want allowed=%v", g.name, c.url, err, g.want)
			}
			var ue *webhook.URLError
			if err != nil && (!errors.As(err, &ue) || strings.Contains(err.Error(), "example.com")) {
				t.Errorf("error %q should be a URLError that does not repeat the URL", err)
			}
		}
	}
}

// The dialer itself refuses internal addresses, so a name that resolves differently at
// connect time (DNS rebinding) still cannot reach the internal network.
func TestClientRefusesInternalAddressesAtConnect(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()

	_, err := (&webhook.Guard{}).Client().Post(srv.URL, "application/json", strings.NewReader("{}"))
	if !errors.Is(err, webhook.ErrAddressNotAllowed) {
		t.Fatalf("strict client reached %s: err = %v", srv.URL, err)
	}
	resp, err := (&webhook.Guard{AllowPrivate: true}).Client().Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("receiver saw %d requests, want 1 (from the allow-private client only)", hits.Load())
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed.Store(true)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	resp, err := (&webhook.Guard{AllowPrivate: true}).Client().Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || followed.Load() {
		t.Fatalf("status %d, followed %v", resp.StatusCode, followed.Load())
	}
}

func TestBuildPayload(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	phone := "+4722334455"
	l := lead.Lead{ID: "0195f0a4-0000-7000-8000-000000000001", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.org",
		Phone: &phone, OrganizationName: "Analytical", Source: lead.SourceImport, Status: lead.StatusNew, ConsentGiven: true,
		CreatedAt: at, UpdatedAt: at}
	body, err := webhook.BuildPayload(webhook.EventLeadStatusChanged, at, l, map[string]any{"from": lead.StatusNew, "to": lead.StatusContacted})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type      string
		Timestamp string
		Data      struct {
			Lead     map[string]any
			From, To string
		}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(l)
	var wantLead map[string]any
	json.Unmarshal(want, &wantLead)
	if got.Type != "lead.status_changed" || got.Timestamp != "2026-03-01T12:00:00Z" || got.Data.From != "new" || got.Data.To != "contacted" {
		t.Fatalf("payload %s", body)
	}
	gl, _ := json.Marshal(got.Data.Lead)
	wl, _ := json.Marshal(wantLead)
	if string(gl) != string(wl) {
		t.Fatalf("lead in payload %s, want %s", gl, wl)
	}
}
