package slack

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"ringback/bot/charts"
	"ringback/bot/chat"
)

// Block Kit's limits that the digest could reach with many lines.
const (
	maxBlocks      = 50
	maxSectionText = 3000
	// maxLineSections leaves room for the thread's other blocks.
	maxLineSections = maxBlocks - 8
)

// DigestText is the digest's notification text, shown where blocks are not.
func DigestText(d chat.Digest) string {
	f := d.KPIs.Total
	s := "📊 " + Escape(d.Title()) + fmt.Sprintf(": %d missed calls", f.Missed)
	if f.MissRate != nil {
		s += fmt.Sprintf(" of %d (%.0f%%)", f.Calls, f.MissRate.Percent())
	}
	return s + fmt.Sprintf(", %d open at the end of the period", f.Backlog)
}

// DigestBlocks renders the digest's post, read in thirty seconds: the six
// headline figures against their targets with the change on last week,
// the chart (chartFile, a file uploaded for it; "" for none), one line per
// line and the three oldest open cases linked to their cards through
// permalink. Every table follows in its thread (DigestDetailBlocks).
func DigestBlocks(d chat.Digest, permalink func(channel, ts string) string, chartFile string) []slack.Block {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(truncate("📊 "+d.Title(), 150))),
	}
	var fields []*slack.TextBlockObject
	for _, h := range d.Headlines() {
		label := "*" + Escape(h.Label) + "*"
		if m := h.Mark(); m != "" {
			label += " " + m
		}
		fields = append(fields, mrkdwn(label+"\n"+Escape(h.Line())))
	}
	if len(fields) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("✅ on target · ⚠️ off target · ▲ ▼ against %s · pts = percentage points",
		Escape(d.Previous.Period.Label)))))
	if chartFile != "" {
		blocks = append(blocks, slack.NewImageBlockSlackFile(&slack.SlackFileObject{ID: chartFile}, chartAlt, "chart",
			plain("Missed calls by weekday and hour, and missed calls against cases reached, day by day")))
	}

	if lines := d.LineSummaries(); len(lines) > 0 {
		text := "*By line*"
		for i, l := range lines {
			if i == maxHeadLines {
				text += fmt.Sprintf("\n…and %d more lines, in the thread.", len(lines)-i)
				break
			}
			text += "\n• *" + Escape(l.Name) + "*: " + Escape(l.Text)
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(text, maxSectionText)), nil, nil))
	}

	oldest := "*Oldest open cases*"
	if len(d.Oldest) == 0 {
		oldest += ": none. 🎉"
	}
	for _, it := range d.OldestHead() {
		oldest += "\n• " + oldestLine(d, it, permalink)
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(oldest, maxSectionText)), nil, nil))
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn("Every KPI per line, staff and the days are in the thread, with the CSV.")))
	return blocks
}

// maxHeadLines bounds the post's lines; the thread has every one.
const maxHeadLines = 25

const chartAlt = "Heatmap of missed calls by weekday and hour, and bar chart of missed calls and cases reached per day"

// oldestLine is an open case for the digest: its card's link, line, age,
// owner, caller and category.
func oldestLine(d chat.Digest, it chat.QueueItem, permalink func(channel, ts string) string) string {
	ref := it.Ref
	if it.CardChannel != "" && it.CardMessage != "" && permalink != nil {
		if link := chat.SafeURL(permalink(it.CardChannel, it.CardMessage)); link != "" {
			ref = "<" + Escape(link) + "|" + it.Ref + ">"
		}
	}
	facts := d.OldestFacts(it)
	for i, f := range facts {
		facts[i] = Escape(f)
	}
	return ref + " · " + strings.Join(facts, " · ")
}

// DigestDetailBlocks renders the digest's thread: every KPI per scope as a
// table with its peak hours, the staff table, the oldest open cases and
// the days. The CSV goes with it.
func DigestDetailBlocks(d chat.Digest, permalink func(channel, ts string) string) []slack.Block {
	blocks := []slack.Block{
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Every KPI of %s. Changes ▲ ▼ are against %s · pts = percentage points. The CSV has them all.",
			Escape(d.Label), Escape(d.Previous.Period.Label)))),
	}
	scopes := d.Scopes()
	for i, scope := range scopes {
		if i == maxLineSections {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf(
				"…and %d more lines: the CSV has them, and `ringback digest --line NAME` prints any of them.", len(scopes)-i))))
			break
		}
		title := "*" + Escape(scopeTitle(scope)) + "*: every KPI"
		after := "Peak miss hours: no missed calls"
		if peaks := d.PeakHoursText(scope, 3); len(peaks) > 0 {
			after = "Peak miss hours: " + Escape(strings.Join(peaks, ", "))
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(codeSection(title, d.Table(scope), after)), nil, nil))
	}
	blocks = append(blocks, slack.NewDividerBlock())

	if t := d.StaffTable(); t != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(codeSection("*Staff*: the cases opened this period", t, "")), nil, nil))
	} else {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Staff*: nobody claimed, contacted or closed a case opened this period."), nil, nil))
	}
	if len(d.Oldest) > 0 {
		oldest := "*Oldest open cases* at the end of the period"
		for _, it := range d.Oldest {
			oldest += "\n• " + oldestLine(d, it, permalink)
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(oldest, maxSectionText)), nil, nil))
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(codeSection("*By day*", d.DailyTable(), "")), nil, nil))
	zone := "UTC"
	if d.Zone != nil {
		zone = d.Zone.String()
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf(
		"Days in %s. Reached: cases whose first human contact (a template SMS or a logged callback) was made that day.", Escape(zone)))))
	return blocks
}

func scopeTitle(s string) string {
	if s == chat.ScopeTotal {
		return "All lines"
	}
	return s
}

// codeSection is a section's text: a title, a table in a code block (so
// its columns line up) and a line after. A table too long for the section
// loses its last rows rather than its closing fence.
func codeSection(title, table, after string) string {
	table = Escape(table)
	room := maxSectionText - utf8.RuneCountInString(title) - utf8.RuneCountInString(Escape(after)) - 16
	if utf8.RuneCountInString(table) > room {
		lines := strings.Split(table, "\n")
		for len(lines) > 1 && utf8.RuneCountInString(strings.Join(lines, "\n"))+2 > room {
			lines = lines[:len(lines)-1]
		}
		table = strings.Join(lines, "\n") + "\n…"
	}
	s := title + "\n```\n" + table + "\n```"
	if after != "" {
		s += "\n" + after
	}
	return s
}

// DigestChannel is the configured digest channel; its thread (the tables
// and the CSV) follows the digest.
func (a *Adapter) DigestChannel() (string, bool) { return a.bot.Config().Digest.Channel, true }

// PostDigest posts the digest in channel with its chart inline: the PNG is
// uploaded first, shared nowhere, and the post shows it (an image block
// naming the file). A re-run after a crash between the two uploads the
// chart again, a file nobody sees; the post itself is made once (Find).
func (a *Adapter) PostDigest(ctx context.Context, channel string, _ chat.DigestJob, d chat.Digest, key string) (chat.MessageRef, error) {
	a.dress(ctx, &d)
	a.mu.Lock()
	known := a.teamURL != ""
	a.mu.Unlock()
	if !known && len(d.Oldest) > 0 {
		a.Start(ctx) // the workspace URL, for the cards' links
	}
	chart := ""
	if img, err := charts.DigestPNG(d); err != nil {
		a.log.Warn("slack: digest chart not drawn; posting without it", "error", err)
	} else {
		f, err := a.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Filename: chartName(d), FileSize: len(img), Reader: bytes.NewReader(img), Title: d.Title(), AltTxt: chartAlt,
		})
		if err != nil {
			return chat.MessageRef{}, a.failed(channel, err)
		}
		chart = f.ID
	}
	return a.post(ctx, channel, channel, slack.MsgOptionText(DigestText(d), false), slack.MsgOptionBlocks(DigestBlocks(d, a.Permalink, chart)...),
		metadata(digestEvent, 0, key))
}

// dress adds what only Slack knows: people's names, so the tables read
// "Alice Jones" without pinging her.
func (a *Adapter) dress(ctx context.Context, d *chat.Digest) {
	if d.Names == nil {
		d.Names = map[string]string{}
	}
	ids := make([]string, 0, len(d.Staff)+len(d.Oldest))
	for _, r := range d.Staff {
		ids = append(ids, r.User)
	}
	for _, it := range d.Oldest {
		if it.Owner != "" {
			ids = append(ids, it.Owner)
		}
	}
	for _, id := range ids {
		if _, ok := d.Names[id]; !ok {
			d.Names[id] = a.name(ctx, id, id)
		}
	}
}

// chartName is the file name of d's chart; csvName that of its CSV, by
// which FindDigestThread knows the thread's post.
func chartName(d chat.Digest) string { return d.FileName() + ".png" }

func csvName(d chat.Digest) string { return d.FileName() + ".csv" }

// FindDigestThread looks through the digest's thread since since for its
// tables, shared with the CSV named csvName (a file share carries no
// metadata).
func (a *Adapter) FindDigestThread(ctx context.Context, top chat.MessageRef, d chat.Digest, _ string, since time.Time) (chat.MessageRef, bool, error) {
	name := csvName(d)
	params := &slack.GetConversationRepliesParameters{ChannelID: top.Channel, Timestamp: top.ID, Oldest: slackTS(since), Limit: 200}
	for {
		msgs, more, next, err := a.api.GetConversationRepliesContext(ctx, params)
		if err != nil {
			return chat.MessageRef{}, false, a.unread(top.Channel, err)
		}
		for _, m := range msgs {
			if slices.ContainsFunc(m.Files, func(f slack.File) bool { return f.Name == name }) {
				return chat.MessageRef{Channel: top.Channel, ID: m.Timestamp}, true, nil
			}
		}
		if !more || next == "" {
			return chat.MessageRef{}, false, nil
		}
		params.Cursor = next
	}
}

// PostDigestThread shares the digest's CSV in its thread, with every table
// as the share's blocks: one upload (getUploadURLExternal, upload,
// completeUploadExternal), so one post. Slack answers with the file, not
// the message sharing it: the ref names the file.
func (a *Adapter) PostDigestThread(ctx context.Context, top chat.MessageRef, d chat.Digest, _ string) (chat.MessageRef, error) {
	a.dress(ctx, &d)
	data, err := d.CSV()
	if err != nil {
		return chat.MessageRef{}, chat.Permanent(err) // the same data would fail the same way
	}
	f, err := a.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Channel:         top.Channel,
		ThreadTimestamp: top.ID,
		Filename:        csvName(d),
		FileSize:        len(data),
		Reader:          bytes.NewReader(data),
		Title:           d.Title() + " (CSV)",
		Blocks:          slack.Blocks{BlockSet: DigestDetailBlocks(d, a.Permalink)},
	})
	if err != nil {
		return chat.MessageRef{}, a.failed(top.Channel, err)
	}
	return chat.MessageRef{Channel: top.Channel, ID: f.ID}, nil
}
