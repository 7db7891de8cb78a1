package slackstandin_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"ringback/bot/slack/slackstandin"
)

const token = "xoxb-test-token"

// setup starts a stand-in and a real slack-go client pointed at it.
func setup(t *testing.T) (*slackstandin.Server, *slack.Client) {
	t.Helper()
	srv := slackstandin.NewServer(token)
	t.Cleanup(srv.Close)
	if !strings.HasSuffix(srv.URL, "/") {
		t.Fatalf("URL %q must end with / for slack.OptionAPIURL", srv.URL)
	}
	return srv, slack.New(token, slack.OptionAPIURL(srv.URL))
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

var tsPattern = regexp.MustCompile(`^\d{10}\.\d{6}$`)

func TestPostMessageThenUpdate(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)

	ch, ts, err := api.PostMessage("C0LINE1",
		slack.MsgOptionText("Missed call from +44 7700 900123", false),
		slack.MsgOptionBlocks(section("*New case* — unclaimed")))
	if err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	if ch != "C0LINE1" || !tsPattern.MatchString(ts) {
		t.Fatalf("PostMessage = %q, %q; want C0LINE1 and a Slack ts", ch, ts)
	}

	_, _, _, err = api.UpdateMessage(ch, ts,
		slack.MsgOptionText("Claimed by Ana", false),
		slack.MsgOptionBlocks(section("*Claimed* by <@U0ANA>")))
	if err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}

	msgs := srv.Messages("C0LINE1")
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.TS != ts || m.Updates != 1 || m.Text != "Claimed by Ana" || m.User != slackstandin.BotUserID {
		t.Errorf("message = %+v", m)
	}
	if got := slackstandin.BlockTexts(m.Blocks); len(got) != 1 || got[0] != "*Claimed* by <@U0ANA>" {
		t.Errorf("blocks not replaced: texts %q in %s", got, m.Blocks)
	}

	// An update with text only keeps the blocks, as Slack does.
	if _, _, _, err := api.UpdateMessage(ch, ts, slack.MsgOptionText("again", false)); err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}
	if got, _ := srv.Message(ch, ts); got.Updates != 2 || !bytes.Contains(got.Blocks, []byte("Claimed")) {
		t.Errorf("after text-only update: %+v", got)
	}

	if _, _, _, err := api.UpdateMessage(ch, "1.000001", slack.MsgOptionText("x", false)); err == nil || err.Error() != "message_not_found" {
		t.Errorf("update of unknown ts: err = %v, want message_not_found", err)
	}
}

func TestThreadReplies(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)

	_, parent, err := api.PostMessage("C0LINE1", slack.MsgOptionText("card", false))
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"SMS from caller: call me after 5", "Auto text-back sent"} {
		if _, _, err := api.PostMessage("C0LINE1", slack.MsgOptionText(text, false), slack.MsgOptionTS(parent)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.Messages("C0LINE1")); n != 1 {
		t.Errorf("channel shows %d messages, want only the card", n)
	}
	th := srv.Thread("C0LINE1", parent)
	if len(th) != 3 || th[0].TS != parent || th[1].ThreadTS != parent || th[2].Text != "Auto text-back sent" {
		t.Fatalf("thread = %+v", th)
	}
	if !(th[0].TS < th[1].TS && th[1].TS < th[2].TS) {
		t.Errorf("ts not increasing: %s %s %s", th[0].TS, th[1].TS, th[2].TS)
	}
}

func TestPostEphemeral(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)

	ts, err := api.PostEphemeral("C0LINE1", "U0BEN",
		slack.MsgOptionText("Already claimed by Ana", false),
		slack.MsgOptionBlocks(section("Already claimed by <@U0ANA>")))
	if err != nil {
		t.Fatalf("PostEphemeral: %v", err)
	}
	if !tsPattern.MatchString(ts) {
		t.Errorf("message_ts = %q", ts)
	}
	eph := srv.Ephemerals("U0BEN")
	if len(eph) != 1 || eph[0].Channel != "C0LINE1" || eph[0].Text != "Already claimed by Ana" || eph[0].Blocks == nil {
		t.Errorf("ephemerals = %+v", eph)
	}
	if len(srv.Ephemerals("U0ANA")) != 0 || len(srv.Messages("C0LINE1")) != 0 {
		t.Error("ephemeral leaked to another user or into the channel")
	}
}

func TestGetPermalink(t *testing.T) {
	t.Parallel()
	_, api := setup(t)

	_, ts, err := api.PostMessage("C0LINE1", slack.MsgOptionText("card", false))
	if err != nil {
		t.Fatal(err)
	}
	link, err := api.GetPermalink(&slack.PermalinkParameters{Channel: "C0LINE1", Ts: ts})
	if err != nil {
		t.Fatalf("GetPermalink: %v", err)
	}
	want := "https://slack.example/archives/C0LINE1/p" + strings.Replace(ts, ".", "", 1)
	if link != want {
		t.Errorf("permalink = %q, want %q", link, want)
	}
	if _, err := api.GetPermalink(&slack.PermalinkParameters{Channel: "C0LINE1", Ts: "1.000002"}); err == nil {
		t.Error("permalink of unknown message: want an error")
	}
}

func TestViews(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)

	modal := slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, "Close case", false, false),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{section("Outcome")}},
		CallbackID:      "close_case",
		PrivateMetadata: "case:42",
	}
	resp, err := api.OpenView("trigger-1", modal)
	if err != nil {
		t.Fatalf("OpenView: %v", err)
	}
	if !strings.HasPrefix(resp.ID, "V") || resp.CallbackID != "close_case" || resp.Hash == "" {
		t.Errorf("OpenView response view = %+v", resp.View)
	}

	modal.Blocks = slack.Blocks{BlockSet: []slack.Block{section("Outcome"), section("Note is required")}}
	if _, err := api.UpdateView(modal, "", resp.Hash, resp.ID); err != nil {
		t.Fatalf("UpdateView: %v", err)
	}
	if _, err := api.UpdateView(modal, "", "stale-hash", resp.ID); err == nil || err.Error() != "hash_conflict" {
		t.Errorf("UpdateView with stale hash: err = %v, want hash_conflict", err)
	}

	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{section("My cases: 0")}}}
	if _, err := api.PublishView("U0ANA", home, ""); err != nil {
		t.Fatalf("PublishView: %v", err)
	}
	home.Blocks = slack.Blocks{BlockSet: []slack.Block{section("My cases: 1")}}
	if _, err := api.PublishView("U0ANA", home, ""); err != nil {
		t.Fatalf("PublishView: %v", err)
	}

	views := srv.Views()
	if len(views) != 2 {
		t.Fatalf("got %d views, want a modal and a home tab", len(views))
	}
	m, ok := srv.ModalView("trigger-1")
	if !ok || m.ID != resp.ID || m.Updates != 1 || m.PrivateMetadata != "case:42" || !bytes.Contains(m.JSON, []byte("Note is required")) {
		t.Errorf("modal = %+v (found %v)", m, ok)
	}
	h, ok := srv.HomeView("U0ANA")
	if !ok || h.Type != "home" || h.Updates != 1 || !bytes.Contains(h.JSON, []byte("My cases: 1")) {
		t.Errorf("home = %+v (found %v)", h, ok)
	}
}

func TestUsersConversationsGroups(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)
	srv.AddUser("U0ANA", "ana", "Ana Lopez")
	srv.SetUserTZ("U0ANA", "Europe/London")
	srv.SetMembers("C0LINE1", "U0ANA", "U0BEN")
	srv.SetGroupMembers("S0STAFF", "U0ANA")

	u, err := api.GetUserInfo("U0ANA")
	if err != nil {
		t.Fatalf("GetUserInfo: %v", err)
	}
	if u.ID != "U0ANA" || u.Name != "ana" || u.RealName != "Ana Lopez" ||
		u.Profile.DisplayName != "ana" || u.Profile.RealName != "Ana Lopez" || u.TZ != "Europe/London" {
		t.Errorf("user = %+v", u)
	}
	if _, err := api.GetUserInfo("U0NOBODY"); err == nil || err.Error() != "user_not_found" {
		t.Errorf("unknown user: err = %v", err)
	}

	dm, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{"U0ANA"}})
	if err != nil {
		t.Fatalf("OpenConversation: %v", err)
	}
	if !strings.HasPrefix(dm.ID, "D") || dm.ID != srv.DM("U0ANA") {
		t.Errorf("DM channel = %q, DM() = %q", dm.ID, srv.DM("U0ANA"))
	}
	// Posting to the user ID lands in the same DM, as in Slack.
	ch, _, err := api.PostMessage("U0ANA", slack.MsgOptionText("Reminder: case 42 is due", false))
	if err != nil {
		t.Fatal(err)
	}
	if ch != dm.ID || len(srv.Messages(dm.ID)) != 1 {
		t.Errorf("post to user went to %q; DM has %d messages", ch, len(srv.Messages(dm.ID)))
	}

	members, _, err := api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: "C0LINE1"})
	if err != nil || strings.Join(members, ",") != "U0ANA,U0BEN" {
		t.Errorf("members = %v, %v", members, err)
	}
	staff, err := api.GetUserGroupMembers("S0STAFF")
	if err != nil || strings.Join(staff, ",") != "U0ANA" {
		t.Errorf("group members = %v, %v", staff, err)
	}
	if _, err := api.GetUserGroupMembers("S0NONE"); err == nil || err.Error() != "no_such_subteam" {
		t.Errorf("unknown group: err = %v", err)
	}
	info, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: "C0LINE1"})
	if err != nil || info.ID != "C0LINE1" || !info.IsMember {
		t.Errorf("conversation info = %+v, %v", info, err)
	}
}

func TestUploadFile(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)
	png := []byte("\x89PNG\r\n\x1a\nweekly chart")

	sum, err := api.UploadFile(slack.UploadFileParameters{
		Reader:         bytes.NewReader(png),
		FileSize:       len(png),
		Filename:       "digest-2024-W46.png",
		Title:          "Missed calls by hour",
		Channel:        "C0MANAGERS",
		InitialComment: "Weekly digest",
	})
	if err != nil {
		t.Fatalf("UploadFile: %v", err)
	}
	files := srv.Files()
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	f := files[0]
	if f.ID != sum.ID || !bytes.Equal(f.Data, png) || f.Length != len(png) || f.Name != "digest-2024-W46.png" ||
		f.Title != "Missed calls by hour" || strings.Join(f.Channels, ",") != "C0MANAGERS" || f.InitialComment != "Weekly digest" {
		t.Errorf("file = %+v", f)
	}
	msgs := srv.Messages("C0MANAGERS")
	if len(msgs) != 1 || msgs[0].Text != "Weekly digest" || len(msgs[0].Files) != 1 || msgs[0].Files[0] != f.ID {
		t.Errorf("share message = %+v", msgs)
	}
	if srv.Calls("upload") != 1 {
		t.Errorf("upload calls = %d", srv.Calls("upload"))
	}
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)
	srv.FailNext("chat.postMessage", 1, http.StatusTooManyRequests, 7)

	_, _, err := api.PostMessage("C0LINE1", slack.MsgOptionText("card", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("err = %v, want *slack.RateLimitedError with RetryAfter 7s", err)
	}
	if len(srv.Messages("C0LINE1")) != 0 {
		t.Error("a rate-limited post was stored")
	}
	if _, _, err := api.PostMessage("C0LINE1", slack.MsgOptionText("card", false)); err != nil {
		t.Fatalf("second PostMessage: %v", err)
	}
	if srv.Calls("chat.postMessage") != 2 || len(srv.Messages("C0LINE1")) != 1 {
		t.Errorf("calls = %d, messages = %d", srv.Calls("chat.postMessage"), len(srv.Messages("C0LINE1")))
	}

	srv.FailNext("chat.update", 1, http.StatusServiceUnavailable, 0)
	_, _, _, err = api.UpdateMessage("C0LINE1", "1.000001", slack.MsgOptionText("x", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
		t.Errorf("err = %v, want StatusCodeError 503", err)
	}
}

func TestFailNextWith(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)
	srv.FailNextWith("chat.postMessage", 2, "not_in_channel")

	for range 2 {
		_, _, err := api.PostMessage("C0LINE1", slack.MsgOptionText("card", false))
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != "not_in_channel" {
			t.Fatalf("err = %v, want not_in_channel", err)
		}
	}
	if _, _, err := api.PostMessage("C0LINE1", slack.MsgOptionText("card", false)); err != nil {
		t.Fatalf("third PostMessage: %v", err)
	}
}

func TestWrongToken(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)
	if res, err := api.AuthTest(); err != nil || res.UserID != slackstandin.BotUserID || res.TeamID != slackstandin.TeamID {
		t.Fatalf("AuthTest with the right token = %+v, %v", res, err)
	}

	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(srv.URL))
	if _, err := bad.AuthTest(); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("AuthTest: err = %v, want invalid_auth", err)
	}
	if _, _, err := bad.PostMessage("C0LINE1", slack.MsgOptionText("x", false)); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("PostMessage: err = %v, want invalid_auth", err)
	}
	if _, err := bad.OpenView("trigger", slack.ModalViewRequest{Type: slack.VTModal}); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("OpenView (JSON body): err = %v, want invalid_auth", err)
	}
	if len(srv.Messages("C0LINE1")) != 0 || len(srv.Views()) != 0 {
		t.Error("a call with a wrong token changed the workspace")
	}
}

// The bot may also send chat.postMessage as JSON; blocks then arrive as an array.
func TestJSONBody(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)

	body := `{"channel":"C0LINE1","text":"hi","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"chat.postMessage", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OK bool   `json:"ok"`
		TS string `json:"ts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || !out.OK {
		t.Fatalf("response = %+v, %v", out, err)
	}
	m, ok := srv.Message("C0LINE1", out.TS)
	if !ok || string(m.Blocks) != `[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]` {
		t.Errorf("message = %+v", m)
	}
}

// The demo mounts Handler under a prefix; uploads must come back to it.
func TestHandlerUnderPrefix(t *testing.T) {
	t.Parallel()
	srv := slackstandin.New(token)
	mux := http.NewServeMux()
	mux.Handle("/demo/slack/api/", srv.Handler())
	ts := httptest.NewServer(mux)
	defer ts.Close()
	srv.SetBaseURL(ts.URL + "/demo/slack/api")

	api := slack.New(token, slack.OptionAPIURL(srv.BaseURL()))
	if _, _, err := api.PostMessage("C0LINE1", slack.MsgOptionText("card", false)); err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	if _, err := api.UploadFile(slack.UploadFileParameters{
		Content: "chart", FileSize: 5, Filename: "c.png", Channel: "C0LINE1",
	}); err != nil {
		t.Fatalf("UploadFile: %v", err)
	}
	if files := srv.Files(); len(files) != 1 || string(files[0].Data) != "chart" {
		t.Errorf("files = %+v", files)
	}
}

func TestOnChangeAndWaitFor(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)
	var changes atomic.Int32
	cancel := srv.OnChange(func() { changes.Add(1) })

	go func() {
		time.Sleep(20 * time.Millisecond)
		_, _, _ = api.PostMessage("C0LINE1", slack.MsgOptionText("card", false))
	}()
	if !srv.WaitFor(func() bool { return len(srv.Messages("C0LINE1")) == 1 }, 5*time.Second) {
		t.Fatal("WaitFor timed out")
	}
	// OnChange runs after the change is visible: WaitFor may see the
	// message a moment before the call is made.
	for deadline := time.Now().Add(time.Second); changes.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if changes.Load() != 1 {
		t.Errorf("OnChange called %d times, want 1", changes.Load())
	}

	// Reads don't count as changes; after cancel, nothing is called.
	_, _ = api.AuthTest()
	cancel()
	_, _, _ = api.PostMessage("C0LINE1", slack.MsgOptionText("again", false))
	if changes.Load() != 1 {
		t.Errorf("OnChange called %d times after cancel, want 1", changes.Load())
	}
	if srv.WaitFor(func() bool { return false }, 30*time.Millisecond) {
		t.Error("WaitFor on a false condition returned true")
	}
}

// Concurrent posts each get their own ts and all are kept.
func TestConcurrentPosts(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)
	fixed := time.Date(2024, 11, 16, 10, 0, 0, 0, time.UTC)
	srv.SetClock(func() time.Time { return fixed })

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, _, err := api.PostMessage("C0LINE1", slack.MsgOptionText(fmt.Sprint("card ", i), false)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	msgs := srv.Messages("C0LINE1")
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.TS] = true
	}
	if len(msgs) != 20 || len(seen) != 20 {
		t.Errorf("%d messages with %d distinct ts, want 20", len(msgs), len(seen))
	}
	if msgs[0].TS != "1731751200.000000" || msgs[19].TS != "1731751200.000019" {
		t.Errorf("ts run from %s to %s", msgs[0].TS, msgs[19].TS)
	}
}

func TestBlockTextsAndActionIDs(t *testing.T) {
	t.Parallel()
	srv, api := setup(t)

	claim := slack.NewButtonBlockElement("case_claim", "42", slack.NewTextBlockObject(slack.PlainTextType, "Claim", false, false))
	spam := slack.NewButtonBlockElement("case_spam", "42", slack.NewTextBlockObject(slack.PlainTextType, "Spam", false, false))
	_, ts, err := api.PostMessage("C0LINE1", slack.MsgOptionBlocks(
		section("*Missed call* from <tel:+447700900123>"),
		slack.NewActionBlock("case_actions", claim, spam),
	))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := srv.Message("C0LINE1", ts)
	if got := strings.Join(slackstandin.BlockTexts(m.Blocks), "|"); got != "*Missed call* from <tel:+447700900123>|Claim|Spam" {
		t.Errorf("BlockTexts = %q", got)
	}
	if got := strings.Join(slackstandin.ActionIDs(m.Blocks), ","); got != "case_claim,case_spam" {
		t.Errorf("ActionIDs = %q", got)
	}
}
