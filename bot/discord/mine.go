package discord

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"ringback/bot/chat"
)

// The panel is Discord's stand-in for Slack's App Home: /callbacks mine
// answers an ephemeral message with the person's own open cases and, under
// it, each case's card buttons (the same custom ids, so a click there goes
// the way a click on the card goes) and Refresh.
//
// Discord lets a click's answer either update the message clicked on or
// send a new one, not both. Release's answer is the panel, updated in
// place. Reply, Log callback and Close answer with their picker, a new
// ephemeral message, and their modal's submission may update only that
// picker: the panel belongs to the /callbacks interaction, whose token
// nothing later holds. After those, Refresh brings the panel up to date,
// and the panel says so.
const (
	// ActionMineRefresh is the panel's Refresh button; it names no case.
	ActionMineRefresh = "mine_refresh"

	// PanelCases is how many cases the panel lists with their buttons: a
	// row of four buttons each, and the fifth (Discord's last) row for
	// Refresh.
	PanelCases = 4
)

// panelActions are the card buttons the panel repeats, in the card's
// order. Claim, Spam, Reassign and Category stay on the card: the cases
// are already the person's, and those want the card's context.
var panelActions = []string{chat.ActionReply, chat.ActionLog, chat.ActionClose, chat.ActionRelease}

// MinePanel renders /callbacks mine: the oldest PanelCases of the person's
// open cases, each with its line, state, age, caller and a link to its
// card (link turns a card's location into a URL, "" when there is none),
// and its buttons; the rest are counted. note, when set, heads the panel
// (what a click from it did, or why it did not).
func MinePanel(v chat.QueueView, note chat.Text, link func(channel, message string) string) *discordgo.InteractionResponseData {
	embed := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Color: colourInfo}
	embed.Title = clip(fmt.Sprintf("%s — %d open", v.Title, v.Total), 256)
	var rows []discordgo.MessageComponent
	shown := min(len(v.Items), PanelCases)
	if v.Total == 0 || shown == 0 {
		embed.Description = "Nothing waiting. 🎉"
	} else {
		embed.Title = clip(fmt.Sprintf("%s — %d open, oldest first", v.Title, v.Total), 256)
		var blocks []string
		for _, it := range v.Items[:shown] {
			blocks = append(blocks, panelCase(it, link))
			if r := panelRow(it); len(r.Components) > 0 {
				rows = append(rows, r)
			}
		}
		embed.Description = strings.Join(blocks, "\n\n")
	}
	foot := "After Reply, Log callback or Close, press Refresh to see your cases as they are now."
	if shown == 0 {
		foot = "Press Refresh to look again; /callbacks lists the whole queue."
	}
	if more := v.Total - shown; more > 0 && shown > 0 {
		foot = fmt.Sprintf("…and %d more, newer: they come up here as these are closed or released. ", more) + foot
	}
	embed.Footer = &discordgo.MessageEmbedFooter{Text: foot}
	rows = append(rows, row(discordgo.Button{Label: "Refresh", Style: discordgo.SecondaryButton, CustomID: ActionMineRefresh,
		Emoji: &discordgo.ComponentEmoji{Name: "🔄"}}))
	d := &discordgo.InteractionResponseData{
		Flags: discordgo.MessageFlagsEphemeral, Embeds: []*discordgo.MessageEmbed{embed},
		Components: rows, AllowedMentions: mentions(),
	}
	if len(note) > 0 {
		text, _ := Markdown(note)
		d.Content = clip(text, 2000)
	}
	return d
}

// panelCase is one case of the panel: its reference (linked to the card
// when known), flags, state, age and line on the first line; the caller,
// the category and whether they replied on the second. Outside text is
// escaped.
func panelCase(it chat.QueueItem, link func(channel, message string) string) string {
	ref := chat.Strong(it.Ref)
	if it.CardChannel != "" && it.CardMessage != "" && link != nil {
		if u := link(it.CardChannel, it.CardMessage); u != "" {
			ref = chat.Link(u, it.Ref)
		}
	}
	flags := ""
	if it.Urgent {
		flags += " 🚨 urgent"
	}
	if it.Overdue {
		flags += " ⏰ overdue"
	}
	state := it.State
	if state == "" {
		state = chat.StateOpen
	}
	t := chat.Text{ref, chat.Words(flags + " · " + state + " · " + chat.ShortDuration(it.Age) + " ago · "), chat.Said(it.Line),
		chat.Words("\n"), chat.Outside(chat.Strong(it.Caller))}
	if it.Number != "" && it.Number != it.Caller {
		t = append(t, chat.Words(" · "), chat.Said(it.Number))
	}
	t = append(t, chat.Words(" · "), chat.Said(it.CategoryLabel()), chat.Words(" · "+it.ReplyWords()))
	text, _ := Markdown(t)
	return clip(text, 900)
}

// panelRow is a case's buttons: those of panelActions its card offers,
// labelled with the case's reference, since the rows stand apart from the
// text they belong to.
func panelRow(it chat.QueueItem) discordgo.ActionsRow {
	var buttons []discordgo.MessageComponent
	for _, a := range panelActions {
		if !slices.Contains(it.Actions, a) {
			continue
		}
		style := discordgo.SecondaryButton
		if a == chat.ActionReply || a == chat.ActionLog {
			style = discordgo.PrimaryButton
		}
		buttons = append(buttons, discordgo.Button{Label: clip(ActionLabels[a]+" "+it.Ref, 80), Style: style, CustomID: CustomID(a, it.CaseID)})
	}
	return discordgo.ActionsRow{Components: buttons}
}
