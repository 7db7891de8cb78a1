package sandbox

import (
	"encoding/json"
	"net/http"
	"sort"

	"ringback/bot/slack/slackstandin"
	"ringback/config"
)

// stateView is everything the page shows, for one person: what the bot
// posted (as the Slack stand-in holds it, blocks as stored), their modal
// and ephemeral messages, the phones and the clock.
type stateView struct {
	Business   string            `json:"business"`
	Me         User              `json:"me"`
	Users      []User            `json:"users"`
	Names      map[string]string `json:"names"` // user id → name, for <@U…>
	Lines      []lineView        `json:"lines"`
	Channels   []channelView     `json:"channels"`
	View       *modalView        `json:"view"`
	Home       *modalView        `json:"home"` // the App Home tab Ringback published for me
	Ephemerals []ephemeral       `json:"ephemerals"`
	Phones     []phoneView       `json:"phones"`
	Clock      clockView         `json:"clock"`
	BusyDay    busyProgress      `json:"busy_day"`
	// FailNext: the next text Ringback sends will come back undelivered.
	FailNext bool `json:"fail_next"`
}

type lineView struct {
	Number  string `json:"number"`
	Label   string `json:"label"` // the number as people write it
	Name    string `json:"name"`
	Channel string `json:"channel"`
}

type channelView struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Kind     string        `json:"kind"` // line, digest, channel, dm
	Line     string        `json:"line,omitempty"`
	Number   string        `json:"number,omitempty"`
	Messages []messageView `json:"messages"`
	// Order is every message's ts, oldest first; with Partial, Messages
	// holds only those that changed since the version the page asked from.
	Order   []string `json:"order,omitempty"`
	Partial bool     `json:"partial,omitempty"`
}

type messageView struct {
	TS      string          `json:"ts"`
	User    string          `json:"user"`
	Text    string          `json:"text"`
	Blocks  json.RawMessage `json:"blocks,omitempty"`
	Files   []fileView      `json:"files,omitempty"`
	Updates int             `json:"updates"`
	Replies []messageView   `json:"replies,omitempty"`
}

// fileView is a file shared in a message (the digest's chart).
type fileView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Title string `json:"title"`
	Type  string `json:"type"` // the content type, sniffed
	URL   string `json:"url"`
}

type modalView struct {
	ID         string          `json:"id"`
	Hash       string          `json:"hash"`
	CallbackID string          `json:"callback_id"`
	Updates    int             `json:"updates"`
	View       json.RawMessage `json:"view"`
}

func (s *Sandbox) serveState(w http.ResponseWriter, r *http.Request) {
	me, ok := s.user(r.URL.Query().Get("user"))
	if !ok {
		me = s.users[0]
	}
	writeJSON(w, http.StatusOK, s.delta(s.state(me), sinceParam(r)))
}

func (s *Sandbox) state(me User) stateView {
	cfg := s.opt.Config
	st := stateView{
		Business: cfg.Business.Name, Me: me, Users: s.users, Names: map[string]string{slackstandin.BotUserID: "Ringback"},
		Ephemerals: []ephemeral{}, Phones: s.phones(), Clock: s.clockView(),
	}
	for _, u := range s.users {
		st.Names[u.ID] = u.RealName
	}
	known := map[string]bool{}
	for _, l := range cfg.Lines {
		st.Lines = append(st.Lines, lineView{Number: l.Number, Label: config.Format(l.Number, cfg.Business.Region), Name: l.Name, Channel: l.Channel})
		if !known[l.Channel] {
			known[l.Channel] = true
			st.Channels = append(st.Channels, channelView{ID: l.Channel, Name: channelName(l.Name), Kind: "line", Line: l.Name, Number: config.Format(l.Number, cfg.Business.Region)})
		}
	}
	if d := cfg.Digest.Channel; d != "" && !known[d] {
		known[d] = true
		st.Channels = append(st.Channels, channelView{ID: d, Name: "managers-digest", Kind: "digest"})
	}
	dm := s.slack.DM(me.ID)
	known[dm] = true
	for _, ch := range s.slack.Channels() {
		// Other people's DMs are theirs; other channels show as they come.
		if !known[ch] && ch[0] != 'D' && ch[0] != 'G' {
			known[ch] = true
			st.Channels = append(st.Channels, channelView{ID: ch, Name: s.channelName(ch), Kind: "channel"})
		}
	}
	st.Channels = append(st.Channels, channelView{ID: dm, Name: "Ringback", Kind: "dm"})
	files := map[string]slackstandin.File{}
	for _, f := range s.slack.Files() {
		files[f.ID] = f
	}
	for i := range st.Channels {
		st.Channels[i].Messages = s.messages(st.Channels[i].ID, files)
	}
	if v, ok := s.currentView(me.ID); ok {
		st.View = &modalView{ID: v.ID, Hash: v.Hash, CallbackID: v.CallbackID, Updates: v.Updates, View: v.JSON}
	}
	if v, ok := s.homeView(me.ID); ok {
		st.Home = &modalView{ID: v.ID, Hash: v.Hash, CallbackID: v.CallbackID, Updates: v.Updates, View: v.JSON}
	}
	for _, e := range s.slack.Ephemerals(me.ID) {
		st.Ephemerals = append(st.Ephemerals, ephemeral{Channel: e.Channel, User: e.User, TS: e.TS, Text: e.Text, Blocks: e.Blocks, Source: "ephemeral"})
	}
	s.mu.Lock()
	for _, e := range s.answers {
		if e.User == me.ID {
			st.Ephemerals = append(st.Ephemerals, e)
		}
	}
	st.BusyDay = s.busy
	st.FailNext = s.failNext
	s.mu.Unlock()
	sort.SliceStable(st.Ephemerals, func(i, j int) bool { return st.Ephemerals[i].TS < st.Ephemerals[j].TS })
	return st
}

// messages are a channel's top-level messages with their threads.
func (s *Sandbox) messages(channel string, files map[string]slackstandin.File) []messageView {
	view := func(m slackstandin.Message) messageView {
		mv := messageView{TS: m.TS, User: m.User, Text: m.Text, Blocks: m.Blocks, Updates: m.Updates}
		for _, id := range m.Files {
			f := files[id]
			mv.Files = append(mv.Files, fileView{ID: id, Name: f.Name, Title: f.Title, Type: http.DetectContentType(f.Data), URL: "/sandbox/files/" + id})
		}
		return mv
	}
	out := []messageView{}
	for _, m := range s.slack.Messages(channel) {
		mv := view(m)
		if thread := s.slack.Thread(channel, m.TS); len(thread) > 1 {
			for _, r := range thread[1:] {
				mv.Replies = append(mv.Replies, view(r))
			}
		}
		out = append(out, mv)
	}
	return out
}

// serveFile serves a file shared through the Slack stand-in, as Slack's
// url_private does for a member of the workspace.
func (s *Sandbox) serveFile(w http.ResponseWriter, r *http.Request) {
	for _, f := range s.slack.Files() {
		if f.ID == r.PathValue("id") {
			w.Header().Set("Content-Type", http.DetectContentType(f.Data))
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
			w.Write(f.Data)
			return
		}
	}
	http.NotFound(w, r)
}
