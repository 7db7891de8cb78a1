package discordstandin_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"ringback/bot/discord/discordstandin"
)

// session is a discordgo session whose discord.com requests go to srv.
func session(t *testing.T, srv *discordstandin.Server, token string) *discordgo.Session {
	t.Helper()
	s, _ := discordgo.New("Bot " + token)
	s.ShouldRetryOnRateLimit, s.MaxRestRetries = false, 0
	base := strings.TrimPrefix(srv.URL, "http://")
	s.Client = &http.Client{Timeout: 5 * time.Second, Transport: rt(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = "http", base, ""
		return http.DefaultTransport.RoundTrip(r)
	})}
	return s
}

type rt func(*http.Request) (*http.Response, error)

func (f rt) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func code(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return -1
}

func TestMessagesThreadsAndDMs(t *testing.T) {
	srv := discordstandin.NewServer("tok", "42")
	defer srv.Close()
	if _, err := session(t, srv, "wrong").ChannelMessageSend("10", "hi"); err == nil {
		t.Fatal("a wrong token was accepted")
	}
	s := session(t, srv, "tok")
	m, err := s.ChannelMessageSendComplex("10", &discordgo.MessageSend{Content: "card", Components: []discordgo.MessageComponent{
		discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.Button{Label: "Claim", CustomID: "claim:1"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChannelMessageSend(m.ID, "too early"); code(err) != discordgo.ErrCodeUnknownChannel {
		t.Fatalf("post in a thread not started: %v", err)
	}
	if _, err := s.MessageThreadStartComplex("10", m.ID, &discordgo.ThreadStart{Name: "#1", AutoArchiveDuration: 10080}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MessageThreadStartComplex("10", m.ID, &discordgo.ThreadStart{Name: "#1"}); code(err) != discordgo.ErrCodeThreadAlreadyCreatedForThisMessage {
		t.Fatalf("second thread: %v", err)
	}
	if _, err := s.ChannelMessageSend(m.ID, "entry"); err != nil {
		t.Fatal(err)
	}
	content := "edited"
	if _, err := s.ChannelMessageEditComplex(&discordgo.MessageEdit{ID: m.ID, Channel: "10", Content: &content}); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages("10")
	th, _ := srv.Thread(m.ID)
	if len(got) != 1 || got[0].Content != "edited" || got[0].Edits != 1 || strings.Join(got[0].CustomIDs(), ",") != "claim:1" || len(th.Messages) != 1 || th.Messages[0].Content != "entry" {
		t.Fatalf("messages %+v thread %+v", got, th)
	}
	ch, err := s.UserChannelCreate("300000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChannelMessageSend(ch.ID, "reminder"); err != nil {
		t.Fatal(err)
	}
	if dms := srv.DMs("300000000000000001"); len(dms) != 1 || dms[0].Content != "reminder" {
		t.Fatalf("dms = %+v", dms)
	}
	srv.AddUser("300000000000000001", "alice", "Alice")
	if u, err := s.User("300000000000000001"); err != nil || u.GlobalName != "Alice" {
		t.Fatalf("user = %+v %v", u, err)
	}
	if _, err := s.User("300000000000000002"); code(err) != discordgo.ErrCodeUnknownUser {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestLimitsAndScriptedFailures(t *testing.T) {
	srv := discordstandin.NewServer("tok", "42")
	defer srv.Close()
	s := session(t, srv, "tok")
	if _, err := s.ChannelMessageSend("10", strings.Repeat("x", 2001)); code(err) != 50035 {
		t.Fatalf("2001 characters: %v", err)
	}
	six := make([]discordgo.MessageComponent, 6)
	for i := range six {
		six[i] = discordgo.Button{Label: "b", CustomID: "b" + string(rune('a'+i))}
	}
	if _, err := s.ChannelMessageSendComplex("10", &discordgo.MessageSend{Content: "x", Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: six}}}); code(err) != 50035 {
		t.Fatalf("six buttons in a row: %v", err)
	}
	srv.FailNext(discordstandin.RouteCreateMessage, 1, 429, 2.5)
	_, err := s.ChannelMessageSend("10", "x")
	var rl *discordgo.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 2500*time.Millisecond {
		t.Fatalf("429: %v", err)
	}
	srv.FailNextWith(discordstandin.RouteCreateMessage, 1, 503, 0, "upstream")
	if _, err := s.ChannelMessageSend("10", "x"); err == nil {
		t.Fatal("scripted 503 not returned")
	}
	srv.DenyChannel("11")
	if _, err := s.ChannelMessageSend("11", "x"); code(err) != discordgo.ErrCodeMissingAccess {
		t.Fatalf("denied channel: %v", err)
	}
	if _, err := s.ChannelMessageSend("10", "x"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(discordstandin.RouteCreateMessage); n != 6 {
		t.Fatalf("calls = %d", n)
	}
}

func TestInteractionsAndCommands(t *testing.T) {
	srv := discordstandin.NewServer("tok", "42")
	defer srv.Close()
	s := session(t, srv, "tok")
	i := &discordgo.Interaction{ID: "5", AppID: "42", Token: "itok"}
	if err := s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
		t.Fatal(err)
	}
	content := "done"
	if _, err := s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &content}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FollowupMessageCreate(i, false, &discordgo.WebhookParams{Content: "more", Flags: discordgo.MessageFlagsEphemeral}); err != nil {
		t.Fatal(err)
	}
	cbs, ws := srv.Callbacks(), srv.Webhooks("itok")
	if len(cbs) != 1 || cbs[0].Type != 5 || len(ws) != 2 || ws[0].MessageID != "@original" || ws[0].Content != "done" || ws[1].Flags != 64 {
		t.Fatalf("callbacks %+v webhooks %+v", cbs, ws)
	}
	cmd := &discordgo.ApplicationCommand{Name: "callbacks", Description: "queue"}
	if _, err := s.ApplicationCommandBulkOverwrite("42", "", []*discordgo.ApplicationCommand{cmd}); err != nil {
		t.Fatal(err)
	}
	if cs := srv.Commands(""); len(cs) != 1 || cs[0].ID == "" {
		t.Fatalf("commands = %+v", cs)
	}
}
