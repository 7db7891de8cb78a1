package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium (or RINGBACK_CHROMIUM). Without it
// the browser test is skipped on a developer's machine, but fails in CI,
// where .ci/run installs it.
func chromiumPath(t testing.TB) string {
	t.Helper()
	candidates := []string{os.Getenv("RINGBACK_CHROMIUM"), "chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: the browser test must run in CI (.ci/run installs it with apt-get install chromium)")
	}
	t.Skip("chromium not found (apt-get install chromium, or set RINGBACK_CHROMIUM); skipping the browser test")
	return ""
}

// The sandbox page, in headless Chromium, takes a missed call to a closed
// case the way a person would: clicks, a modal, the phone.
func TestDemoInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	d := startTestDemo(t)
	duringOpenHours(t, d)
	ctx := newBrowser(t, exe, 1400, 900, 3*time.Minute)

	shots := screenshotDir(t)
	step := stepper(t, ctx, shots, "failed.png", `document.body.innerText`)
	save := func(name string) {
		t.Helper()
		png := screenshot(t, ctx, shots, name)
		if name == "sandbox.png" && os.Getenv("RINGBACK_UPDATE_SCREENSHOT") == "1" {
			doc := filepath.Join("..", "docs", "sandbox.png")
			if err := os.MkdirAll(filepath.Dir(doc), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(doc, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("README screenshot updated: %s", doc)
		}
	}
	// The card is the channel's message with buttons: the channel may also
	// hold the day's queue check when the demo starts after 08:45.
	const card = `#messages .msg[data-channel="C0LETTINGS"]:has(button[data-action-id])`

	step("open the sandbox",
		chromedp.Navigate(d.url+"/"),
		chromedp.WaitVisible(css(`#app[data-ready="1"]`)),
		choose("#user", "U0ALICE"),
		has("#channel-title", "#lettings"),
	)

	step("missed call from the phone → a card in #lettings",
		fresh(chromedp.SetValue(css("#phone-number"), "+447700900123")),
		choose("#phone-line", "+441632960001"),
		click("#call-btn"),
		chromedp.WaitVisible(css(card+` button[data-action-id="claim"]`)),
		has(card+" .blocks", "07700 900123"),
		has(card+" .blocks", "Unclaimed"),
	)

	step("Claim as Alice → she owns the card",
		click(card+` button[data-action-id="claim"]`),
		chromedp.WaitVisible(css(card+` button[data-action-id="release"]`)),
		has(card+" .blocks", "@Alice Moreno"),
	)

	step("Reply → the modal, a template, the preview",
		click(card+` button[data-action-id="reply"]`),
		chromedp.WaitVisible(css(`#modal .modal[data-callback-id="reply"] select[data-block-id="template"]`)),
		choose(`#modal select[data-block-id="template"]`, "callback_missed"),
		has("#modal .modal-body", "Alice tried to call you back"),
		has("#modal .modal-body", "SMS segment"),
	)
	save("reply-modal.png")

	step("send it → the text on the phone, delivered",
		click("#modal-submit"),
		until(`!document.querySelector("#modal")`),
		has("#sms-list", "Alice tried to call you back"),
		until(`[...document.querySelectorAll("#sms-list .bubble.out")].some(b => b.textContent.includes("Alice tried to call you back") && b.querySelector(".ticks.delivered"))`),
	)

	step(`reply "2" from the phone → the thread shows it, category Maintenance`,
		typeInto("#sms-text", "2"),
		click("#sms-send"),
		has("#sms-list", "delivered to Ringback"),
		has(card+" .blocks", "Maintenance"),
		until(`(() => { const t = document.querySelector(`+quoteJS(card+" .thread-toggle")+`); return !!t && /[4-9] replies/.test(t.textContent); })()`),
		click(card+" .thread-toggle"),
		has(card+" .thread", "Caller texted"),
		has(card+" .thread blockquote", "2"),
		has(card+" .thread", "Caller chose Maintenance"),
	)
	save("sandbox.png")

	// A caller's text is shown as text, never as markup, and cannot ping.
	step("a hostile text stays text",
		typeInto("#sms-text", `<img src=x onerror="window.pwned=1"> & <!channel> *hi*`),
		click("#sms-send"),
		has(card+" .thread", `<img src=x onerror="window.pwned=1"> & <!channel>`),
		until(`!window.pwned && document.querySelectorAll("#messages .thread img, #messages .thread .broadcast").length === 0`),
	)

	step("Close with an outcome and a note → the card collapses to Reopen",
		click(card+` button[data-action-id="close"]`),
		chromedp.WaitVisible(css(`#modal .modal[data-callback-id="close"]`)),
		click("#modal-submit"),
		has(`#modal .b-input[data-block-id="note"] .field-error`, "required"),
		choose(`#modal select[data-block-id="outcome"]`, "resolved"),
		typeInto(`#modal textarea[data-block-id="note"]`, "Boiler engineer booked for Thursday 9am"),
		click("#modal-submit"),
		until(`!document.querySelector("#modal")`),
		has(card+" .blocks", "Boiler engineer booked for Thursday 9am"),
		until(`(() => { const b = [...document.querySelectorAll(`+quoteJS(card+" .blocks button")+`)].map(b => b.dataset.actionId); return b.length === 1 && b[0] === "reopen"; })()`),
	)
	save("closed.png")
}

// newBrowser starts headless Chromium with a window of w×h pixels; it
// stops with the test.
func newBrowser(t testing.TB, exe string, w, h int, within time.Duration) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(w, h),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	ctx, cancel := context.WithTimeout(bctx, within)
	t.Cleanup(cancel)
	// Start the browser and its tab now, on ctx: chromedp ties them to the
	// context of the first run, and the steps run on shorter ones.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// At 800 px wide the composer keeps its Send button on screen and room to
// type; the App Home tab shows the view Ringback publishes.
func TestDemoNarrowWindowAndHome(t *testing.T) {
	exe := chromiumPath(t)
	d := startTestDemo(t)
	ctx := newBrowser(t, exe, 800, 700, 3*time.Minute)
	type action = chromedp.Action[chromedp.Void]
	until := func(what, js string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: %v\npage text:\n%.2000s", what, err, text)
		}
	}
	do := func(what string, actions ...action) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	do("open the sandbox", chromedp.Navigate(d.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#app[data-ready="1"]`)))
	until("the composer fits", `(() => {
		const b = document.querySelector("#command-send").getBoundingClientRect(), i = document.querySelector("#command-text").getBoundingClientRect();
		const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
		return window.innerWidth <= 800 && b.right <= window.innerWidth && b.width > 0 && i.width >= 120 && !!hit && hit.closest("#command-send") !== null;
	})()`)
	do("type a command", fresh(chromedp.SendKeys(chromedp.CSS("#command-text"), "help")), fresh(chromedp.Click(chromedp.CSS("#command-send"))))
	until("its answer", `document.querySelector("#messages").textContent.includes("/callbacks mine")`)
	do("open Home", fresh(chromedp.Click(chromedp.CSS(`#apps button[data-channel="home"]`))))
	until("the published Home tab", `(() => { const h = document.querySelector("#messages .home"); return !!h && h.dataset.viewId.startsWith("V") && h.children.length > 0; })()`)
}

// BenchmarkDemoClaimToCard times claim → card in the page (Chromium): once
// on an empty demo (ms/claim-empty), then b.N claims after a busy day
// (ms/claim-busy). The page fetches and draws only the card that changed,
// so the second is not slower by the day's size. A benchmark, not a test:
// a busy day takes minutes under -race, and timings on a shared machine
// are no test. Run: go test ./cli/ -run '^$' -bench DemoClaimToCard -benchtime 10x
func BenchmarkDemoClaimToCard(b *testing.B) {
	t := b
	exe := chromiumPath(t)
	d := startTestDemo(t)
	c := &sandboxClient{t: t, base: d.url}
	ctx := newBrowser(t, exe, 1400, 900, 15*time.Minute)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	poll := func(js string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(time.Minute), chromedp.WithPollingInterval(20*time.Millisecond))
	}
	const unclaimed = `[...document.querySelectorAll('#messages .msg[data-channel="C0LETTINGS"]')].filter(m => m.querySelector('button[data-action-id="claim"]'))`
	// claim clicks Claim on the first unclaimed card and times it until the
	// card, drawn again, offers Release.
	claim := func() time.Duration {
		t.Helper()
		run("wait for an unclaimed card", poll(unclaimed+`.length > 0`))
		_, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const card = `+unclaimed+`[0], ts = card.dataset.ts, t0 = performance.now();
			window.claimMs = 0;
			const obs = new MutationObserver(() => {
				if (document.querySelector('#messages .msg[data-ts="' + ts + '"] button[data-action-id="release"]')) {
					window.claimMs = performance.now() - t0;
					obs.disconnect();
				}
			});
			obs.observe(document.getElementById("messages"), { childList: true, subtree: true });
			card.querySelector('button[data-action-id="claim"]').click();
			return ts;
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		run("the claimed card", poll(`window.claimMs > 0`))
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.claimMs`))
		if err != nil {
			t.Fatal(err)
		}
		return time.Duration(ms * float64(time.Millisecond))
	}
	run("open the sandbox as Alice in #lettings",
		chromedp.Navigate(d.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#app[data-ready="1"]`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#user"); s.value = "U0ALICE"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`),
		fresh(chromedp.Click(chromedp.CSS(`#channels button[data-channel="C0LETTINGS"]`))),
	)
	if code := c.post("/sandbox/api/phone/call", map[string]any{"from": "07700 900123", "line": lettingsLine}, nil); code != 200 {
		t.Fatalf("call: %d", code)
	}
	empty := claim()
	if code := c.post("/sandbox/api/busyday", map[string]any{}, nil); code != http.StatusAccepted {
		t.Fatalf("busy day: %d", code)
	}
	c.waitUntil(time.Now().Add(6*time.Minute), time.Second, "U0ALICE", "the end of the busy day", func(st demoState) bool { return st.BusyDay.Finished })
	outboxIdle(t, d, time.Now().Add(6*time.Minute), time.Second)
	full, _ := c.stateBytes("U0ALICE", 0)
	var busy time.Duration
	b.ResetTimer()
	for range b.N {
		busy += claim()
	}
	b.StopTimer()
	b.ReportMetric(float64(empty)/float64(time.Millisecond), "ms/claim-empty")
	b.ReportMetric(float64(busy)/float64(b.N)/float64(time.Millisecond), "ms/claim-busy")
	b.ReportMetric(float64(len(full))/1024, "KB-full-state")
}

// fresh runs a, an action that finds a node and then acts on it, again when
// the page replaced the node in between ("Could not find node with given
// id"): each try runs the query anew. The node is resolved before any
// input is sent, so a retry never clicks or types twice.
func fresh(a chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for try := 1; ; try++ {
			v, err := a(ctx, t)
			if err == nil || try == 20 || !staleNode(err) {
				return v, err
			}
			select {
			case <-ctx.Done():
				return v, err
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// staleNode tells whether err says that the node an action found is no
// longer in the page.
func staleNode(err error) bool {
	var cdpErr *cdproto.Error
	if errors.As(err, &cdpErr) && cdpErr.Code == -32000 {
		return true
	}
	return errors.Is(err, chromedp.ErrInvalidDimensions) || strings.Contains(err.Error(), "Could not find node with given id")
}

func quoteJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
