package discordstandin_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"ringback/bot/discord/discordstandin"
)

// create posts content with nonce (enforced or not) as Discord's REST API
// takes it; discordgo v0.29.0's MessageSend has no nonce field.
func create(t *testing.T, s *discordgo.Session, channel, content, nonce string, enforce bool) (*discordgo.Message, error) {
	t.Helper()
	body := map[string]any{"content": content, "nonce": nonce, "enforce_nonce": enforce}
	ep := discordgo.EndpointChannelMessages(channel)
	raw, err := s.RequestWithBucketID("POST", ep, body, ep)
	if err != nil {
		return nil, err
	}
	var m discordgo.Message
	return &m, json.Unmarshal(raw, &m)
}

func TestEnforcedNonceReturnsTheMessageAlreadyCreated(t *testing.T) {
	srv := discordstandin.NewServer("tok", "42")
	defer srv.Close()
	now := time.Date(2026, 11, 16, 10, 0, 0, 0, time.UTC)
	srv.SetClock(func() time.Time { return now })
	s := session(t, srv, "tok")

	first, err := create(t, s, "10", "card", "card:1", true)
	if err != nil {
		t.Fatal(err)
	}
	again, err := create(t, s, "10", "card", "card:1", true)
	if err != nil || again.ID != first.ID {
		t.Fatalf("the same enforced nonce made message %v (%v), want %s again", again, err, first.ID)
	}
	if n := len(srv.Messages("10")); n != 1 {
		t.Fatalf("%d messages for one enforced nonce", n)
	}

	// Without enforce_nonce, or after the window, a nonce dedupes nothing.
	if m, _ := create(t, s, "10", "card", "card:1", false); m.ID == first.ID {
		t.Error("a nonce without enforce_nonce deduplicated")
	}
	now = now.Add(discordstandin.NonceWindow)
	if m, _ := create(t, s, "10", "card", "card:1", true); m.ID == first.ID {
		t.Error("a nonce deduplicated after its window")
	}
	if n := len(srv.Messages("10")); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
	if _, err := create(t, s, "10", "card", "a-nonce-longer-than-25-characters", true); code(err) != 50035 {
		t.Errorf("a 33-character nonce: %v", err)
	}
}

func TestLoseAnswerNext(t *testing.T) {
	srv := discordstandin.NewServer("tok", "42")
	defer srv.Close()
	s := session(t, srv, "tok")
	srv.LoseAnswerNext(discordstandin.RouteCreateMessage, 1)
	if _, err := s.ChannelMessageSend("10", "hello"); err == nil {
		t.Fatal("the lost answer came back")
	}
	if _, err := s.ChannelMessageSend("10", "again"); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages("10")); n != 2 {
		t.Fatalf("%d messages, want both", n)
	}
}
