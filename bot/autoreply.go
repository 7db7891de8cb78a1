package bot

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"ringback/config"
	"ringback/store"
	"ringback/templates"
)

// EntryAutoReply is the thread entry saying an automatic reply went out in
// the built-in words, or not at all.
const EntryAutoReply = "auto_reply"

// autoReply queues an automatic text (help, safety, opt-out confirmation)
// rendered from the approved template key. When the business has no such
// template, or it cannot be filled, the built-in text of kind is sent
// instead; when even that cannot be sent the case records why. Only a store
// failure is an error: a missing text must never roll back the caller's
// message, its triage or the page that came with it.
func (b *Bot) autoReply(ctx context.Context, tx *store.Tx, c store.Case, hasCase bool, caller string, line *config.Line, kind, key, dedupe string) error {
	return b.autoReplyWith(ctx, tx, c, hasCase, caller, line, kind, key, dedupe, outgoing{})
}

// autoReplyWith is autoReply for a text with more to it than its words:
// extra.NotAfter, when the text must leave by then or not at all (an
// opt-out confirmation).
func (b *Bot) autoReplyWith(ctx context.Context, tx *store.Tx, c store.Case, hasCase bool, caller string, line *config.Line, kind, key, dedupe string, extra outgoing) error {
	if !hasCase {
		c = store.Case{CallerNumber: caller, LineNumber: line.Number}
	}
	if held, err := b.repeatHeld(ctx, tx, caller, kind); held || err != nil {
		return err
	}
	vars := b.vars(ctx, tx, c, line)
	var problem string
	t, err := tx.ApprovedTemplate(ctx, key)
	switch {
	case err == nil:
		text := b.linkless(t.Text)
		if hasCase && c.ID != 0 {
			if err := b.callbackVars(ctx, tx, c, line, text, vars, b.clock.Now()); err != nil {
				return err
			}
		}
		body, err := templates.Render(text, vars)
		if err == nil {
			return b.queueAutoReply(ctx, tx, c, line, kind, key, body, dedupe, extra)
		}
		problem = fmt.Sprintf("template %q cannot be filled (%v)", key, err)
	case errors.Is(err, store.ErrNotFound):
		problem = fmt.Sprintf("no approved template %q", key)
	default:
		return err
	}
	text, ok := templates.Fallback(kind, templates.FallbackFacts{Region: b.cfg.Business.Region, Menu: b.replyMenu(line)})
	if ok {
		body, err := templates.Render(text, vars)
		if err == nil {
			b.log.Info("automatic reply sent in the built-in words", "kind", kind, "template", key, "reason", problem)
			if err := b.noteAutoReply(ctx, tx, c, hasCase, "autoreply_builtin", key, problem,
				fmt.Sprintf("%s: %s; sent the built-in text", capitalize(autoReplyWords(kind)), problem)); err != nil {
				return err
			}
			return b.queueAutoReply(ctx, tx, c, line, kind, "builtin:"+kind, body, dedupe, extra)
		}
		problem += fmt.Sprintf("; the built-in text cannot be filled (%v)", err)
	}
	b.log.Warn("automatic reply not sent", "kind", kind, "template", key, "reason", problem)
	return b.noteAutoReply(ctx, tx, c, hasCase, "sms_skipped", key, problem,
		fmt.Sprintf("%s not sent: %s", capitalize(autoReplyWords(kind)), problem))
}

// repeatHeld reports whether the caller already got this automatic reply
// within the repeat window: texting "9" or "HELP" again and again gets one
// answer, not one each (the caller's texts still reach the thread).
func (b *Bot) repeatHeld(ctx context.Context, tx *store.Tx, caller, kind string) (bool, error) {
	if kind != "safety" && kind != "help" {
		return false, nil // an opt-out confirmation has its own once-only rule
	}
	// Two replicas taking two "9"s at once must not both answer.
	if err := tx.LockCaller(ctx, caller); err != nil {
		return false, err
	}
	n, err := tx.SentMessagesOfKind(ctx, caller, kind, b.clock.Now().Add(-b.cfg.Limits.RepeatReply))
	if err != nil || n == 0 {
		return false, err
	}
	b.log.Info("automatic reply not repeated", "kind", kind, "window", b.cfg.Limits.RepeatReply.String())
	return true, nil
}

func (b *Bot) queueAutoReply(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line, kind, key, body, dedupe string, extra outgoing) error {
	o := extra
	o.Kind, o.Body, o.TemplateKey, o.Force = kind, body, key, kind == "optout_confirm"
	_, err := b.queueSMS(ctx, tx, c, line, o, dedupe, b.clock.Now())
	return err
}

// noteAutoReply records on the case (event and thread entry) how an
// automatic reply was not sent as written; a text with no case is only logged.
func (b *Bot) noteAutoReply(ctx context.Context, tx *store.Tx, c store.Case, hasCase bool, event, key, reason, words string) error {
	if !hasCase {
		return nil
	}
	if err := tx.AddEvent(ctx, c.ID, b.clock.Now(), event, "", map[string]string{"template": key, "reason": reason}); err != nil {
		return err
	}
	return b.timeline(ctx, tx, Entry{CaseID: c.ID, Kind: EntryAutoReply, Text: Plain(words)})
}

// replyMenu is the line's triage digits as a caller reads them in a text:
// "reply 1 Viewing / lettings, 2 Maintenance".
func (b *Bot) replyMenu(line *config.Line) string {
	if line == nil || len(line.Triage) == 0 {
		return ""
	}
	digits := make([]string, 0, len(line.Triage))
	for d := range line.Triage {
		digits = append(digits, d)
	}
	sort.Strings(digits)
	parts := make([]string, 0, len(digits))
	for _, d := range digits {
		label := line.Triage[d]
		if cat, ok := b.cfg.Category(label); ok && cat.Label != "" {
			label = cat.Label
		}
		parts = append(parts, d+" "+label)
	}
	return "reply " + strings.Join(parts, ", ")
}

// autoReplyWords names an automatic reply on the timeline.
func autoReplyWords(kind string) string {
	switch kind {
	case "safety":
		return "safety text"
	case "help":
		return "help text"
	case "optout_confirm":
		return "opt-out confirmation"
	}
	return kind + " text"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
