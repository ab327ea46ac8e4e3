package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestShellInBothThemes opens the sign-in page and, signed in, the overview, in light and dark
// mode at desktop and phone widths, and checks what they show and their accessibility.
func TestShellInBothThemes(t *testing.T) {
	srv := startServer(t, nil)
	for _, width := range []int{1280, 375} {
		ctx := browser(t, width)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
			t.Fatal(err)
		}
		if err := waitText(ctx, "main", "Sign in", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		checkBothThemes(t, ctx, "login", width)
		signIn(t, ctx, srv, demoAdmin)
		if err := waitText(ctx, "main", "Hibot Demo Store", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		checkBothThemes(t, ctx, "overview", width)
	}
}

// checkBothThemes runs axe-core on the page in light and dark mode and saves a screenshot of each.
func checkBothThemes(t *testing.T, ctx context.Context, page string, width int) {
	t.Helper()
	for _, theme := range []string{"light", "dark"} {
		if err := setTheme(ctx, theme); err != nil {
			t.Fatal(err)
		}
		checkAccessibility(t, ctx, page+" "+theme)
		screenshot(t, ctx, page+"-"+theme+"-"+itoa(width))
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
