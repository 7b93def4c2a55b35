package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// --shutdown-timeout must be a positive duration; a bad one stops serve before it opens
// anything, naming the flag.
func TestShutdownTimeoutFlag(t *testing.T) {
	for _, tc := range []struct{ flag, env string }{
		{flag: "0s"},
		{flag: "-5s"},
		{flag: "soon"},
		{env: "25"}, // no unit
	} {
		args := []string{"leads", "serve", "--database", "sqlite:" + t.TempDir() + "/never.db"}
		if tc.flag != "" {
			args = append(args, "--shutdown-timeout", tc.flag)
		}
		getenv := func(k string) string {
			if k == "LEADS_SHUTDOWN_TIMEOUT" {
				return tc.env
			}
			return ""
		}
		err := run(context.Background(), args, getenv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--shutdown-timeout") {
			t.Errorf("flag %q env %q: %v, want an error naming --shutdown-timeout", tc.flag, tc.env, err)
		}
	}
}
