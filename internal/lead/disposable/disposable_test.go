package disposable

import "testing"

func TestThrowawayDomainsAreRecognized(t *testing.T) {
	for _, addr := range []string{"x@mailinator.com", "x@MAILINATOR.COM", "x@0-180.com"} {
		if !Email(addr) {
			t.Errorf("%s: not recognized as disposable", addr)
		}
	}
	// a wildcard entry covers its subdomains
	exact, wild := lists()
	if len(exact) < 50000 || len(wild) == 0 {
		t.Fatalf("lists too short: %d exact, %d wildcard", len(exact), len(wild))
	}
	if !Domain("anything." + wild[0]) {
		t.Errorf("subdomain of wildcard %s not recognized", wild[0])
	}
}

func TestFreeMailIsAccepted(t *testing.T) {
	for _, d := range append(FreeMail(), "example.no", "norsedigital.no") {
		if Domain(d) || Email("kari@"+d) {
			t.Errorf("%s refused as disposable", d)
		}
	}
}
