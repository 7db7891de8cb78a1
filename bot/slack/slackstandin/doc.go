// Package slackstandin is a local stand-in for the part of Slack's Web API that
// Ringback calls: chat messages and threads, ephemerals, permalinks, modals and
// the App Home, DMs, users, user groups and the two-step file upload.
//
// It owns an in-memory workspace and nothing else. Tests point slack-go at it
// (slack.OptionAPIURL(srv.URL)) and then inspect what the bot did; the demo
// sandbox mounts Handler() and renders the same state live through OnChange.
//
// The stand-in is lenient about what Ringback does not configure (any channel
// exists and the bot is in it, any user can be DMed) and strict about what it
// does (users.info needs AddUser, usergroups.users.list needs SetGroupMembers,
// updates need an existing message or view). Slack's failures are scripted
// with FailNext (HTTP 429 with Retry-After, or 5xx) and FailNextWith
// ({"ok":false,"error":code}).
package slackstandin
