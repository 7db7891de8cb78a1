package slackstandin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Slack's limits that a bot can plausibly hit; past them Slack refuses the call.
const (
	maxMessageBlocks = 50
	maxViewBlocks    = 100
	maxTextLen       = 40000
)

// handlers run with s.mu held.
var handlers = map[string]func(*Server, params) result{
	"auth.test":                    (*Server).authTest,
	"chat.postMessage":             (*Server).chatPostMessage,
	"chat.update":                  (*Server).chatUpdate,
	"chat.postEphemeral":           (*Server).chatPostEphemeral,
	"chat.getPermalink":            (*Server).chatGetPermalink,
	"chat.delete":                  (*Server).chatDelete,
	"views.open":                   (*Server).viewsOpen,
	"views.push":                   (*Server).viewsPush,
	"views.update":                 (*Server).viewsUpdate,
	"views.publish":                (*Server).viewsPublish,
	"conversations.open":           (*Server).conversationsOpen,
	"conversations.members":        (*Server).conversationsMembers,
	"conversations.info":           (*Server).conversationsInfo,
	"users.info":                   (*Server).usersInfo,
	"usergroups.users.list":        (*Server).usergroupsUsersList,
	"files.getUploadURLExternal":   (*Server).filesGetUploadURLExternal,
	"files.completeUploadExternal": (*Server).filesCompleteUploadExternal,
}

func (s *Server) authTest(params) result {
	return result{fields: map[string]any{
		"url":     "https://ringback-test.slack.example/",
		"team":    TeamName,
		"user":    "ringback",
		"team_id": TeamID,
		"user_id": BotUserID,
		"bot_id":  BotID,
	}}
}

// --- chat ---

func (s *Server) chatPostMessage(p params) result {
	if p["channel"] == "" {
		return fail("channel_not_found")
	}
	m := &Message{
		Channel:   s.resolveChannelLocked(p["channel"]),
		ThreadTS:  p["thread_ts"],
		Broadcast: p["reply_broadcast"] == "true",
		User:      BotUserID,
		Text:      p["text"],
		Params:    maps.Clone(p),
	}
	if code := m.apply(p); code != "" {
		return fail(code)
	}
	if m.Text == "" && m.Blocks == nil && m.Attachments == nil {
		return fail("no_text")
	}
	m.TS = s.nextTSLocked()
	s.messages[m.Channel] = append(s.messages[m.Channel], m)
	return result{changed: true, fields: map[string]any{
		"channel": m.Channel, "ts": m.TS, "message": messageJSON(m),
	}}
}

// chat.update replaces only what it is given: Slack keeps a message's blocks
// and attachments when the update leaves them out.
func (s *Server) chatUpdate(p params) result {
	ch := s.resolveChannelLocked(p["channel"])
	m := s.findLocked(ch, p["ts"])
	if m == nil {
		return fail("message_not_found")
	}
	next := *m
	if text, ok := p["text"]; ok {
		next.Text = text
	}
	if code := next.apply(p); code != "" {
		return fail(code)
	}
	if next.Text == "" && next.Blocks == nil && next.Attachments == nil {
		return fail("no_text")
	}
	next.Params = maps.Clone(p)
	next.Updates++
	*m = next
	return result{changed: true, fields: map[string]any{
		"channel": ch, "ts": m.TS, "text": m.Text, "message": messageJSON(m),
	}}
}

// apply sets the JSON arguments present in p, checking them as Slack does.
func (m *Message) apply(p params) string {
	if v, ok := p["blocks"]; ok {
		blocks, n, err := jsonArray(v)
		if err != nil || n > maxMessageBlocks {
			return "invalid_blocks"
		}
		m.Blocks = blocks
	}
	if v, ok := p["attachments"]; ok {
		atts, _, err := jsonArray(v)
		if err != nil {
			return "invalid_attachments"
		}
		m.Attachments = atts
	}
	if v, ok := p["metadata"]; ok && v != "" {
		meta, err := jsonObject(v)
		if err != nil {
			return "invalid_metadata_format"
		}
		m.Metadata = meta
	}
	if len(m.Text) > maxTextLen {
		return "msg_too_long"
	}
	return ""
}

func (s *Server) chatPostEphemeral(p params) result {
	if p["channel"] == "" {
		return fail("channel_not_found")
	}
	if p["user"] == "" {
		return fail("user_not_in_channel")
	}
	var scratch Message
	scratch.Text = p["text"]
	if code := scratch.apply(p); code != "" {
		return fail(code)
	}
	if scratch.Text == "" && scratch.Blocks == nil && scratch.Attachments == nil {
		return fail("no_text")
	}
	e := Ephemeral{
		Channel:  s.resolveChannelLocked(p["channel"]),
		User:     p["user"],
		TS:       s.nextTSLocked(),
		ThreadTS: p["thread_ts"],
		Text:     scratch.Text,
		Blocks:   scratch.Blocks,
	}
	s.ephem = append(s.ephem, e)
	return result{changed: true, fields: map[string]any{"message_ts": e.TS}}
}

func (s *Server) chatGetPermalink(p params) result {
	ch := s.resolveChannelLocked(p["channel"])
	m := s.findLocked(ch, p["message_ts"])
	if m == nil {
		return fail("message_not_found")
	}
	link := fmt.Sprintf("%s/archives/%s/p%s", PermalinkHost, ch, strings.Replace(m.TS, ".", "", 1))
	if m.ThreadTS != "" {
		link += fmt.Sprintf("?thread_ts=%s&cid=%s", m.ThreadTS, ch)
	}
	return result{fields: map[string]any{"channel": ch, "permalink": link}}
}

func (s *Server) chatDelete(p params) result {
	ch := s.resolveChannelLocked(p["channel"])
	msgs := s.messages[ch]
	i := slices.IndexFunc(msgs, func(m *Message) bool { return m.TS == p["ts"] })
	if i < 0 {
		return fail("message_not_found")
	}
	s.messages[ch] = slices.Delete(msgs, i, i+1)
	return result{changed: true, fields: map[string]any{"channel": ch, "ts": p["ts"]}}
}

func messageJSON(m *Message) map[string]any {
	out := map[string]any{
		"type":   "message",
		"user":   m.User,
		"bot_id": BotID,
		"app_id": AppID,
		"team":   TeamID,
		"text":   m.Text,
		"ts":     m.TS,
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if m.Attachments != nil {
		out["attachments"] = m.Attachments
	}
	if m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	if len(m.Files) > 0 {
		files := make([]map[string]string, len(m.Files))
		for i, id := range m.Files {
			files[i] = map[string]string{"id": id}
		}
		out["files"] = files
	}
	return out
}

// --- views ---

func (s *Server) viewsOpen(p params) result { return s.openModal("views.open", p) }
func (s *Server) viewsPush(p params) result { return s.openModal("views.push", p) }

func (s *Server) openModal(method string, p params) result {
	v, fields, code := parseViewFor(p, "trigger_id", "modal")
	if code != "" {
		return fail(code)
	}
	v.ID = s.newIDLocked("V")
	v.Method = method
	v.TriggerID = p["trigger_id"]
	v.Hash = s.newHashLocked()
	s.views = append(s.views, v)
	return result{changed: true, fields: map[string]any{"view": viewJSON(v, fields)}}
}

func (s *Server) viewsUpdate(p params) result {
	var cur *View
	for _, v := range s.views {
		if (p["view_id"] != "" && v.ID == p["view_id"]) ||
			(p["view_id"] == "" && p["external_id"] != "" && v.ExternalID == p["external_id"]) {
			cur = v
		}
	}
	if cur == nil {
		return fail("not_found")
	}
	if h := p["hash"]; h != "" && h != cur.Hash {
		return fail("hash_conflict")
	}
	next, fields, code := parseView(p["view"])
	if code != "" {
		return fail(code)
	}
	cur.replace(next)
	cur.Hash = s.newHashLocked()
	return result{changed: true, fields: map[string]any{"view": viewJSON(cur, fields)}}
}

// views.publish keeps one Home tab per user: a second publish replaces it.
func (s *Server) viewsPublish(p params) result {
	next, fields, code := parseViewFor(p, "user_id", "home")
	if code != "" {
		return fail(code)
	}
	var cur *View
	for _, v := range s.views {
		if v.Method == "views.publish" && v.UserID == p["user_id"] {
			cur = v
		}
	}
	switch {
	case cur == nil:
		next.ID = s.newIDLocked("V")
		next.Method = "views.publish"
		next.UserID = p["user_id"]
		s.views = append(s.views, next)
		cur = next
	case p["hash"] != "" && p["hash"] != cur.Hash:
		return fail("hash_conflict")
	default:
		cur.replace(next)
	}
	cur.Hash = s.newHashLocked()
	return result{changed: true, fields: map[string]any{"view": viewJSON(cur, fields)}}
}

func (v *View) replace(next *View) {
	v.Type = next.Type
	v.CallbackID = next.CallbackID
	v.PrivateMetadata = next.PrivateMetadata
	if next.ExternalID != "" {
		v.ExternalID = next.ExternalID
	}
	v.JSON = next.JSON
	v.Updates++
}

// parseView reads the view argument: a JSON object with a type and at most
// maxViewBlocks blocks.
// parseViewFor is parseView for a call that needs param and a view of typ:
// a missing param or another type is invalid_arguments.
func parseViewFor(p params, param, typ string) (*View, map[string]json.RawMessage, string) {
	if p[param] == "" {
		return nil, nil, "invalid_arguments"
	}
	v, fields, code := parseView(p["view"])
	if code == "" && v.Type != typ {
		return nil, nil, "invalid_arguments"
	}
	return v, fields, code
}

func parseView(raw string) (*View, map[string]json.RawMessage, string) {
	compact, err := jsonObject(raw)
	if err != nil {
		return nil, nil, "invalid_arguments"
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(compact, &fields); err != nil {
		return nil, nil, "invalid_arguments"
	}
	str := func(k string) string {
		var v string
		_ = json.Unmarshal(fields[k], &v)
		return v
	}
	if b, ok := fields["blocks"]; ok {
		if _, n, err := jsonArray(string(b)); err != nil || n > maxViewBlocks {
			return nil, nil, "invalid_arguments"
		}
	}
	v := &View{
		Type:            str("type"),
		CallbackID:      str("callback_id"),
		PrivateMetadata: str("private_metadata"),
		ExternalID:      str("external_id"),
		JSON:            compact,
	}
	return v, fields, ""
}

// viewJSON is the view as Slack answers it: what was sent plus Slack's own fields.
func viewJSON(v *View, sent map[string]json.RawMessage) map[string]any {
	out := map[string]any{}
	for k, raw := range sent {
		out[k] = raw
	}
	maps.Copy(out, map[string]any{
		"id":                    v.ID,
		"team_id":               TeamID,
		"app_id":                AppID,
		"app_installed_team_id": TeamID,
		"bot_id":                BotID,
		"hash":                  v.Hash,
		"root_view_id":          v.ID,
		"previous_view_id":      nil,
		"callback_id":           v.CallbackID,
		"private_metadata":      v.PrivateMetadata,
		"external_id":           v.ExternalID,
		"state":                 map[string]any{"values": map[string]any{}},
	})
	return out
}

// --- conversations ---

func (s *Server) conversationsOpen(p params) result {
	if ch := p["channel"]; ch != "" && p["users"] == "" {
		return result{fields: map[string]any{"channel": map[string]any{"id": ch}, "no_op": true, "already_open": true}}
	}
	var users []string
	for u := range strings.SplitSeq(p["users"], ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return fail("users_list_not_supplied")
	}
	id, existed := s.dmLocked(users)
	ch := map[string]any{"id": id, "is_im": len(users) == 1, "is_mpim": len(users) > 1}
	if len(users) == 1 {
		ch["user"] = users[0]
	}
	return result{fields: map[string]any{"channel": ch, "no_op": existed, "already_open": existed}}
}

func (s *Server) conversationsMembers(p params) result {
	if p["channel"] == "" {
		return fail("channel_not_found")
	}
	members := slices.Clone(s.members[p["channel"]])
	if members == nil {
		members = []string{}
	}
	return result{fields: map[string]any{
		"members":           members,
		"response_metadata": map[string]any{"next_cursor": ""},
	}}
}

func (s *Server) conversationsInfo(p params) result {
	id := p["channel"]
	if id == "" {
		return fail("channel_not_found")
	}
	name := s.names[id]
	if name == "" {
		name = strings.ToLower(id)
	}
	isIM := strings.HasPrefix(id, "D")
	ch := map[string]any{
		"id":          id,
		"name":        name,
		"is_channel":  !isIM,
		"is_im":       isIM,
		"is_private":  isIM,
		"is_member":   !s.outside[id],
		"is_archived": false,
		"num_members": len(s.members[id]),
	}
	if isIM {
		for key, dm := range s.dms {
			if dm == id && !strings.Contains(key, ",") {
				ch["user"] = key
			}
		}
	}
	return result{fields: map[string]any{"channel": ch}}
}

// --- users ---

func (s *Server) usersInfo(p params) result {
	id := p["user"]
	if id == BotUserID {
		return result{fields: map[string]any{"user": map[string]any{
			"id": BotUserID, "team_id": TeamID, "name": "ringback", "real_name": "Ringback",
			"is_bot": true, "deleted": false, "tz": "UTC", "tz_label": "UTC", "tz_offset": 0,
			"profile": map[string]any{"display_name": "ringback", "real_name": "Ringback", "bot_id": BotID},
		}}}
	}
	u, ok := s.users[id]
	if !ok {
		return fail("user_not_found")
	}
	label, offset := "UTC", 0
	if loc, err := time.LoadLocation(u.TZ); err == nil {
		label, offset = s.now().In(loc).Zone()
	}
	return result{fields: map[string]any{"user": map[string]any{
		"id":        u.ID,
		"team_id":   TeamID,
		"name":      u.Name,
		"real_name": u.RealName,
		"deleted":   false,
		"is_bot":    false,
		"tz":        u.TZ,
		"tz_label":  label,
		"tz_offset": offset,
		"profile": map[string]any{
			"display_name":            u.DisplayName,
			"display_name_normalized": u.DisplayName,
			"real_name":               u.RealName,
			"real_name_normalized":    u.RealName,
		},
	}}}
}

func (s *Server) usergroupsUsersList(p params) result {
	users, ok := s.groups[p["usergroup"]]
	if !ok {
		return fail("no_such_subteam")
	}
	return result{fields: map[string]any{"users": append([]string{}, users...)}}
}

// --- files ---

func (s *Server) filesGetUploadURLExternal(p params) result {
	length, err := strconv.Atoi(p["length"])
	if p["filename"] == "" || err != nil || length <= 0 {
		return fail("invalid_arguments")
	}
	f := &File{ID: s.newIDLocked("F"), Name: p["filename"], Length: length, AltText: p["alt_txt"]}
	s.files = append(s.files, f)
	return result{fields: map[string]any{
		"upload_url": s.baseURL + "upload/" + f.ID,
		"file_id":    f.ID,
	}}
}

// files.completeUploadExternal shares the files, so each channel gets a
// message carrying them, as in Slack.
func (s *Server) filesCompleteUploadExternal(p params) result {
	var req []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(p["files"]), &req); err != nil || len(req) == 0 {
		return fail("invalid_arguments")
	}
	files := make([]*File, len(req))
	for i, r := range req {
		f := s.fileLocked(r.ID)
		if f == nil || !f.uploaded || f.completed {
			return fail("file_not_found")
		}
		files[i] = f
	}

	var channels []string
	if ch := p["channel_id"]; ch != "" {
		channels = append(channels, s.resolveChannelLocked(ch))
	}
	for ch := range strings.SplitSeq(p["channels"], ",") {
		if ch = strings.TrimSpace(ch); ch != "" {
			channels = append(channels, s.resolveChannelLocked(ch))
		}
	}
	var blocks json.RawMessage
	if v := p["blocks"]; v != "" && p["initial_comment"] == "" {
		var err error
		if blocks, _, err = jsonArray(v); err != nil {
			return fail("invalid_blocks")
		}
	}

	ids := make([]string, len(files))
	summary := make([]map[string]string, len(files))
	for i, f := range files {
		if req[i].Title != "" {
			f.Title = req[i].Title
		}
		if f.Title == "" {
			f.Title = f.Name
		}
		f.Channels = slices.Clone(channels)
		f.InitialComment = p["initial_comment"]
		f.ThreadTS = p["thread_ts"]
		f.completed = true
		ids[i] = f.ID
		summary[i] = map[string]string{"id": f.ID, "title": f.Title}
	}
	for _, ch := range channels {
		m := &Message{
			Channel:  ch,
			TS:       s.nextTSLocked(),
			ThreadTS: p["thread_ts"],
			User:     BotUserID,
			Text:     p["initial_comment"],
			Blocks:   blocks,
			Files:    ids,
			Params:   maps.Clone(p),
		}
		s.messages[ch] = append(s.messages[ch], m)
	}
	return result{changed: true, fields: map[string]any{"files": summary}}
}

// --- helpers, all with s.mu held ---

func (s *Server) newIDLocked(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%08X", prefix, s.seq)
}

func (s *Server) newHashLocked() string {
	s.seq++
	return fmt.Sprintf("%d.%08x", s.now().Unix(), s.seq)
}

// nextTSLocked hands out Slack-style "seconds.micros" timestamps, strictly
// increasing across the workspace so ts identifies a message and sorts by age.
func (s *Server) nextTSLocked() string {
	us := s.now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

func (s *Server) findLocked(channel, ts string) *Message {
	for _, m := range s.messages[channel] {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

func (s *Server) fileLocked(id string) *File {
	for _, f := range s.files {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// resolveChannelLocked maps a user ID to the bot's DM with that user: Slack
// accepts a user ID as the channel of chat.postMessage and posts in the DM.
func (s *Server) resolveChannelLocked(ch string) string {
	if strings.HasPrefix(ch, "U") || strings.HasPrefix(ch, "W") {
		id, _ := s.dmLocked([]string{ch})
		return id
	}
	return ch
}

func (s *Server) dmLocked(users []string) (id string, existed bool) {
	users = slices.Clone(users)
	slices.Sort(users)
	key := strings.Join(users, ",")
	if id, ok := s.dms[key]; ok {
		return id, true
	}
	prefix := "D"
	if len(users) > 1 {
		prefix = "G"
	}
	id = s.newIDLocked(prefix)
	s.dms[key] = id
	return id, false
}

// jsonArray compacts a JSON array argument and counts its items; an empty
// array clears, so it comes back nil.
func jsonArray(raw string) (json.RawMessage, int, error) {
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(raw), &items); err != nil {
		return nil, 0, err
	}
	if len(items) == 0 {
		return nil, 0, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(raw)); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), len(items), nil
}

func jsonObject(raw string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(raw)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
