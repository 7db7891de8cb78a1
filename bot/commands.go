package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"ringback/store"
	"ringback/templates"
)

// TemplatesCommand lists approved templates, and lets managers add or edit
// one (a new, unapproved version) and approve it. Only approved versions
// are ever sent.
func (b *Bot) TemplatesCommand(ctx context.Context, a Actor, args string) (string, error) {
	verb, rest, _ := strings.Cut(strings.TrimSpace(args), " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(verb) {
	case "", "list":
		return b.listTemplates(ctx, a)
	case "add", "edit":
		if !b.IsManager(a) {
			return "", refuse("Only managers can add or edit templates.")
		}
		key, text, _ := strings.Cut(rest, " ")
		text = strings.TrimSpace(text)
		if key == "" || text == "" {
			return "", refuse("Usage: `/callbacks templates add KEY TEXT`")
		}
		if err := templates.Check(text); err != nil {
			return "", refuse("Not saved: %v. Variables: {{%s}}.", strings.TrimPrefix(err.Error(), "templates: "), strings.Join(templates.Variables, "}}, {{"))
		}
		var cats []string
		if prev, err := b.store.LatestTemplate(ctx, key); err == nil && prev.Categories != "" {
			cats = strings.Split(prev.Categories, ",")
		}
		t, err := b.store.ProposeTemplate(ctx, key, text, cats, a.ID, b.clock.Now())
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Saved %s version %d, waiting for approval: `/callbacks templates approve %s`.", t.Key, t.Version, t.Key), nil
	case "approve":
		if !b.IsManager(a) {
			return "", refuse("Only managers can approve templates.")
		}
		key, version := rest, 0
		if k, v, ok := strings.Cut(rest, " "); ok {
			key = k
			if _, err := fmt.Sscanf(v, "%d", &version); err != nil {
				return "", refuse("Usage: `/callbacks templates approve KEY [VERSION]`")
			}
		}
		if version == 0 {
			t, err := b.store.LatestTemplate(ctx, key)
			if errors.Is(err, store.ErrNotFound) {
				return "", refuse("No template %q.", key)
			}
			if err != nil {
				return "", err
			}
			if t.Approved() {
				return "", refuse("%s version %d is approved already.", key, t.Version)
			}
			version = t.Version
		}
		if err := b.store.ApproveTemplate(ctx, key, version, a.ID, b.clock.Now()); errors.Is(err, store.ErrNotFound) {
			return "", refuse("No unapproved version %d of %q.", version, key)
		} else if err != nil {
			return "", err
		}
		return fmt.Sprintf("Approved %s version %d: staff can send it now.", key, version), nil
	}
	return "", refuse("Usage: `/callbacks templates`, `templates add KEY TEXT`, `templates approve KEY [VERSION]`")
}

func (b *Bot) listTemplates(ctx context.Context, a Actor) (string, error) {
	ts, err := b.store.ApprovedTemplates(ctx)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString("*Approved templates*\n")
	for _, t := range ts {
		cats := "any case"
		if t.Categories != "" {
			cats = strings.ReplaceAll(t.Categories, ",", ", ")
		}
		// Template texts are written by managers or the config file, not callers.
		fmt.Fprintf(&sb, "• `%s` v%d (%s): %s\n", t.Key, t.Version, cats, t.Text)
	}
	if b.IsManager(a) {
		pending, err := b.store.PendingTemplates(ctx)
		if err != nil {
			return "", err
		}
		if len(pending) > 0 {
			sb.WriteString("*Waiting for approval*\n")
			for _, t := range pending {
				fmt.Fprintf(&sb, "• `%s` v%d by <@%s>: %s\n", t.Key, t.Version, t.CreatedBy, t.Text)
			}
		}
	}
	return sb.String(), nil
}

// NumberCommand lets managers opt a number out or in, and manage the spam list.
func (b *Bot) NumberCommand(ctx context.Context, a Actor, verb, raw string) (string, error) {
	if !b.IsManager(a) {
		return "", refuse("Only managers can change opt-outs and the spam list.")
	}
	if raw == "" {
		return "", refuse("Usage: `/callbacks %s NUMBER`", verb)
	}
	number, err := b.cfg.Normalize(raw)
	if err != nil {
		return "", refuse("%q is not a phone number.", raw)
	}
	now := b.clock.Now()
	switch verb {
	case "optout":
		added, err := b.store.OptOut(ctx, number, "manual", now)
		if err != nil {
			return "", err
		}
		if !added {
			return number + " was already opted out.", nil
		}
		return number + " is opted out: Ringback will not text it on any line.", nil
	case "optin":
		removed, err := b.store.OptIn(ctx, number)
		if err != nil {
			return "", err
		}
		if !removed {
			return number + " was not opted out.", nil
		}
		return number + " is opted back in.", nil
	case "spam":
		if err := b.store.AddSpam(ctx, number, a.ID, now); err != nil {
			return "", err
		}
		return number + " is on the spam list: its calls open spam cases and are never texted.", nil
	case "unspam":
		if err := b.store.RemoveSpam(ctx, number); err != nil {
			return "", err
		}
		return number + " is off the spam list.", nil
	}
	return "", refuse("Unknown command %q.", verb)
}
