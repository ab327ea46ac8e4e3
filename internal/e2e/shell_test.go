package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestShellInBothThemes opens the overview in light and dark mode at desktop and phone widths,
// and checks the shell and its accessibility.
func TestShellInBothThemes(t *testing.T) {
	srv := startServer(t, nil)
	for _, width := range []int{1280, 375} {
		ctx := browser(t, width)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
			t.Fatal(err)
		}
		if err := waitText(ctx, "body", "Sandbox mode", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		for _, theme := range []string{"light", "dark"} {
			if err := setTheme(ctx, theme); err != nil {
				t.Fatal(err)
			}
			checkAccessibility(t, ctx, "overview "+theme)
			screenshot(t, ctx, "shell-"+theme+"-"+itoa(width))
		}
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}
