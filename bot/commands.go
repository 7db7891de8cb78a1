package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"ringback/store"
	"ringback/templates"
)

// This file is /callbacks: its verbs, their usage, the help and who may use
// which. Chat handlers verify and acknowledge a command, hand its arguments
// to Command and render the Reply.

// Invoker is who typed a command, and where.
type Invoker struct {
	Actor    Actor
	Platform string // whose card links the queue carries
	// QueueLimit caps the cases a queue lists (0: the store's default).
	QueueLimit int
}

// Reply is a command's answer, shown only to whoever typed it: a text, or
// a page of the queue.
type Reply struct {
	Text  Text
	Queue *QueueView
}

// Failure is what a person reads when something went wrong that is not
// theirs to fix.
var Failure = Plain("Something went wrong; please try again.")

// Command runs /callbacks with args. A refusal (not allowed, a usage
// mistake) is the reply; an error is a failure the caller logs and shows
// as Failure.
func (b *Bot) Command(ctx context.Context, by Invoker, args string) (Reply, error) {
	verb, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
	verb, rest = strings.ToLower(verb), strings.TrimSpace(rest)
	r, err := Reply{}, b.mayCommand(by.Actor, verb, rest)
	if err == nil {
		r, err = b.command(ctx, by, verb, rest)
	}
	var refused *Refusal
	if errors.As(err, &refused) {
		return Reply{Text: refused.Text()}, nil
	}
	return r, err
}

func (b *Bot) command(ctx context.Context, by Invoker, verb, rest string) (Reply, error) {
	text := func(t Text, err error) (Reply, error) { return Reply{Text: t}, err }
	queue := func(req QueueRequest) (Reply, error) {
		req.Actor, req.Platform, req.Limit = by.Actor, by.Platform, by.QueueLimit
		v, err := b.Queue(ctx, req)
		if err != nil {
			return Reply{}, err
		}
		return Reply{Queue: &v}, nil
	}
	switch verb {
	case "":
		return queue(QueueRequest{})
	case "mine":
		return queue(QueueRequest{Mine: true})
	case "overdue":
		return queue(QueueRequest{Overdue: true})
	case "line":
		if rest == "" {
			return text(usage("line NAME"), nil)
		}
		return queue(QueueRequest{LineName: rest})
	case "stats":
		return text(b.StatsText(ctx, rest))
	case "templates":
		return text(b.TemplatesCommand(ctx, by.Actor, rest))
	case "category":
		return text(b.CategoryCommand(ctx, by.Actor, rest))
	case "optout", "optin", "spam", "unspam":
		return text(b.NumberCommand(ctx, by.Actor, verb, rest))
	case "optouts":
		return text(b.OptOutsCommand(ctx, by.Actor))
	case "away":
		return text(b.AwayCommand(ctx, by.Actor, rest))
	case "back":
		return text(b.BackCommand(ctx, by.Actor))
	}
	return text(Help, nil)
}

func usage(args ...string) Text {
	t := Text{Words("Usage: ")}
	for i, a := range args {
		if i > 0 {
			t = append(t, Words(", "))
		}
		t = append(t, Command(a))
	}
	return t
}

// Help is /callbacks help.
var Help = Text{
	Strong("/callbacks"), Words(" — the open queue, oldest first\n"),
	Command("mine"), Words(" — cases you own\n"),
	Command("overdue"), Words(" — cases past their contact time\n"),
	Command("line NAME"), Words(" — one line's queue\n"),
	Command("stats [week]"), Words(" — this week's numbers (or "), Code("last"), Words(", "), Code("2026-W46"), Words(")\n"),
	Command("category CASE NAME"), Words(" — set or correct a case's category\n"),
	Command("away until DATE"), Words(", "), Code("back"), Words(" — the rota skips you while you're away\n"),
	Command("templates"), Words(" — approved texts; managers: "), Code("templates add KEY TEXT"), Words(", "), Code("templates approve KEY"), Words("\n"),
	Command("optouts"), Words(" — numbers opted out of texts, with where and when\n"),
	Command("optout NUMBER"), Words(", "), Code("optin NUMBER"), Words(", "), Code("spam NUMBER"), Words(", "), Code("unspam NUMBER"), Words(" — managers\n"),
	Command("help"), Words(" — this help"),
}

// MayWork refuses whoever is neither staff nor a manager: only they work
// callbacks (open Reply, Log callback, Close…).
func (b *Bot) MayWork(a Actor) error { return b.mayWork(a) }

// TemplatesCommand lists approved templates, and lets managers add or edit
// one (a new, unapproved version) and approve it. Only approved versions
// are ever sent.
func (b *Bot) TemplatesCommand(ctx context.Context, a Actor, args string) (Text, error) {
	verb, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(verb) {
	case "", "list":
		return b.listTemplates(ctx, a)
	case "add", "edit":
		if !b.IsManager(a) {
			return nil, refuse("Only managers can add or edit templates.")
		}
		key, text, _ := strings.Cut(rest, " ")
		text = strings.TrimSpace(text)
		if key == "" || text == "" {
			return usage("templates add KEY TEXT"), nil
		}
		if err := templates.Check(text); err != nil {
			return nil, refuse("Not saved: %v. Variables: {{%s}}.", strings.TrimPrefix(err.Error(), "templates: "), strings.Join(templates.Variables, "}}, {{"))
		}
		var cats []string
		if prev, err := b.store.LatestTemplate(ctx, key); err == nil && prev.Categories != "" {
			cats = strings.Split(prev.Categories, ",")
		}
		t, err := b.store.ProposeTemplate(ctx, key, text, cats, a.ID, b.clock.Now())
		if err != nil {
			return nil, err
		}
		return Text{Wordsf("Saved %s version %d, waiting for approval: ", t.Key, t.Version), Command("templates approve " + t.Key), Words(".")}, nil
	case "approve":
		if !b.IsManager(a) {
			return nil, refuse("Only managers can approve templates.")
		}
		key, version := rest, 0
		if k, v, ok := strings.Cut(rest, " "); ok {
			key = k
			if _, err := fmt.Sscanf(v, "%d", &version); err != nil {
				return usage("templates approve KEY [VERSION]"), nil
			}
		}
		if version == 0 {
			t, err := b.store.LatestTemplate(ctx, key)
			if errors.Is(err, store.ErrNotFound) {
				return nil, refuse("No template %q.", key)
			}
			if err != nil {
				return nil, err
			}
			if t.Approved() {
				return nil, refuse("%s version %d is approved already.", key, t.Version)
			}
			version = t.Version
		}
		if err := b.store.ApproveTemplate(ctx, key, version, a.ID, b.clock.Now()); errors.Is(err, store.ErrNotFound) {
			return nil, refuse("No unapproved version %d of %q.", version, key)
		} else if err != nil {
			return nil, err
		}
		return Plainf("Approved %s version %d: staff can send it now.", key, version), nil
	}
	return usage("templates", "templates add KEY TEXT", "templates approve KEY [VERSION]"), nil
}

func (b *Bot) listTemplates(ctx context.Context, a Actor) (Text, error) {
	ts, err := b.store.ApprovedTemplates(ctx)
	if err != nil {
		return nil, err
	}
	out := Text{Strong("Approved templates"), Words("\n")}
	for _, t := range ts {
		cats := "any case"
		if t.Categories != "" {
			cats = strings.ReplaceAll(t.Categories, ",", ", ")
		}
		// Template texts are written by managers or the config file, not callers.
		out = append(out, Words("• "), Code(t.Key), Wordsf(" v%d (%s): %s\n", t.Version, cats, t.Text))
	}
	if b.IsManager(a) {
		pending, err := b.store.PendingTemplates(ctx)
		if err != nil {
			return nil, err
		}
		if len(pending) > 0 {
			out = append(out, Strong("Waiting for approval"), Words("\n"))
			for _, t := range pending {
				out = append(out, Words("• "), Code(t.Key), Wordsf(" v%d by ", t.Version), User(t.CreatedBy), Wordsf(": %s\n", t.Text))
			}
		}
	}
	return out, nil
}

// NumberCommand lets managers opt a number out or in, and manage the spam list.
func (b *Bot) NumberCommand(ctx context.Context, a Actor, verb, raw string) (Text, error) {
	if !b.IsManager(a) {
		return nil, refuse("Only managers can change opt-outs and the spam list.")
	}
	if raw == "" {
		return usage(verb + " NUMBER"), nil
	}
	number, err := b.cfg.Normalize(raw)
	if err != nil {
		return nil, refuse("%q is not a phone number.", raw)
	}
	now := b.clock.Now()
	switch verb {
	case "optout":
		var added bool
		err := b.store.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if added, err = tx.AddOptOut(ctx, store.OptOutEntry{Number: number, Source: OptOutManual, AddedBy: a.ID, CreatedAt: now}); err != nil || !added {
				return err
			}
			return b.optOutChanged(ctx, tx, number, "opted_out", a.ID, now)
		})
		if err != nil {
			return nil, err
		}
		if !added {
			return Plain(number + " was already opted out."), nil
		}
		return Plain(number + " is opted out: Ringback will not text it on any line."), nil
	case "optin":
		var removed bool
		err := b.store.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if removed, err = tx.OptIn(ctx, number); err != nil || !removed {
				return err
			}
			return b.optOutChanged(ctx, tx, number, "opted_in", a.ID, now)
		})
		if err != nil {
			return nil, err
		}
		if !removed {
			return Plain(number + " was not opted out."), nil
		}
		return Plain(number + " is opted back in."), nil
	case "spam":
		if err := b.store.AddSpam(ctx, number, a.ID, now); err != nil {
			return nil, err
		}
		return Plain(number + " is on the spam list: its calls open spam cases and are never texted."), nil
	case "unspam":
		if err := b.store.RemoveSpam(ctx, number); err != nil {
			return nil, err
		}
		return Plain(number + " is off the spam list."), nil
	}
	return nil, refuse("Unknown command %q.", verb)
}
