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
	// maxLineSections leaves room for the digest's other blocks.
	maxLineSections = maxBlocks - 14
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

// DigestBlocks renders the weekly digest: the headline KPIs with their
// change, every KPI per scope as a table, the staff table, the oldest open
// cases (linked to their cards through permalink) and the days. The chart
// is uploaded after it.
func DigestBlocks(d chat.Digest, permalink func(channel, ts string) string) []slack.Block {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(truncate("📊 "+d.Title(), 150))),
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Changes ▲ ▼ are against %s · pts = percentage points",
			Escape(d.Previous.Period.Label)))),
	}

	// The headline: the KPIs a manager reads first; every KPI follows in
	// the tables below.
	var fields []*slack.TextBlockObject
	for _, h := range d.Headlines() {
		fields = append(fields, mrkdwn("*"+Escape(h.Label)+"*\n"+Escape(h.Value)))
	}
	scopes := d.Scopes()
	if len(fields) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	}
	blocks = append(blocks, slack.NewDividerBlock())

	for i, scope := range scopes {
		if i == maxLineSections {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf(
				"…and %d more lines: `ringback digest --line NAME` prints any of them.", len(scopes)-i))))
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

	oldest := "*Oldest open cases* at the end of the period"
	if len(d.Oldest) == 0 {
		oldest += ": none. 🎉"
	}
	for _, it := range d.Oldest {
		ref := it.Ref
		if it.CardChannel != "" && it.CardMessage != "" && permalink != nil {
			if link := chat.SafeURL(permalink(it.CardChannel, it.CardMessage)); link != "" {
				ref = "<" + Escape(link) + "|" + it.Ref + ">"
			}
		}
		owner := "unclaimed"
		if it.Owner != "" {
			owner = Escape(d.Name(it.Owner))
		}
		category := it.Category
		if category == "" {
			category = "untriaged"
		}
		oldest += fmt.Sprintf("\n• %s · %s · open %s · %s · %s · %s", ref, Escape(it.Line), chat.HumanDuration(it.Age),
			owner, Escape(it.Caller), Escape(category))
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(oldest, maxSectionText)), nil, nil))

	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(codeSection("*By day*", d.DailyTable(), "")), nil, nil))
	zone := "UTC"
	if d.Zone != nil {
		zone = d.Zone.String()
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf(
		"Days in %s. Reached: cases whose first human contact (a template SMS or a logged callback) was made that day. "+
			"The chart below shows missed calls by weekday and hour, and day by day.", Escape(zone)))))
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

// DigestChannel is the configured digest channel; its chart follows the
// digest.
func (a *Adapter) DigestChannel() (string, bool) { return a.bot.Config().Digest.Channel, true }

// PostDigest posts the weekly digest in channel; its chart follows
// (PostCharts).
func (a *Adapter) PostDigest(ctx context.Context, channel string, _ chat.DigestJob, d chat.Digest, key string) (chat.MessageRef, error) {
	a.dress(ctx, &d)
	a.mu.Lock()
	known := a.teamURL != ""
	a.mu.Unlock()
	if !known && len(d.Oldest) > 0 {
		a.Start(ctx) // the workspace URL, for the cards' links
	}
	return a.post(ctx, channel, channel, slack.MsgOptionText(DigestText(d), false), slack.MsgOptionBlocks(DigestBlocks(d, a.Permalink)...),
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

// chartName is the file name of d's chart: the week, and the line of a
// line's digest. FindCharts knows the chart by it.
func chartName(d chat.Digest) string {
	name := "ringback-digest"
	if f := strings.Fields(d.Label); len(f) > 0 {
		name += "-" + f[0] // the week, "2026-W46"
	}
	if d.Line != "" {
		name += "-" + strings.ToLower(strings.Join(strings.Fields(d.Line), "-"))
	}
	return name + ".png"
}

// FindCharts looks through the channel's history since since for d's
// chart, shared as a file named chartName (a file share carries no
// metadata).
func (a *Adapter) FindCharts(ctx context.Context, channel string, d chat.Digest, since time.Time) (chat.MessageRef, bool, error) {
	name, id := chartName(d), ""
	ref, found, err := a.findIn(ctx, channel, since, func(m slack.Message) bool {
		i := slices.IndexFunc(m.Files, func(f slack.File) bool { return f.Name == name })
		if i >= 0 {
			id = m.Files[i].ID
		}
		return i >= 0
	})
	ref.ID = id // the file, as PostCharts names it
	return ref, found, err
}

// PostCharts renders the digest's PNG and shares it in channel through
// Slack's external upload (getUploadURLExternal, upload,
// completeUploadExternal). Slack answers with the file, not the message
// sharing it: the ref names the file.
func (a *Adapter) PostCharts(ctx context.Context, channel string, d chat.Digest) (chat.MessageRef, error) {
	img, err := charts.DigestPNG(d)
	if err != nil {
		return chat.MessageRef{}, chat.Permanent(err) // the same data would fail the same way
	}
	f, err := a.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Channel:        channel,
		Filename:       chartName(d),
		FileSize:       len(img),
		Reader:         bytes.NewReader(img),
		Title:          d.Title(),
		AltTxt:         "Heatmap of missed calls by weekday and hour, and bar chart of missed calls and cases reached per day",
		InitialComment: "Missed calls by weekday and hour, and missed calls against cases reached, day by day.",
	})
	if err != nil {
		return chat.MessageRef{}, a.failed(channel, err)
	}
	return chat.MessageRef{Channel: channel, ID: f.ID}, nil
}
