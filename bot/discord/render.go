// Package discord is Ringback's Discord adapter: it renders the bot's neutral
// cards, timeline entries, notices, queue and pickers as Discord messages
// (embeds and components), and performs the chat side effects (post, edit in
// place, thread, DM, interaction follow-ups) through Discord's REST API with
// discordgo.
//
// Discord differs from Slack in ways the rendering absorbs:
//   - modals hold only text inputs, so every choice (template, callback
//     result, outcome) is an ephemeral message with a select menu; Reply is
//     select → preview with a Send button, Close and Log callback are
//     select → modal with the note;
//   - a case's thread is a Discord thread started from the card message; it
//     shares the card message's id, so the cards table needs no new column;
//   - Spam asks for confirmation in an ephemeral message (Discord buttons
//     have no confirm dialog).
//
// Outside text (names, SMS, transcripts, notes) is escaped for Discord
// markdown and its mentions made inert; every message also carries
// allowed_mentions, so only the user ids Ringback itself names can ping.
package discord

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"ringback/bot/chat"
)

// Platform is the name of Discord in outbox kinds and card rows.
const Platform = "discord"

// Component and modal custom ids are "<action>:<case id>[:<extra>]". The card
// buttons use the bot's action names (claim, release, reply, log_callback,
// close, reopen, spam, reassign); these are the steps Discord adds.
const (
	ActionReplyPick   = "reply_pick"   // the template select under Reply
	ActionReplySend   = "reply_send"   // the Send button under a preview (extra: template key)
	ActionReplyLater  = "reply_later"  // "Send at 08:00" beside it, in the caller's quiet hours (extra: template key)
	ActionLogPick     = "log_pick"     // the result select under Log callback
	ActionClosePick   = "close_pick"   // the outcome select under Close
	ActionSpamConfirm = "spam_confirm" // the confirmation under Spam
	ActionStillOnIt   = "still_on_it"  // an owner's answer to a reminder DM

	// InputNote is the note's text input in the Log callback and Close modals.
	InputNote = "note"
)

// Colours of the card's embed by state.
const (
	ColourOpen    = 0xED4245 // red
	ColourClaimed = 0xF0B232 // amber
	ColourOverdue = 0xF57C00 // orange
	ColourUrgent  = 0x8B0000 // dark red
	ColourClosed  = 0x57F287 // green
	colourInfo    = 0x5865F2 // blurple: queue, previews, digests
)

// CustomID builds a component or modal custom id.
func CustomID(action string, caseID int64, extra ...string) string {
	id := action + ":" + strconv.FormatInt(caseID, 10)
	for _, e := range extra {
		id += ":" + e
	}
	return id
}

// ParseCustomID splits a custom id made by CustomID.
func ParseCustomID(s string) (action string, caseID int64, extra string, ok bool) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 2 {
		return "", 0, "", false
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return "", 0, "", false
	}
	if len(parts) == 3 {
		extra = parts[2]
	}
	return parts[0], id, extra, true
}

// --- escaping ---

var (
	markdown = strings.NewReplacer(
		`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`,
		">", `\>`, "#", `\#`, "-", `\-`, "[", `\[`, "]", `\]`,
	)
	massMention = regexp.MustCompile(`(?i)@(everyone|here)`)
)

// zwsp is a zero-width space: it keeps "@everyone" and "<@123>" readable
// while Discord no longer parses them as mentions.
const zwsp = "\u200b"

// Escape makes outside text inert in Discord markdown: formatting characters
// are backslash-escaped, and @everyone, @here and every "<" (user, role and
// channel mentions, timestamps, emoji) are broken with a zero-width space.
// allowed_mentions is the second line of defence; this one also keeps the
// text from looking like a mention.
func Escape(s string) string {
	return neutralise(markdown.Replace(s))
}

// neutralise breaks mentions without touching markdown; Ringback's own
// words (which may carry intended formatting) go through it.
func neutralise(s string) string {
	s = massMention.ReplaceAllString(s, "@"+zwsp+"$1")
	return strings.ReplaceAll(s, "<", "<"+zwsp)
}

// quote renders outside text as a block quote, escaped and cut to n runes.
func quote(s string, n int) string {
	lines := strings.Split(strings.TrimRight(clip(Escape(s), n), "\n"), "\n")
	return "> " + strings.Join(lines, "\n> ")
}

// clip cuts s to at most n runes, ending in "…". A cut that would leave a
// lone backslash at the end drops it, so the ellipsis is never escaped.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	trailing := 0
	for i := len(r) - 1; i >= 0 && r[i] == '\\'; i-- {
		trailing++
	}
	if trailing%2 == 1 {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// IsSnowflake reports whether id looks like a Discord id (as opposed to a
// Slack one: a case's owner may have claimed it on either platform).
func IsSnowflake(id string) bool {
	if len(id) < 15 || len(id) > 21 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// user renders a user id: a Discord mention for a Discord id, the bare id
// (inert) for another platform's user, fallback for "".
func user(id, fallback string) string {
	switch {
	case id == "":
		return fallback
	case IsSnowflake(id):
		return "<@" + id + ">"
	}
	return "@" + Escape(id)
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// mentions is the allowed_mentions of a message: nothing is parsed from the
// text; only the listed users may be pinged. The slices are never nil, so
// the JSON says "parse": [] and Discord parses nothing.
func mentions(users ...string) *discordgo.MessageAllowedMentions {
	am := &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
	if len(users) > 0 {
		am.Users = users
	}
	return am
}

// --- card ---

// Colour is the card's embed colour for its state.
func Colour(k chat.Card) int {
	switch {
	case k.State == "closed":
		return ColourClosed
	case k.Urgent:
		return ColourUrgent
	case k.Overdue:
		return ColourOverdue
	case k.State == "claimed":
		return ColourClaimed
	}
	return ColourOpen
}

// stamp renders t as a Discord timestamp, shown in each reader's time zone;
// style "f" is date and time, "t" time, "R" relative ("in 5 minutes").
func stamp(t time.Time, style string) string {
	return fmt.Sprintf("<t:%d:%s>", t.Unix(), style)
}

func words(key string) string { return strings.ReplaceAll(key, "_", " ") }

func capital(key string) string {
	w := words(key)
	if w == "" {
		return w
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

// field is an embed field. Inline fields hold short facts; capping them
// (and the description and footer) keeps a card far below the 6000
// characters an embed may hold in all, whatever callers write.
func field(name, value string, inline bool) *discordgo.MessageEmbedField {
	if value == "" {
		value = "—" // Discord refuses an empty field value
	}
	limit := 1024
	if inline {
		limit = 200
	}
	return &discordgo.MessageEmbedField{Name: name, Value: clip(value, limit), Inline: inline}
}

// CardMessage renders a case card: one embed coloured by state and the
// buttons that make sense now. Closed cards collapse to a summary with
// Reopen.
func CardMessage(k chat.Card) *discordgo.MessageSend {
	if k.State == "closed" {
		return closedCard(k)
	}
	title, _ := Markdown(k.Title())
	who, _ := Markdown(k.Who())
	var fields []*discordgo.MessageEmbedField
	for _, f := range k.Facts() {
		value, _ := Markdown(f.Value)
		fields = append(fields, field(f.Name, value, true))
	}
	if k.VoicemailURL != "" || k.Transcript != "" {
		var vm []string
		if link := safeURL(k.VoicemailURL); link != "" {
			vm = append(vm, "[Listen]("+link+")")
		}
		if k.Transcript != "" {
			vm = append(vm, quote(k.Transcript, 900))
		}
		fields = append(fields, field("🎙 Voicemail", strings.Join(vm, "\n"), false))
	}
	if k.PossibleOptOut != "" {
		question, _ := Markdown(k.OptOutQuestion())
		fields = append(fields, field("⚠️ Possible opt-out", question+"\n"+quote(k.PossibleOptOut, 700), false))
	}

	// Footers are plain text: no escaping, or the backslashes would show.
	foot := chat.Join(k.Notes(), " · ").String()

	embed := &discordgo.MessageEmbed{
		Type:        discordgo.EmbedTypeRich,
		Title:       clip(title, 256),
		Description: clip(who, 1000),
		Color:       Colour(k),
		Fields:      fields,
		Footer:      &discordgo.MessageEmbedFooter{Text: clip(foot, 300)},
		Timestamp:   k.FirstCall.UTC().Format(time.RFC3339),
	}
	return &discordgo.MessageSend{
		Embeds:          []*discordgo.MessageEmbed{embed},
		Components:      actionRows(k),
		AllowedMentions: mentions(), // embeds never ping; the thread does
	}
}

// safeURL is the one link check every renderer shares.
var safeURL = chat.SafeURL

func closedCard(k chat.Card) *discordgo.MessageSend {
	summary := "**" + Escape(k.Caller.Label()) + "** · " + Escape(k.Line)
	outcome := "**" + words(k.Outcome) + "**"
	if k.ClosedBy != "" {
		outcome += " by " + user(k.ClosedBy, "")
	}
	if k.ClosedAt != nil {
		outcome += " " + stamp(*k.ClosedAt, "f")
	}
	if k.FirstContact != nil {
		outcome += " · first contact after " + chat.ShortDuration(*k.FirstContact)
	} else {
		outcome += " · no contact logged"
	}
	desc := summary + "\n" + outcome
	if k.CloseNote != "" {
		desc += "\n" + quote(k.CloseNote, 1500)
	}
	embed := &discordgo.MessageEmbed{
		Type:        discordgo.EmbedTypeRich,
		Title:       clip(fmt.Sprintf("✅ %s closed · %s", k.Ref, words(k.Outcome)), 256),
		Description: clip(desc, 4096),
		Color:       ColourClosed,
	}
	return &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{embed}, Components: actionRows(k), AllowedMentions: mentions()}
}

// ActionLabels are the card buttons' labels (DESIGN.md's Slack surface),
// the same on every platform.
var ActionLabels = chat.ActionLabels

// actionRows lays the card's actions out as Discord wants them: at most
// five buttons per row, a select menu alone in its row, at most five rows.
func actionRows(k chat.Card) []discordgo.MessageComponent {
	var rows []discordgo.MessageComponent
	var buttons []discordgo.MessageComponent
	var selects []discordgo.MessageComponent
	for _, a := range k.Actions {
		if a == chat.ActionReassign {
			pick := discordgo.SelectMenu{
				MenuType: discordgo.UserSelectMenu, CustomID: CustomID(a, k.CaseID), Placeholder: "Reassign…",
				MinValues: intPtr(1), MaxValues: 1,
			}
			if IsSnowflake(k.Owner) {
				pick.DefaultValues = []discordgo.SelectMenuDefaultValue{{ID: k.Owner, Type: discordgo.SelectMenuDefaultValueUser}}
			}
			selects = append(selects, discordgo.ActionsRow{Components: []discordgo.MessageComponent{pick}})
			continue
		}
		if a == chat.ActionCategory {
			if pick := categoryMenu(k); pick != nil {
				selects = append(selects, discordgo.ActionsRow{Components: []discordgo.MessageComponent{pick}})
			}
			continue
		}
		label, ok := ActionLabels[a]
		if !ok {
			continue
		}
		style := discordgo.SecondaryButton
		switch a {
		case chat.ActionClaim, chat.ActionReopen:
			style = discordgo.PrimaryButton
		case chat.ActionSpam, chat.ActionOptOut:
			style = discordgo.DangerButton
		}
		buttons = append(buttons, discordgo.Button{Label: label, Style: style, CustomID: CustomID(a, k.CaseID)})
	}
	for len(buttons) > 0 {
		n := min(5, len(buttons))
		rows = append(rows, discordgo.ActionsRow{Components: buttons[:n]})
		buttons = buttons[n:]
	}
	rows = append(rows, selects...)
	if len(rows) > 5 {
		rows = rows[:5]
	}
	return rows
}

func intPtr(n int) *int { return &n }

// categoryMenu is the card's category select menu, the case's category
// chosen (Discord allows 25 options).
func categoryMenu(k chat.Card) *discordgo.SelectMenu {
	if len(k.Categories) == 0 {
		return nil
	}
	pick := &discordgo.SelectMenu{
		MenuType: discordgo.StringSelectMenu, CustomID: CustomID(chat.ActionCategory, k.CaseID), Placeholder: "Category…",
		MinValues: intPtr(1), MaxValues: 1,
	}
	for _, c := range k.Categories[:min(len(k.Categories), 25)] {
		pick.Options = append(pick.Options, discordgo.SelectMenuOption{Label: clip(c.Label, 100), Value: c.Key, Default: c.Key == k.Category})
	}
	return pick
}

// --- thread, DMs, posts ---

// EntryMessage renders a timeline entry for the card's thread. Only the
// users Ringback's own words name are pinged; the actor prefix is not (it
// would ping people for their own clicks). An entry that asks to notify the
// channel says @here, and only then may Discord parse @here: the caller's
// text in the quote is already inert.
func EntryMessage(e chat.Entry) *discordgo.MessageSend {
	var b strings.Builder
	am := mentions()
	switch {
	case e.Mention == "channel" || e.Mention == "here":
		b.WriteString("@here ")
		am.Parse = []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeEveryone}
	case IsSnowflake(e.Mention):
		b.WriteString("<@" + e.Mention + "> ")
		am.Users = appendUnique(am.Users, e.Mention)
	case e.Mention != "":
		// A Slack user or group (a line's on_duty): the channel stands in.
		b.WriteString("@here ")
		am.Parse = []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeEveryone}
	}
	if e.Actor != "" {
		b.WriteString(user(e.Actor, "") + " ")
	}
	r := markdownOf(e.Text)
	b.WriteString(r.text)
	for _, id := range r.users {
		am.Users = appendUnique(am.Users, id)
	}
	if r.everyone {
		am.Parse = []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeEveryone}
	}
	if e.Quote != "" {
		b.WriteString("\n" + quote(e.Quote, 1500))
	}
	return &discordgo.MessageSend{Content: clip(b.String(), 2000), AllowedMentions: am}
}

// NoticeMessage renders a direct message about a case; an owner reminder
// carries "Still on it" and "Release".
func NoticeMessage(n chat.Notice, cardLink string) *discordgo.MessageSend {
	t := n.Text
	if cardLink != "" {
		t = t.Append(chat.Words("\n"), chat.Link(cardLink, "Open the case"))
	}
	text, _ := Markdown(t)
	m := &discordgo.MessageSend{Content: clip(text, 2000), AllowedMentions: mentions()}
	if n.Confirm {
		m.Components = []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Still on it", Style: discordgo.SuccessButton, CustomID: CustomID(ActionStillOnIt, n.CaseID)},
			discordgo.Button{Label: "Release", Style: discordgo.SecondaryButton, CustomID: CustomID(chat.ActionRelease, n.CaseID)},
		}}}
	}
	return m
}

// PostMessage renders a channel post (queue check, manager alert). Long
// texts go in an embed, whose description holds twice a message's content.
func PostMessage(text chat.Text) *discordgo.MessageSend {
	body, _ := Markdown(text)
	if utf8.RuneCountInString(body) <= 2000 {
		return &discordgo.MessageSend{Content: body, AllowedMentions: mentions()}
	}
	return &discordgo.MessageSend{
		Embeds:          []*discordgo.MessageEmbed{{Type: discordgo.EmbedTypeRich, Description: clip(body, 4096), Color: colourInfo}},
		AllowedMentions: mentions(),
	}
}

// DigestMessage renders the digest's post, read in thirty seconds: the six
// headline figures against their targets with the change on last week as
// inline fields, the chart (an attachment named chart, "" for none) as the
// embed's image, one line per line and the three oldest open cases linked
// to their cards. Every table follows in its thread (DigestThreadMessage).
func DigestMessage(d chat.Digest, link func(channel, message string) string, chart string) *discordgo.MessageSend {
	e := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Title: clip("📊 "+d.Title(), 256), Color: colourInfo,
		Description: clip(fmt.Sprintf("✅ on target · ⚠️ off target · ▲ ▼ against %s · pts = percentage points", Escape(d.Previous.Period.Label)), 4096)}
	for _, h := range d.Headlines() {
		name := h.Label
		if m := h.Mark(); m != "" {
			name += " " + m
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: clip(name, 256), Value: clip(Escape(h.Line()), 1024), Inline: true})
	}
	if lines := d.LineSummaries(); len(lines) > 0 {
		var b []string
		for _, l := range lines {
			b = append(b, "• **"+Escape(l.Name)+"**: "+Escape(l.Text))
		}
		e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "By line", Value: clipLines(b, 1024)})
	}
	oldest := []string{"none 🎉"}
	if len(d.Oldest) > 0 {
		oldest = oldest[:0]
		for _, it := range d.OldestHead() {
			oldest = append(oldest, "• "+digestOldestLine(d, it, link))
		}
	}
	e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: "Oldest open cases", Value: clipLines(oldest, 1024)})
	if chart != "" {
		e.Image = &discordgo.MessageEmbedImage{URL: "attachment://" + chart}
	}
	e.Footer = &discordgo.MessageEmbedFooter{Text: "Every KPI per line, staff and the days are in the thread, with the CSV."}
	return &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{e}, AllowedMentions: mentions()}
}

// clipLines joins lines while they fit in n characters, saying how many
// did not.
func clipLines(lines []string, n int) string {
	out, size := []string{}, 0
	for i, l := range lines {
		more := fmt.Sprintf("…and %d more", len(lines)-i)
		if size+utf8.RuneCountInString(l)+1 > n-utf8.RuneCountInString(more)-1 {
			return strings.Join(append(out, more), "\n")
		}
		out = append(out, l)
		size += utf8.RuneCountInString(l) + 1
	}
	return strings.Join(out, "\n")
}

// digestOldestLine is an open case for the digest: its card's link, line,
// age, owner, caller and category.
func digestOldestLine(d chat.Digest, it chat.QueueItem, link func(channel, message string) string) string {
	ref := Escape(it.Ref)
	if it.CardChannel != "" && it.CardMessage != "" && link != nil {
		if u := chat.SafeURL(link(it.CardChannel, it.CardMessage)); u != "" {
			ref = "[" + Escape(it.Ref) + "](" + u + ")"
		}
	}
	facts := d.OldestFacts(it)
	for i, f := range facts {
		facts[i] = Escape(f)
	}
	return ref + " · " + strings.Join(facts, " · ")
}

// DigestThreadMessage renders the digest's thread post: every KPI per
// scope as a table in an embed of its own, the staff table and the days,
// within Discord's ten embeds and 6000 characters; the CSV (an attachment)
// has everything.
func DigestThreadMessage(d chat.Digest) *discordgo.MessageSend {
	var embeds []*discordgo.MessageEmbed
	table := func(title, body, after string) *discordgo.MessageEmbed {
		room := 4096 - utf8.RuneCountInString(after) - 12
		if utf8.RuneCountInString(body) > room {
			lines := strings.Split(body, "\n")
			for len(lines) > 1 && utf8.RuneCountInString(strings.Join(lines, "\n"))+2 > room {
				lines = lines[:len(lines)-1]
			}
			body = strings.Join(lines, "\n") + "\n…"
		}
		// A name with a fence cannot close the code block early.
		desc := "```\n" + strings.ReplaceAll(body, "```", "`\u200b``") + "\n```"
		if after != "" {
			desc += "\n" + after
		}
		return &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Title: clip(title, 256), Description: desc, Color: colourInfo}
	}
	var tables []*discordgo.MessageEmbed
	for _, scope := range d.Scopes() {
		title := "All lines"
		if scope != chat.ScopeTotal {
			title = scope
		}
		after := "Peak miss hours: no missed calls"
		if peaks := d.PeakHoursText(scope, 3); len(peaks) > 0 {
			after = "Peak miss hours: " + Escape(strings.Join(peaks, ", "))
		}
		tables = append(tables, table(clip(title, 200)+": every KPI", d.Table(scope), after))
	}
	zone := "UTC"
	if d.Zone != nil {
		zone = d.Zone.String()
	}
	days := table("By day ("+zone+")", d.DailyTable(), "Reached: cases whose first human contact (a template SMS or a logged callback) was made that day.")
	var staff *discordgo.MessageEmbed
	if t := d.StaffTable(); t != "" {
		staff = table("Staff: the cases opened this period", t, "")
	}
	size := func(e *discordgo.MessageEmbed) int {
		return utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description) + 80
	}
	used := size(days)
	if staff != nil {
		used += size(staff)
	}
	for i, e := range tables {
		// Lines that do not fit give way; the CSV keeps them.
		if len(embeds) == 8 || used+size(e) > 5900 {
			note := fmt.Sprintf("…and %d more lines: the CSV has them.", len(tables)-i)
			days.Description += "\n" + note
			break
		}
		embeds = append(embeds, e)
		used += size(e)
	}
	if staff != nil {
		embeds = append(embeds, staff)
	}
	embeds = append(embeds, days)
	return &discordgo.MessageSend{Content: clip("Every KPI of "+d.Label+", against "+d.Previous.Period.Label+". The CSV has them all.", 2000),
		Embeds: embeds, AllowedMentions: mentions()}
}

// --- interaction responses ---

// Say is an ephemeral answer to the person who clicked or typed: Ringback's
// own words (a refusal, a command's result), in the content when it fits
// and in an embed when it is long.
func Say(text string) *discordgo.InteractionResponseData { return SayText(chat.Plain(text)) }

// SayText is Say for a neutral text.
func SayText(text chat.Text) *discordgo.InteractionResponseData {
	body, _ := Markdown(text)
	d := &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: mentions(),
		Components: []discordgo.MessageComponent{}, Embeds: []*discordgo.MessageEmbed{}}
	if utf8.RuneCountInString(body) <= 2000 {
		d.Content = body
	} else {
		d.Embeds = []*discordgo.MessageEmbed{{Type: discordgo.EmbedTypeRich, Description: clip(body, 4096), Color: colourInfo}}
	}
	return d
}

// QueueMessage renders /callbacks as an ephemeral embed. link turns a card's
// location into a URL ("" when there is none).
func QueueMessage(v chat.QueueView, link func(channel, message string) string) *discordgo.InteractionResponseData {
	embed := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Color: colourInfo}
	embed.Title = clip(fmt.Sprintf("%s — %d open", v.Title, v.Total), 256)
	if v.Total == 0 {
		embed.Description = "Nothing waiting. 🎉"
	} else {
		embed.Title = clip(fmt.Sprintf("%s — %d open, oldest first", v.Title, v.Total), 256)
		var lines []string
		size, shown := 0, 0
		for _, it := range v.Items {
			line := queueLine(it, link)
			if size+utf8.RuneCountInString(line)+1 > 3900 {
				break // the rest is counted in the footer
			}
			lines = append(lines, line)
			size += utf8.RuneCountInString(line) + 1
			shown++
		}
		embed.Description = strings.Join(lines, "\n")
		if more := v.Total - shown; more > 0 {
			embed.Footer = &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("…and %d more. Narrow with /callbacks mine, overdue or line NAME.", more)}
		}
	}
	return &discordgo.InteractionResponseData{
		Flags: discordgo.MessageFlagsEphemeral, Embeds: []*discordgo.MessageEmbed{embed},
		Components: []discordgo.MessageComponent{}, AllowedMentions: mentions(),
	}
}

func queueLine(it chat.QueueItem, link func(channel, message string) string) string {
	ref := chat.Words(it.Ref)
	if it.CardChannel != "" && it.CardMessage != "" && link != nil {
		if u := link(it.CardChannel, it.CardMessage); u != "" {
			ref = chat.Link(u, it.Ref)
		}
	}
	text, _ := Markdown(it.Listing(ref))
	return text
}

func option(value, label, description string, selected bool) discordgo.SelectMenuOption {
	return discordgo.SelectMenuOption{Label: clip(label, 100), Value: value, Description: clip(description, 100), Default: selected}
}

func row(cs ...discordgo.MessageComponent) discordgo.ActionsRow {
	return discordgo.ActionsRow{Components: cs}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ReplyPicker is Reply's ephemeral message: a select of the approved
// templates that fit the case and, once one is chosen, its preview with a
// Send button. note, when set, heads the message (a refusal to retry after).
// When the caller is in their quiet hours it says their local time, and
// the preview offers "Send now" and "Send at 08:00".
func ReplyPicker(k chat.Card, choices []chat.TemplateChoice, selected string, note chat.Text, timing chat.ReplyTiming) *discordgo.InteractionResponseData {
	head := fmt.Sprintf("Text **%s** (%s) from the %s line. Only approved templates can be sent.",
		Escape(k.Caller.Label()), Escape(k.Caller.Number), Escape(k.Line))
	if timing.Quiet {
		text, _ := Markdown(timing.Note())
		head += "\n🌙 " + text
	}
	if len(note) > 0 {
		text, _ := Markdown(note)
		head = "⚠️ " + text + "\n" + head
	}
	d := &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: mentions(),
		Content: clip(head, 2000), Embeds: []*discordgo.MessageEmbed{}, Components: []discordgo.MessageComponent{}}
	if len(choices) == 0 {
		d.Content = clip(head+"\nNo approved template fits this case's category.", 2000)
		return d
	}
	var opts []discordgo.SelectMenuOption
	var chosen *chat.TemplateChoice
	for i, c := range choices {
		if i == 25 {
			break // a select holds 25 options
		}
		label := c.Name()
		if c.Blocked != "" {
			label = "⚠️ " + label
		}
		opts = append(opts, option(c.Key, label, c.Group()+" · "+c.Preview, c.Key == selected))
		if c.Key == selected {
			chosen = &choices[i]
		}
	}
	d.Components = append(d.Components, row(discordgo.SelectMenu{
		MenuType: discordgo.StringSelectMenu, CustomID: CustomID(ActionReplyPick, k.CaseID), Placeholder: "Choose a template", Options: opts,
	}))
	if chosen == nil {
		return d
	}
	preview := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Title: "Preview", Color: colourInfo,
		Description: quote(chosen.Preview, 3000),
		Footer: &discordgo.MessageEmbedFooter{Text: fmt.Sprintf("%d characters · %s · %d SMS segment%s",
			utf8.RuneCountInString(chosen.Preview), chosen.Segments.Encoding, chosen.Segments.Segments, plural(chosen.Segments.Segments))},
	}
	preview.Title = clip("Preview · "+chosen.Name()+" · "+chosen.Group(), 256)
	if chosen.Blocked != "" {
		// Send stays in sight, disabled, with the reason beside it.
		preview.Description += "\n⚠️ **Cannot be sent:** " + Escape(chosen.Blocked) + "."
		d.Embeds = []*discordgo.MessageEmbed{preview}
		d.Components = append(d.Components, row(discordgo.Button{Label: "Send", Style: discordgo.PrimaryButton, Disabled: true,
			CustomID: clip(CustomID(ActionReplySend, k.CaseID, chosen.Key), 100)}))
		return d
	}
	d.Embeds = []*discordgo.MessageEmbed{preview}
	if id := CustomID(ActionReplySend, k.CaseID, chosen.Key); len(id) <= 100 {
		send := discordgo.Button{Label: "Send", Style: discordgo.PrimaryButton, CustomID: id}
		if !timing.Quiet {
			d.Components = append(d.Components, row(send))
			return d
		}
		// The safe choice first and primary; sending now stays possible (a
		// caller staff have just spoken to expects the text).
		send.Label, send.Style = "Send now", discordgo.SecondaryButton
		later := discordgo.Button{Label: timing.LaterLabel(), Style: discordgo.PrimaryButton, CustomID: CustomID(ActionReplyLater, k.CaseID, chosen.Key)}
		d.Components = append(d.Components, row(later, send))
	}
	return d
}

// LogPicker is Log callback's first step: the result, as a select.
func LogPicker(k chat.Card, note chat.Text) *discordgo.InteractionResponseData {
	var opts []discordgo.SelectMenuOption
	for _, r := range chat.CallbackResults {
		opts = append(opts, option(r, capital(r), "", false))
	}
	head := fmt.Sprintf("Callback to **%s** (%s): how did it go?", Escape(k.Caller.Label()), Escape(k.Caller.Number))
	return picker(head, note, CustomID(ActionLogPick, k.CaseID), "Choose a result", opts)
}

// ClosePicker is Close's first step: the outcome, as a select.
func ClosePicker(k chat.Card, note chat.Text) *discordgo.InteractionResponseData {
	var opts []discordgo.SelectMenuOption
	for _, o := range chat.Outcomes {
		opts = append(opts, option(o, capital(o), "", false))
	}
	head := fmt.Sprintf("Close **%s** — %s: choose the outcome, then write the note.", k.Ref, Escape(k.Caller.Label()))
	return picker(head, note, CustomID(ActionClosePick, k.CaseID), "Choose an outcome", opts)
}

func picker(head string, note chat.Text, customID, placeholder string, opts []discordgo.SelectMenuOption) *discordgo.InteractionResponseData {
	if len(note) > 0 {
		text, _ := Markdown(note)
		head = "⚠️ " + text + "\n" + head
	}
	return &discordgo.InteractionResponseData{
		Flags: discordgo.MessageFlagsEphemeral, Content: clip(head, 2000), AllowedMentions: mentions(), Embeds: []*discordgo.MessageEmbed{},
		Components: []discordgo.MessageComponent{row(discordgo.SelectMenu{
			MenuType: discordgo.StringSelectMenu, CustomID: customID, Placeholder: placeholder, Options: opts,
		})},
	}
}

// LogModal is Log callback's second step: an optional note for the chosen
// result. The result travels in the modal's custom id.
func LogModal(caseID int64, result string) *discordgo.InteractionResponseData {
	return &discordgo.InteractionResponseData{
		CustomID: CustomID(chat.ActionLog, caseID, result),
		Title:    clip("Log callback: "+words(result), 45),
		Components: []discordgo.MessageComponent{row(discordgo.TextInput{
			CustomID: InputNote, Label: "Note", Style: discordgo.TextInputParagraph,
			Placeholder: "What happened?", Required: false, MaxLength: 2000,
		})},
	}
}

// CloseModal is Close's second step: the required note for the chosen
// outcome, which travels in the modal's custom id.
func CloseModal(caseID int64, ref, outcome string) *discordgo.InteractionResponseData {
	return &discordgo.InteractionResponseData{
		CustomID: CustomID(chat.ActionClose, caseID, outcome),
		Title:    clip("Close "+ref+": "+words(outcome), 45),
		Components: []discordgo.MessageComponent{row(discordgo.TextInput{
			CustomID: InputNote, Label: "Note", Style: discordgo.TextInputParagraph,
			Placeholder: "What was agreed or done", Required: true, MinLength: 1, MaxLength: 2000,
		})},
	}
}

// SpamConfirm asks before a number goes on the spam list (Slack's confirm
// dialog; Discord buttons have none).
func SpamConfirm(k chat.Card) *discordgo.InteractionResponseData {
	return &discordgo.InteractionResponseData{
		Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: mentions(), Embeds: []*discordgo.MessageEmbed{},
		Content: clip(fmt.Sprintf("Mark **%s** as spam? The number goes on the spam list: its calls are never texted again, and %s closes.",
			Escape(k.Caller.Label()), k.Ref), 2000),
		Components: []discordgo.MessageComponent{row(discordgo.Button{
			Label: "Mark as spam", Style: discordgo.DangerButton, CustomID: CustomID(ActionSpamConfirm, k.CaseID),
		})},
	}
}

// Done replaces an ephemeral step's message with a last word and no
// components, so it cannot be clicked twice.
func Done(text string) *discordgo.InteractionResponseData { return DoneText(chat.Plain(text)) }

// DoneText is Done for a neutral text.
func DoneText(text chat.Text) *discordgo.InteractionResponseData {
	d := SayText(text)
	d.Flags = 0 // an update keeps the message's flags; Discord refuses to change them
	return d
}
