// Package slack is Ringback's Slack adapter: it renders the bot's neutral
// cards, timeline entries, queue and modals as Block Kit, and performs the
// chat side effects (post, update, thread, ephemeral, modal) through the
// Slack Web API.
package slack

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"ringback/bot/chat"
)

// Escape makes outside text safe for mrkdwn: Slack reads only &, < and > as
// control characters, so a caller can never write <!channel> or <@U…>.
func Escape(s string) string {
	return mrkdwnEscaper.Replace(s)
}

// mrkdwnEscaper is built once: a Replacer builds its tables on first use,
// which per call was most of Escape's cost.
var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// quote renders outside text as a block quote, escaped.
func quote(s string) string {
	lines := strings.Split(strings.TrimRight(Escape(s), "\n"), "\n")
	return "> " + strings.Join(lines, "\n> ")
}

// date renders t so every reader sees it in their own time zone.
func date(t time.Time, format string) string {
	return fmt.Sprintf("<!date^%d^%s|%s>", t.Unix(), format, t.UTC().Format("2006-01-02 15:04 UTC"))
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

// userMention renders a user id ("" → the fallback).
func userMention(id, fallback string) string {
	if id == "" {
		return fallback
	}
	return "<@" + id + ">"
}

// CardText is the notification text of a card (shown where blocks are not).
func CardText(k chat.Card) string {
	if k.State == "closed" {
		return fmt.Sprintf("%s closed: %s", k.Ref, strings.ReplaceAll(k.Outcome, "_", " "))
	}
	return fmt.Sprintf("%s Missed call from %s on %s", k.Emoji(), Escape(k.Caller.Label()), Escape(k.Line))
}

// CardBlocks renders a case card.
func CardBlocks(k chat.Card) []slack.Block {
	if k.State == "closed" {
		return closedBlocks(k)
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(truncate(k.Title().String(), 150))),
		slack.NewSectionBlock(mrkdwn(Mrkdwn(k.Who())), nil, nil),
	}
	var fields []*slack.TextBlockObject
	for _, f := range k.Facts() {
		fields = append(fields, mrkdwn("*"+f.Name+"*\n"+Mrkdwn(f.Value)))
	}
	blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))

	if k.VoicemailURL != "" || k.Transcript != "" {
		vm := "🎙 *Voicemail*"
		if link := chat.SafeURL(k.VoicemailURL); link != "" {
			vm += " <" + Escape(link) + "|listen>"
		}
		if k.Transcript != "" {
			vm += "\n" + quote(truncate(k.Transcript, 2500))
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(vm), nil, nil))
	}
	if k.PossibleOptOut != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(Mrkdwn(k.OptOutQuestion())+"\n"+quote(truncate(k.PossibleOptOut, 1000))), nil, nil))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(Mrkdwn(chat.Join(k.Notes(), " · ")))))
	blocks = append(blocks, actions("case:"+strconv.FormatInt(k.CaseID, 10), k))
	return blocks
}

func closedBlocks(k chat.Card) []slack.Block {
	parts := []string{fmt.Sprintf("✅ *%s* %s · %s", k.Ref, Escape(k.Caller.Label()), Escape(k.Line))}
	outcome := "*" + strings.ReplaceAll(k.Outcome, "_", " ") + "*"
	if k.ClosedBy != "" {
		outcome += " by " + userMention(k.ClosedBy, "")
	}
	if k.ClosedAt != nil {
		outcome += " " + date(*k.ClosedAt, "{date_short_pretty} {time}")
	}
	parts = append(parts, outcome)
	if k.FirstContact != nil {
		parts = append(parts, "first contact after "+chat.ShortDuration(*k.FirstContact))
	} else {
		parts = append(parts, "no contact logged")
	}
	text := strings.Join(parts, " · ")
	if k.CloseNote != "" {
		text += "\n" + quote(truncate(k.CloseNote, 1500))
	}
	return []slack.Block{
		slack.NewSectionBlock(mrkdwn(text), nil, nil),
		actions("case:"+strconv.FormatInt(k.CaseID, 10), k),
	}
}

func actions(blockID string, k chat.Card) *slack.ActionBlock {
	value := strconv.FormatInt(k.CaseID, 10)
	var els []slack.BlockElement
	for _, a := range k.Actions {
		if a == chat.ActionReassign {
			// The case travels in the block id: a user select has no value.
			pick := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Reassign…"), a)
			if k.Owner != "" {
				pick.InitialUser = k.Owner
			}
			els = append(els, pick)
			continue
		}
		if a == chat.ActionCategory {
			if pick := categorySelect(k); pick != nil {
				els = append(els, pick)
			}
			continue
		}
		btn := slack.NewButtonBlockElement(a, value, plain(chat.ActionLabels[a]))
		switch a {
		case chat.ActionClaim, chat.ActionReopen:
			btn.Style = slack.StylePrimary
		case chat.ActionSpam:
			btn.Style = slack.StyleDanger
			btn.Confirm = slack.NewConfirmationBlockObject(plain("Mark as spam?"),
				plain("The number goes on the spam list: its calls are never texted again, and this case closes."),
				plain("Mark as spam"), plain("Cancel"))
		case chat.ActionOptOut:
			btn.Style = slack.StyleDanger
			btn.Confirm = slack.NewConfirmationBlockObject(plain("Opt this caller out?"),
				plain("Ringback will not text this number again on any line, until the caller replies START."),
				plain("Opt out"), plain("Cancel"))
		}
		els = append(els, btn)
	}
	return slack.NewActionBlock(blockID, els...)
}

// categorySelect is the card's category select, showing the case's
// category; the case travels in the block id, the category in the
// option's value.
func categorySelect(k chat.Card) *slack.SelectBlockElement {
	if len(k.Categories) == 0 {
		return nil
	}
	opts := make([]*slack.OptionBlockObject, 0, min(len(k.Categories), 100))
	var initial *slack.OptionBlockObject
	for _, c := range k.Categories[:min(len(k.Categories), 100)] { // Slack's limit
		o := slack.NewOptionBlockObject(c.Key, plain(truncate(c.Label, 75)), nil)
		if c.Key == k.Category {
			initial = o
		}
		opts = append(opts, o)
	}
	pick := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Category…"), chat.ActionCategory, opts...)
	pick.InitialOption = initial
	return pick
}

// notify renders who an entry calls on: the channel, whoever is active
// (@here), the line's on-duty person (U…) or user group (S…).
func notify(m string) string {
	switch {
	case m == "":
		return ""
	case m == "channel" || m == "here":
		return "<!" + m + ">"
	case strings.HasPrefix(m, "S"):
		return "<!subteam^" + m + ">"
	}
	return "<@" + m + ">"
}

// EntryText renders a timeline entry for the card's thread.
func EntryText(e chat.Entry) string {
	var b strings.Builder
	if m := notify(e.Mention); m != "" {
		b.WriteString(m + " ")
	}
	switch {
	case e.ActorName != "":
		// A name, not a mention: Slack would notify the person of their
		// own click.
		b.WriteString("*" + Escape(e.ActorName) + "* ")
	case e.Actor != "":
		b.WriteString(userMention(e.Actor, "") + " ")
	}
	b.WriteString(Mrkdwn(e.Text))
	if e.Quote != "" {
		b.WriteString("\n" + quote(truncate(e.Quote, 2800)))
	}
	return b.String()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// QueueBlocks renders /callbacks. permalink turns a card location into a URL
// ("" when the case has no card yet).
func QueueBlocks(v chat.QueueView, permalink func(channel, ts string) string) []slack.Block {
	head := fmt.Sprintf("*%s* — %d open", v.Title, v.Total)
	if v.Total == 0 {
		return []slack.Block{slack.NewSectionBlock(mrkdwn(head+"\nNothing waiting. 🎉"), nil, nil)}
	}
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(head+", oldest first"), nil, nil), slack.NewDividerBlock()}
	for _, it := range v.Items {
		ref := chat.Words(it.Ref)
		if it.CardChannel != "" && it.CardMessage != "" {
			if link := permalink(it.CardChannel, it.CardMessage); link != "" {
				ref = chat.Link(link, it.Ref)
			}
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(Mrkdwn(it.Listing(ref))), nil, nil))
	}
	if more := v.Total - len(v.Items); more > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("…and %d more. Narrow with `/callbacks mine`, `overdue` or `line NAME`.", more))))
	}
	return blocks
}

// Modal callback ids and block ids.
const (
	ModalReply    = "reply"
	ModalLog      = "log_callback"
	ModalClose    = "close"
	ModalReassign = "reassign"

	BlockTemplate = "template"
	BlockPreview  = "preview"
	BlockResult   = "result"
	BlockNote     = "note"
	BlockOutcome  = "outcome"
	BlockAssignee = "assignee"
	// BlockWhen is the Reply modal's "Send now" / "Send at 08:00" choice,
	// shown when the caller is in their quiet hours.
	BlockWhen = "when"
)

func option(value, label string) *slack.OptionBlockObject {
	return slack.NewOptionBlockObject(value, plain(truncate(label, 75)), nil)
}

// ReplyModal renders the Reply modal: a Template select, by label and
// grouped by the categories the templates are for, and a preview of the
// selected one with its segment count. A preview that cannot be sent says
// why; Slack keeps a modal's Send while it has an input, so a submit then
// gets the same words back as the select's error. When the caller is in
// their quiet hours it says their local time and asks when to send: "Send
// now" or "Send at 08:00" (their window's opening).
func ReplyModal(k chat.Card, choices []chat.TemplateChoice, selected string, timing chat.ReplyTiming) slack.ModalViewRequest {
	var groups []*slack.OptionGroupBlockObject
	var initial *slack.OptionBlockObject
	var chosen *chat.TemplateChoice
	for i, c := range choices {
		label := c.Name()
		if c.Blocked != "" {
			label = "⚠️ " + label
		}
		o := option(c.Key, label)
		if len(groups) == 0 || groups[len(groups)-1].Label.Text != truncate(c.Group(), 75) {
			groups = append(groups, slack.NewOptionGroupBlockElement(plain(truncate(c.Group(), 75))))
		}
		g := groups[len(groups)-1]
		g.Options = append(g.Options, o)
		if c.Key == selected {
			initial, chosen = o, &choices[i]
		}
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn(fmt.Sprintf("Text %s from the %s line. Only approved templates can be sent.", callee(k.Caller), Escape(k.Line))), nil, nil),
	}
	if len(groups) == 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("No approved template fits this case's category."), nil, nil))
		return modal(ModalReply, "Reply", "", k.CaseID, blocks)
	}
	sel := &slack.SelectBlockElement{Type: slack.OptTypeStatic, Placeholder: plain("Choose a template"), ActionID: BlockTemplate,
		OptionGroups: groups, InitialOption: initial}
	input := slack.NewInputBlock(BlockTemplate, plain("Template"), nil, sel)
	input.DispatchAction = true // a choice updates the preview at once
	blocks = append(blocks, input)
	preview := "_Choose a template to see the text the caller will get._"
	if chosen != nil {
		preview = "*Preview* · " + Escape(chosen.Group()) + "\n" + quote(chosen.Preview) + fmt.Sprintf("\n%d characters · %s · %d SMS segment%s",
			len([]rune(chosen.Preview)), chosen.Segments.Encoding, chosen.Segments.Segments, plural(chosen.Segments.Segments))
		if chosen.Blocked != "" {
			preview += "\n⚠️ *Cannot be sent:* " + Escape(chosen.Blocked) + "."
		}
	}
	blocks = append(blocks, slack.SectionBlock{Type: slack.MBTSection, BlockID: BlockPreview, Text: mrkdwn(preview)})
	if timing.Quiet && (chosen == nil || chosen.Blocked == "") {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn("🌙 "+Mrkdwn(timing.Note()))),
			slack.NewInputBlock(BlockWhen, plain("When"), nil, slack.NewRadioButtonsBlockElement(BlockWhen,
				option(chat.ReplyLater, timing.LaterLabel()), option(chat.ReplyNow, "Send now"))))
	}
	submit := "Send"
	if chosen != nil && chosen.Blocked != "" {
		submit = "Cannot send" // Slack requires a submit beside an input; a click is refused with the reason
	}
	return modal(ModalReply, "Reply", submit, k.CaseID, blocks)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// LogModal renders the Log callback modal.
func LogModal(k chat.Card) slack.ModalViewRequest {
	var opts []*slack.OptionBlockObject
	for _, r := range chat.CallbackResults {
		opts = append(opts, option(r, strings.ToUpper(r[:1])+strings.ReplaceAll(r[1:], "_", " ")))
	}
	note := slack.NewPlainTextInputBlockElement(plain("What happened?"), BlockNote)
	note.Multiline = true
	noteBlock := slack.NewInputBlock(BlockNote, plain("Note"), nil, note)
	noteBlock.Optional = true
	return modal(ModalLog, "Log callback", "Log", k.CaseID, []slack.Block{
		slack.NewSectionBlock(mrkdwn("Callback to "+callee(k.Caller)), nil, nil),
		slack.NewInputBlock(BlockResult, plain("Result"), nil, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose a result"), BlockResult, opts...)),
		noteBlock,
	})
}

// CloseModal renders the Close modal: an Outcome and a required Note.
func CloseModal(k chat.Card) slack.ModalViewRequest {
	var opts []*slack.OptionBlockObject
	for _, o := range chat.Outcomes {
		opts = append(opts, option(o, strings.ToUpper(o[:1])+strings.ReplaceAll(o[1:], "_", " ")))
	}
	note := slack.NewPlainTextInputBlockElement(plain("What was agreed or done"), BlockNote)
	note.Multiline = true
	note.MaxLength = 2000
	return modal(ModalClose, "Close case", "Close", k.CaseID, []slack.Block{
		slack.NewSectionBlock(mrkdwn(fmt.Sprintf("Close *%s* — %s", k.Ref, Escape(k.Caller.Label()))), nil, nil),
		slack.NewInputBlock(BlockOutcome, plain("Outcome"), nil, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose an outcome"), BlockOutcome, opts...)),
		slack.NewInputBlock(BlockNote, plain("Note"), nil, note),
	})
}

func modal(callbackID, title, submit string, caseID int64, blocks []slack.Block) slack.ModalViewRequest {
	v := slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackID,
		Title:           plain(title),
		Close:           plain("Cancel"),
		Blocks:          slack.Blocks{BlockSet: blocks},
		PrivateMetadata: strconv.FormatInt(caseID, 10),
	}
	if submit != "" {
		v.Submit = plain(submit)
	}
	return v
}

// HomeView renders the App Home tab: the person's claimed cases and the
// queue summary.
func HomeView(mine, queue chat.QueueView, permalink func(channel, ts string) string) slack.HomeTabViewRequest {
	blocks := []slack.Block{slack.NewHeaderBlock(plain("Ringback"))}
	blocks = append(blocks, QueueBlocks(mine, permalink)...)
	blocks = append(blocks, slack.NewDividerBlock())
	blocks = append(blocks, QueueBlocks(queue, permalink)...)
	if len(blocks) > 50 {
		blocks = blocks[:50]
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

// HomeRefused is the App Home of someone who may not see the queue.
func HomeRefused(why chat.Text) slack.HomeTabViewRequest {
	blocks := []slack.Block{slack.NewHeaderBlock(plain("Ringback")), slack.NewSectionBlock(mrkdwn(Mrkdwn(why)), nil, nil)}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

// ActionStillOnIt is the owner's answer to a reminder.
const ActionStillOnIt = "still_on_it"

// NoticeBlocks renders a direct message about a case; an owner reminder
// carries "Still on it" and "Release".
func NoticeBlocks(n chat.Notice, cardLink string) []slack.Block {
	text := n.Text
	if cardLink != "" {
		text = text.Append(chat.Words("\n"), chat.Link(cardLink, "Open the case"))
	}
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(Mrkdwn(text)), nil, nil)}
	if n.Confirm {
		value := strconv.FormatInt(n.CaseID, 10)
		still := slack.NewButtonBlockElement(ActionStillOnIt, value, plain("Still on it"))
		still.Style = slack.StylePrimary
		blocks = append(blocks, slack.NewActionBlock("notice:"+value, still,
			slack.NewButtonBlockElement(chat.ActionRelease, value, plain("Release"))))
	}
	return blocks
}

// callee names a caller once: "*Jane Smith (tenant)* 07700 900123", or just
// "*07700 900123*" when Ringback knows no name.
func callee(c chat.Caller) string {
	s := "*" + Escape(c.Label()) + "*"
	if c.Name != "" && c.Number != "" {
		s += " " + Escape(c.Number)
	}
	return s
}
