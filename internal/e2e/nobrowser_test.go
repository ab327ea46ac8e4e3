package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestWithoutChromiumTheRunEndsAtOnce runs this package's own test binary again with no browser
// to be found (PATH and CHROME point nowhere) and checks that it ends by itself: outside CI with
// the skip said in the output and the go command's "no tests to run" marker, under CI as a
// failure that names the missing browser. The bound is a hang detector, far above the second or
// so the run takes.
func TestWithoutChromiumTheRunEndsAtOnce(t *testing.T) {
	if os.Getenv("MMC_E2E_CHILD") != "" {
		t.Skip("already the child run")
	}
	cases := []struct {
		name     string
		ci       string
		wantFail bool
		wants    []string
	}{
		{"outside CI", "", false, []string{"e2e: browser tests skipped: no Chromium on PATH", "testing: warning: no tests to run"}},
		{"under CI", "true", true, []string{"CI must run the browser tests: no Chromium on PATH", "FAIL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			// One browser journey is enough to show the CI failure; outside CI nothing runs.
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestShellInBothThemes$", "-test.v")
			cmd.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir(), "MMC_E2E_CHILD=1", "CI=" + tc.ci}
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("the run without a browser did not end within 60 s; output so far:\n%s", out)
			}
			var exit *exec.ExitError
			failed := errors.As(err, &exit)
			if err != nil && !failed {
				t.Fatal(err)
			}
			if failed != tc.wantFail {
				t.Errorf("failed = %v, want %v; output:\n%s", failed, tc.wantFail, out)
			}
			for _, w := range tc.wants {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			t.Logf("ended in %s", time.Since(start).Round(time.Millisecond))
		})
	}
}
