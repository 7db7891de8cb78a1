package slackstandin

import (
	"encoding/json"
	"maps"
	"slices"
)

// Identity of the bot and workspace that auth.test reports.
const (
	TeamID    = "T0RINGBACK"
	TeamName  = "Ringback Test"
	BotUserID = "U0RINGBOT"
	BotID     = "B0RINGBOT"
	AppID     = "A0RINGBACK"
)

// PermalinkHost is the host of the permalinks chat.getPermalink returns.
const PermalinkHost = "https://slack.example"

// Message is a message as it stands now in a channel.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string // the parent's ts for a thread reply; "" for a top-level message
	// Broadcast is a thread reply also sent to the channel (reply_broadcast).
	Broadcast bool
	User      string // BotUserID for everything the bot posts
	Text      string
	// Blocks, Attachments and Metadata are the current JSON (compacted), nil when absent.
	Blocks      json.RawMessage
	Attachments json.RawMessage
	Metadata    json.RawMessage
	Files       []string // IDs of files shared with this message
	// Params are the arguments of the last chat.postMessage or chat.update, token removed.
	Params  map[string]string
	Updates int // how many chat.update calls changed it
}

func (m Message) clone() Message {
	m.Files = slices.Clone(m.Files)
	m.Params = maps.Clone(m.Params)
	return m
}

// Ephemeral is a chat.postEphemeral message: only User saw it.
type Ephemeral struct {
	Channel  string
	User     string
	TS       string
	ThreadTS string
	Text     string
	Blocks   json.RawMessage
}

// View is a modal (views.open, views.push) or a user's Home tab (views.publish).
type View struct {
	ID string
	// Method is how the view came to be: views.open, views.push or views.publish.
	Method          string
	TriggerID       string // views.open and views.push
	UserID          string // views.publish
	Type            string // "modal" or "home", from the view
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Hash            string
	// JSON is the view exactly as the bot last sent it (compacted).
	JSON    json.RawMessage
	Updates int // views.update calls, and views.publish calls after the first
}

// File is an upload that files.completeUploadExternal finished.
type File struct {
	ID             string
	Name           string
	Title          string
	AltText        string
	Length         int // the length declared to files.getUploadURLExternal
	Data           []byte
	Channels       []string // channel_id and channels, DM channels resolved
	InitialComment string
	ThreadTS       string

	uploaded  bool
	completed bool
}

func (f File) clone() File {
	f.Data = slices.Clone(f.Data)
	f.Channels = slices.Clone(f.Channels)
	return f
}

// user is a workspace member users.info knows about.
type user struct {
	ID          string
	Name        string
	RealName    string
	DisplayName string
	TZ          string // IANA name, "UTC" unless SetUserTZ
}
