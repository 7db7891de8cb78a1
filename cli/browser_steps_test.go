package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests' vocabulary: what a person does on the page, each an
// action chromedp runs in a step.

type action = chromedp.Action[chromedp.Void]

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// click and typeInto find the node afresh on every try: the page redraws
// on every change it hears of, so a node found a moment ago may be gone
// when the mouse or the keys reach it.
func click(sel string) action          { return fresh(chromedp.Click(css(sel))) }
func typeInto(sel, text string) action { return fresh(chromedp.SendKeys(css(sel), text)) }

// until waits up to 20 s for a JavaScript condition on the page. It asks
// afresh every 50 ms rather than with chromedp.Poll: Poll first waits for
// chromedp's idea of the top frame's document, which a navigation inside
// the picker's iframe can leave unset, and then it waits out the whole
// test instead of failing this step (CI, 2026-12-02).
func until(js string) action {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](`!!(`+js+`)`)(ctx, t)
			switch {
			case err == nil && ok:
				return chromedp.Void{}, nil
			case ctx.Err() != nil:
				return chromedp.Void{}, ctx.Err()
			case time.Now().After(deadline):
				if err != nil {
					return chromedp.Void{}, fmt.Errorf("still not true after 20 s: %s: %w", js, err)
				}
				return chromedp.Void{}, fmt.Errorf("still not true after 20 s: %s", js)
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// has is true once the element matching sel contains text.
func has(sel, text string) action {
	return until(fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.textContent.includes(%s); })()`, quoteJS(sel), quoteJS(text)))
}

// choose picks an option as a person does: the select changes, then tells
// the page.
func choose(sel, value string) action {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%s); s.value = %s; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, quoteJS(sel), quoteJS(value)))
}

// screenshotDir is RINGBACK_SCREENSHOT_DIR (made if need be), or the
// test's artifact directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	shots := os.Getenv("RINGBACK_SCREENSHOT_DIR")
	if shots == "" {
		return t.ArtifactDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return shots
}

// screenshot saves the page as it is now under dir/name and returns the
// image.
func screenshot(t *testing.T, ctx context.Context, dir, name string) []byte {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return png
}

// stepper runs a test's steps: each a few actions that must all succeed.
// A failing step fails the test with a full-page screenshot (dir/failed)
// and the page's text as the JavaScript expression pageText reads it.
func stepper(t *testing.T, ctx context.Context, dir, failed, pageText string) func(what string, actions ...action) {
	return func(what string, actions ...action) {
		t.Helper()
		// A step gets a minute, so one that hangs is named, and the
		// browser still has time for the screenshot and the page text.
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := chromedp.Do(sctx, actions...)
		cancel()
		if err != nil {
			path := filepath.Join(dir, failed)
			if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(90)); serr == nil {
				_ = os.WriteFile(path, png, 0o644)
			}
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](pageText))
			t.Fatalf("%s: %v\nscreenshot: %s\npage text:\n%.3000s", what, err, path, text)
		}
	}
}
