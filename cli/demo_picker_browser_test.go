package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The caller's side in headless Chromium: the text-back on the sandbox
// phone carries the picker link; tapped, the picker opens on the phone at
// 360 px; a pick reaches the card and the case's due time and is
// confirmed by one text; a second pick moves the slot; opened straight on
// a 360×740 screen the page fits it; an expired link is refused politely.
func TestCallbackPickerInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	d := startTestDemo(t)
	duringOpenHours(t, d) // slots exist, and the day's text-back is sent
	ctx := newBrowser(t, exe, 1400, 900, 3*time.Minute)

	shots := screenshotDir(t)
	step := stepper(t, ctx, shots, "picker-failed.png",
		`document.body.innerText + "\n--- picker frame:\n" + (document.querySelector("#picker-frame")?.contentDocument?.body?.innerText || "")`)
	eval := func(what, js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	save := func(name string) { t.Helper(); screenshot(t, ctx, shots, name) }
	// fitsAndLabelled checks the picker page in doc (a JS expression): no
	// horizontal scroll at its width (360 px, 320 px), and every control
	// named by a label.
	fitsAndLabelled := func(where, doc string) {
		t.Helper()
		got := eval(where, `(() => {
			const doc = `+doc+`, w = doc.documentElement.scrollWidth;
			if (w > doc.defaultView.innerWidth) return "scrolls sideways: scrollWidth " + w + " > " + doc.defaultView.innerWidth;
			for (const i of doc.querySelectorAll("input, select, textarea")) {
				const byFor = i.id && doc.querySelector('label[for="' + i.id + '"]');
				if (!byFor && !i.closest("label") && !i.getAttribute("aria-label")) return "no label: " + i.outerHTML;
			}
			return "ok";
		})()`)
		if got != "ok" {
			t.Errorf("%s: the picker at 360 px: %s", where, got)
		}
	}
	// The case's due time, as Ringback holds it.
	const caller, lettings = "+447700900123", "+441632960001"
	dueAt := func() time.Time {
		t.Helper()
		c, err := d.rt.store.OpenCase(context.Background(), caller, lettings)
		if err != nil || c.DueAt == nil {
			t.Fatalf("the open case: %+v, %v", c, err)
		}
		return *c.DueAt
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	slotWords := func(secs string) string { return slotTime(t, secs).In(london).Format("Mon 15:04") }
	const card = `#messages .msg[data-channel="C0LETTINGS"]:has(button[data-action-id])`
	const frameDoc = `document.querySelector("#picker-frame").contentDocument`
	const confirmations = `[...document.querySelectorAll("#sms-list .bubble.out")].filter(b => b.textContent.includes("we'll call you back on")).length`

	step("open the sandbox, call and hang up",
		chromedp.Navigate(d.url+"/"),
		chromedp.WaitVisible(css(`#app[data-ready="1"]`)),
		choose("#user", "U0ALICE"),
		fresh(chromedp.SetValue(css("#phone-number"), caller)),
		choose("#phone-line", lettings),
		click("#call-btn"),
		chromedp.WaitVisible(css(card+` button[data-action-id="claim"]`)),
	)

	step("the text-back on the phone shows the picker link",
		chromedp.WaitVisible(css(`#sms-list .bubble.out a.picker-link`)),
		has("#sms-list .bubble.out", "Sorry we missed your call"),
		has("#sms-list .bubble.out", "Or pick a time for our call: "+d.url+"/c/"),
	)
	link := eval("the link", `document.querySelector("#sms-list a.picker-link").href`)
	if !strings.HasPrefix(link, d.url+"/c/") || eval("its words", `document.querySelector("#sms-list a.picker-link").textContent`) != link {
		t.Fatalf("the tappable link is %q: want the text's own %s/c/… link", link, d.url)
	}

	step("tap it → the picker on the phone",
		click(`#sms-list a.picker-link`),
		chromedp.WaitVisible(css(`#picker-sheet #picker-frame`)),
		until(`(() => { const d = `+frameDoc+`; return !!d && !!d.querySelector('form input[name="slot"]'); })()`),
	)
	if w := eval("the frame's width", `String(document.querySelector("#picker-frame").clientWidth)`); w != "360" {
		t.Errorf("the picker frame is %s px wide: want a phone's 360", w)
	}
	fitsAndLabelled("on the sandbox phone", frameDoc)
	// A person's choices: the first slot of the second day offered (the
	// first day may be today's last hour), Maintenance, a note.
	slot1 := eval("choose a slot", `(() => {
		const days = `+frameDoc+`.querySelectorAll("fieldset.day");
		const r = days[days.length > 1 ? 1 : 0].querySelector('input[name="slot"]');
		r.click();
		return r.value;
	})()`)
	step("choose Maintenance, write a note",
		chromedp.Evaluate[chromedp.Void](`(() => {
			const d = `+frameDoc+`, s = d.querySelector("#category");
			s.value = "maintenance"; s.dispatchEvent(new Event("change", {bubbles: true}));
			d.querySelector("#note").value = "Boiler makes a banging noise";
		})()`),
	)
	save("picker.png")
	// The submit button is pressed with the mouse, where it is on screen.
	xy := eval("the button", `(() => {
		const f = document.querySelector("#picker-frame").getBoundingClientRect();
		const b = `+frameDoc+`.querySelector('button[type="submit"]');
		b.scrollIntoView({block: "center"});
		const r = b.getBoundingClientRect();
		return (f.left + r.left + r.width / 2) + "," + (f.top + r.top + r.height / 2);
	})()`)
	var x, y float64
	if _, err := fmt.Sscanf(xy, "%f,%f", &x, &y); err != nil {
		t.Fatalf("button at %q: %v", xy, err)
	}
	step("request this callback → thanks",
		chromedp.MouseClickXY(x, y),
		until(`(() => { const d = `+frameDoc+`; return !!d && d.body.innerText.includes("Thank you. We'll call you back:"); })()`),
		until(`(`+frameDoc+`).body.innerText.includes("Maintenance")`),
	)
	save("confirmation.png")

	words1 := "📅 Callback requested " + slotWords(slot1) + " — Maintenance: 'Boiler makes a banging noise'"
	step("close the phone's browser → the card shows the pick; one confirmation text",
		click("#picker-close"),
		until(`!document.querySelector("#picker-sheet")`),
		has(card+" .blocks", words1),
		until(confirmations+` === 1`),
	)
	save("card-picked.png")
	if due, want := dueAt(), slotTime(t, slot1); !due.Equal(want) {
		t.Errorf("due time after the pick: %s, want the slot %s", due, want)
	}

	// Straight to the link, on a phone's screen.
	step("open the link on a 360×740 screen",
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(link),
		chromedp.WaitVisible(css(`form input[name="slot"]`)),
		has("main", "Your callback so far:"),
	)
	fitsAndLabelled("opened at 360×740", "document")
	step("the smallest phones: 320 px wide",
		chromedp.EmulateViewport(320, 568),
		chromedp.Reload(),
		chromedp.WaitVisible(css(`form input[name="slot"]`)),
	)
	fitsAndLabelled("opened at 320×568", "document")
	save("picker-320.png")
	step("back to 360×740", chromedp.EmulateViewport(360, 740), chromedp.Reload(), chromedp.WaitVisible(css(`form input[name="slot"]`)))
	slot2 := eval("another slot", `(() => {
		const r = [...document.querySelectorAll('input[name="slot"]')].filter(r => r.value !== `+quoteJS(slot1)+`).at(-1);
		return r.value;
	})()`)
	step("choose another slot and submit → thanks",
		click(`label[for="s`+slot2+`"]`),
		until(`document.querySelector('input[name="slot"]:checked').value === `+quoteJS(slot2)),
		click(`button[type="submit"]`),
		// A new page: wait for its node before reading its words.
		chromedp.WaitVisible(css(`main p[role="status"] strong`)),
		has("main", "Thank you. We'll call you back:"),
	)

	words2 := "📅 Callback requested " + slotWords(slot2) + " — Maintenance"
	step("back in the sandbox → the card shows the new slot; a second confirmation",
		chromedp.EmulateViewport(1400, 900),
		chromedp.Navigate(d.url+"/"),
		chromedp.WaitVisible(css(`#app[data-ready="1"]`)),
		has(card+" .blocks", words2),
		until(`!document.querySelector(`+quoteJS(card+" .blocks")+`).textContent.includes(`+quoteJS(words1)+`)`),
		until(confirmations+` === 2`),
	)
	save("changed-slot.png")
	if due, want := dueAt(), slotTime(t, slot2); !due.Equal(want) {
		t.Errorf("due time after the second pick: %s, want the new slot %s", due, want)
	}

	// Past the link's 72 hours (testdata's lines keep the default).
	d.clock.Advance(73 * time.Hour)
	step("the expired link, on the phone's screen",
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(link),
		has("main", "Sorry, this link has expired."),
		until(`!document.querySelector("form")`),
	)
	fitsAndLabelled("the expired page", "document")
	save("expired.png")

	// Only Ringback's own texts get a tappable link, and only to this
	// demo's picker: a caller's text stays text, links and all.
	step("a caller's text with links stays text",
		chromedp.EmulateViewport(1400, 900),
		chromedp.Navigate(d.url+"/"),
		chromedp.WaitVisible(css(`#app[data-ready="1"]`)),
		typeInto("#sms-text", link+" javascript:alert(1) <a href=x>x</a>"),
		click("#sms-send"),
		has("#sms-list .bubble.in", "javascript:alert(1) <a href=x>x</a>"),
		until(`document.querySelectorAll("#sms-list .bubble.in a").length === 0 && document.querySelectorAll("#sms-list a").length === 1`),
	)
}

// slotTime is the time of a picker's slot value (Unix seconds).
func slotTime(t *testing.T, secs string) time.Time {
	t.Helper()
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		t.Fatalf("slot value %q: %v", secs, err)
	}
	return time.Unix(n, 0)
}
