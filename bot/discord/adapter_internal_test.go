package discord

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"ringback/bot"
	"ringback/config"
)

func restErr(status, code int) error {
	return &discordgo.RESTError{
		Response: &http.Response{StatusCode: status, Status: http.StatusText(status)},
		Message:  &discordgo.APIErrorMessage{Code: code, Message: "x"},
	}
}

func TestClassify(t *testing.T) {
	rl := &discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &discordgo.TooManyRequests{RetryAfter: 30 * time.Second}, URL: "u"}}
	var ra *bot.RetryAfterError
	if err := classify(rl); !errors.As(err, &ra) || ra.After != 30*time.Second {
		t.Fatalf("429: %v", err)
	}
	for name, c := range map[string]struct {
		err              error
		permanent, fixIt bool
	}{
		"bad request":    {restErr(400, 50035), true, false},
		"bad token":      {restErr(401, 0), true, false},
		"dms closed":     {restErr(403, discordgo.ErrCodeCannotSendMessagesToThisUser), true, true},
		"missing access": {restErr(403, discordgo.ErrCodeMissingAccess), false, true},
		"unknown chan":   {restErr(404, discordgo.ErrCodeUnknownChannel), false, true},
		"server error":   {restErr(502, 0), false, false},
		"network":        {errors.New("connection refused"), false, false},
	} {
		err := classify(c.err)
		if bot.IsPermanent(err) != c.permanent || errors.As(err, &ra) {
			t.Errorf("%s: classify = %v (permanent %v)", name, err, bot.IsPermanent(err))
		}
		if noAccess(c.err) != c.fixIt {
			t.Errorf("%s: noAccess = %v", name, noAccess(c.err))
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%s: %v does not wrap the cause", name, err)
		}
	}
}

func TestRewriteTransportKeepsDiscordgoGlobalsAlone(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.URL.Path + "?" + r.URL.RawQuery }))
	defer srv.Close()
	c := &http.Client{Transport: rewriteTransport(srv.URL+"/proxy/", http.DefaultTransport)}
	before := discordgo.EndpointAPI
	res, err := c.Get(discordgo.EndpointWebhooks + "1/tok?wait=true")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got != "/proxy/api/v9/webhooks/1/tok?wait=true" || discordgo.EndpointAPI != before {
		t.Fatalf("request reached %q; EndpointAPI %q", got, discordgo.EndpointAPI)
	}
}

func adapterWith(cfg *config.Config, channels map[string]string, opts ...Option) *Adapter {
	return New("t", "1", "", bot.New(bot.Deps{Config: cfg}), channels, nil, opts...)
}

func TestManagerAlertsReachDiscordManagersOnce(t *testing.T) {
	cfg := &config.Config{Managers: []string{"U0MANAGER1", "U0MANAGER2", "300000000000000003"}}
	a := adapterWith(cfg, nil, WithManagers("300000000000000003", "300000000000000004"))
	got := map[string][]string{}
	for _, m := range cfg.Managers {
		got[m] = a.recipients(bot.Notice{User: m, CaseID: 1, Text: bot.Plain("alert")})
	}
	if len(got["U0MANAGER1"]) != 1 || got["U0MANAGER1"][0] != "300000000000000004" || got["U0MANAGER2"] != nil ||
		len(got["300000000000000003"]) != 1 {
		t.Fatalf("recipients = %v", got)
	}
	if r := a.recipients(bot.Notice{User: "U0ALICE", Confirm: true}); r != nil {
		t.Fatalf("a Slack owner's reminder went to %v", r)
	}
}

func TestPostChannels(t *testing.T) {
	cfg := &config.Config{
		Digest: config.Digest{Channel: "C0DIGEST"},
		Lines:  []config.Line{{Number: "+441632960001", Channel: "C0LETTINGS"}, {Number: "+441632960002", Channel: "C0MAINT"}},
	}
	a := adapterWith(cfg, map[string]string{"+441632960001": "110"}, WithDigestChannel("119"))
	for in, want := range map[string]string{"C0DIGEST": "119", "C0LETTINGS": "110", "C0MAINT": "", "C0OTHER": "", "110": "110", "119": "119", "": ""} {
		if got := a.PostChannel(bot.Post{Channel: in}); got != want {
			t.Errorf("post to %q went to %q, want %q", in, got, want)
		}
	}
}

func TestActor(t *testing.T) {
	a := adapterWith(&config.Config{}, nil, WithGuild("900"), WithStaffRole("77"), WithManagers("300000000000000009"))
	u := &discordgo.User{ID: "300000000000000001", Username: "alice", GlobalName: "Alice Jones"}
	for name, c := range map[string]struct {
		i     discordgo.Interaction
		staff bool
		who   string
	}{
		"role in guild":   {discordgo.Interaction{GuildID: "900", Member: &discordgo.Member{User: u, Roles: []string{"77"}, Nick: "Ali"}}, true, "Ali"},
		"no role":         {discordgo.Interaction{GuildID: "900", Member: &discordgo.Member{User: u}}, false, "Alice Jones"},
		"other guild":     {discordgo.Interaction{GuildID: "901", Member: &discordgo.Member{User: u, Roles: []string{"77"}}}, false, "Alice Jones"},
		"dm":              {discordgo.Interaction{User: u}, false, "Alice Jones"},
		"manager in a dm": {discordgo.Interaction{User: &discordgo.User{ID: "300000000000000009", Username: "mia"}}, true, "mia"},
	} {
		got := a.Actor(&c.i)
		if got.Staff != c.staff || got.Name != c.who {
			t.Errorf("%s: %+v", name, got)
		}
	}
}

// A post's marker names it invisibly, once, within Discord's limits: in
// the content, or in the first embed's description when there is none.
func TestMarkerNamesAPostOnceWithinTheLimits(t *testing.T) {
	long := &discordgo.MessageSend{Content: strings.Repeat("a", 2000)}
	mark(long, "entry:7")
	mark(long, "entry:7") // sent again after a thread was started
	if n := utf8.RuneCountInString(long.Content); n > 2000 || strings.Count(long.Content, marker("entry:7")) != 1 {
		t.Fatalf("content of %d runes with %d markers", n, strings.Count(long.Content, marker("entry:7")))
	}
	if strings.TrimFunc(marker("entry:7"), func(r rune) bool { return r == ' ' || unicode.Is(unicode.Cf, r) }) != "" {
		t.Errorf("the marker %q has visible characters", marker("entry:7"))
	}
	card := &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Description: "Jane"}}}
	mark(card, "card:1")
	got := &discordgo.Message{Embeds: card.Embeds}
	if card.Content != "" || !marked(got, "card:1") || marked(got, "card:2") {
		t.Errorf("card marked %q / %q", card.Content, card.Embeds[0].Description)
	}
}
