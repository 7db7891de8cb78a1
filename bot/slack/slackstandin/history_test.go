package slackstandin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func meta(key string) slack.MsgOption {
	return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "test_post", EventPayload: map[string]any{"key": key}})
}

// post posts text with metadata naming it; in thread when thread != "".
func post(t *testing.T, api *slack.Client, channel, thread, text string) string {
	t.Helper()
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), meta(text)}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	_, ts, err := api.PostMessage(channel, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func texts(msgs []slack.Message) string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return strings.Join(out, ",")
}

func TestHistoryBoundsPagesAndMetadata(t *testing.T) {
	srv, api := setup(t)
	clock := time.Unix(1_800_000_000, 0)
	srv.SetClock(func() time.Time { clock = clock.Add(time.Second); return clock })
	a := post(t, api, "C1", "", "a")
	b := post(t, api, "C1", "", "b")
	post(t, api, "C1", b, "b1") // a reply: not in the channel's history
	c := post(t, api, "C1", "", "c")
	post(t, api, "C2", "", "elsewhere")

	res, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(res.Messages); got != "c,b,a" || res.HasMore {
		t.Fatalf("history %q (has_more %v), want newest first c,b,a", got, res.HasMore)
	}
	for _, m := range res.Messages {
		if m.Metadata.EventType != "" {
			t.Fatalf("metadata %+v returned without include_all_metadata", m.Metadata)
		}
		if m.Text == "b" && (m.ReplyCount != 1 || m.ThreadTimestamp != b) {
			t.Errorf("the parent shows %d replies, thread_ts %q", m.ReplyCount, m.ThreadTimestamp)
		}
	}
	res, _ = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", IncludeAllMetadata: true})
	if m := res.Messages[0]; m.Metadata.EventType != "test_post" || m.Metadata.EventPayload["key"] != "c" {
		t.Fatalf("metadata with include_all_metadata: %+v", m.Metadata)
	}

	// oldest and latest are exclusive unless inclusive.
	for _, tc := range []struct {
		p    slack.GetConversationHistoryParameters
		want string
	}{
		{slack.GetConversationHistoryParameters{Oldest: a}, "c,b"},
		{slack.GetConversationHistoryParameters{Oldest: a, Inclusive: true}, "c,b,a"},
		{slack.GetConversationHistoryParameters{Latest: c}, "b,a"},
		{slack.GetConversationHistoryParameters{Oldest: a, Latest: c, Inclusive: true}, "c,b,a"},
		{slack.GetConversationHistoryParameters{Oldest: a, Latest: c}, "b"},
	} {
		tc.p.ChannelID = "C1"
		res, err := api.GetConversationHistory(&tc.p)
		if err != nil || texts(res.Messages) != tc.want {
			t.Errorf("oldest %s latest %s inclusive %v: %q, %v; want %q", tc.p.Oldest, tc.p.Latest, tc.p.Inclusive, texts(res.Messages), err, tc.want)
		}
	}

	// One message a page, following the cursor, reads each message once.
	var got []string
	p := &slack.GetConversationHistoryParameters{ChannelID: "C1", Limit: 1}
	for range 10 {
		res, err := api.GetConversationHistory(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, texts(res.Messages))
		if !res.HasMore {
			break
		}
		p.Cursor = res.ResponseMetaData.NextCursor
	}
	if strings.Join(got, ",") != "c,b,a" {
		t.Fatalf("paged history %v", got)
	}
	if _, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", Cursor: "nonsense"}); err == nil || !strings.Contains(err.Error(), "invalid_cursor") {
		t.Errorf("a bad cursor: %v", err)
	}
}

func TestRepliesReadAThread(t *testing.T) {
	srv, api := setup(t)
	clock := time.Unix(1_800_000_000, 0)
	srv.SetClock(func() time.Time { clock = clock.Add(time.Second); return clock })
	parent := post(t, api, "C1", "", "card")
	r1 := post(t, api, "C1", parent, "one")
	post(t, api, "C1", parent, "two")
	post(t, api, "C1", "", "another card")

	msgs, more, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent})
	if err != nil || more || texts(msgs) != "card,one,two" {
		t.Fatalf("replies %q (more %v): %v; want the parent, then its replies oldest first", texts(msgs), more, err)
	}
	if msgs[1].Metadata.EventType != "" {
		t.Error("metadata returned without include_all_metadata")
	}
	msgs, _, _, _ = api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent, Oldest: r1, Inclusive: true, IncludeAllMetadata: true})
	if texts(msgs) != "one,two" || msgs[0].Metadata.EventPayload["key"] != "one" {
		t.Fatalf("replies since the first: %q %+v", texts(msgs), msgs)
	}
	var got []string
	p := &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent, Limit: 2}
	for range 5 {
		msgs, more, next, err := api.GetConversationReplies(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, texts(msgs))
		if !more {
			break
		}
		p.Cursor = next
	}
	if strings.Join(got, "|") != "card,one|two" {
		t.Fatalf("paged replies %v", got)
	}
	if _, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: "1.000001"}); err == nil || !strings.Contains(err.Error(), "thread_not_found") {
		t.Errorf("replies of no message: %v", err)
	}
}

// A lost answer: the post is made, the caller gets no answer.
func TestLoseAnswerNext(t *testing.T) {
	srv, api := setup(t)
	srv.LoseAnswerNext("chat.postMessage", 1)
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("hello", false)); err == nil {
		t.Fatal("the lost answer came back")
	}
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("again", false)); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages("C1"); len(got) != 2 || got[0].Text != "hello" {
		t.Fatalf("messages %+v", got)
	}
}
