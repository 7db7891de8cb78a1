package bot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"ringback/store"
)

// This file is who may see and do what: one table for every card action,
// command verb, modal, picker and the App Home, on every platform.
//
// Staff of a line are the members of its Slack channel; members of the
// staff group (staff_group) and, on Discord, holders of the staff role (or
// every member of the guild without one) are staff of every line. Managers
// may do everything. Staff of any line read the whole queue (DESIGN: anyone
// on staff runs /callbacks); they act only on cases of their own lines.

// Right is what an action asks of the person.
type Right int

const (
	// RightAnyone: no check (the help).
	RightAnyone Right = iota
	// RightStaff: staff of any line (read the queue, stats, templates).
	RightStaff
	// RightLine: staff of the case's line (claim, reply, log, close, reopen).
	RightLine
	// RightOwner: the case's owner, or a manager (release, "still on it").
	RightOwner
	// RightManager: managers only.
	RightManager
)

// Verbs of the table that are not card actions: a command verb is
// "command:<verb>"; the queue (in a command or the App Home) is "queue".
const (
	ActionQueue = "queue"
	// ActionStillOnIt is an owner's answer to a reminder.
	ActionStillOnIt = "still_on_it"
)

// rights is the authorisation table. A card action or command verb not in
// it needs RightLine (a case) or RightStaff (a command): new ones are never
// open to outsiders.
var rights = map[string]Right{
	ActionClaim:     RightLine,
	ActionReply:     RightLine,
	ActionLog:       RightLine,
	ActionClose:     RightLine,
	ActionReopen:    RightLine,
	ActionRelease:   RightOwner,
	ActionStillOnIt: RightOwner,
	ActionSpam:      RightManager,
	ActionReassign:  RightManager,
	ActionCategory:  RightLine,
	ActionQueue:     RightStaff,

	"command:help":              RightAnyone,
	"command:":                  RightStaff,
	"command:mine":              RightStaff,
	"command:overdue":           RightStaff,
	"command:line":              RightStaff,
	"command:stats":             RightStaff,
	"command:templates":         RightStaff,
	"command:away":              RightStaff,
	"command:back":              RightStaff,
	"command:category":          RightStaff, // and staff of the case's line: SetCategory
	"command:templates add":     RightManager,
	"command:templates edit":    RightManager,
	"command:templates approve": RightManager,
	"command:optout":            RightManager,
	"command:optin":             RightManager,
	"command:spam":              RightManager,
	"command:unspam":            RightManager,
}

// The refusals name no case, caller or line: they reveal nothing.
var (
	refusedOutsider = "Only staff of a line's channel can use Ringback."
	refusedLine     = "Only staff of this case's line can do that."
	refusedManager  = "Only managers can do that."
	refusedOwner    = "Only the case's owner or a manager can do that."
)

// RightOf is what action needs.
func RightOf(action string, onCase bool) Right {
	if r, ok := rights[action]; ok {
		return r
	}
	if onCase {
		return RightLine
	}
	return RightStaff
}

// staffOf reports whether a is staff of line ("" for any line).
func staffOf(a Actor, line string) bool {
	if !a.Staff {
		return false
	}
	return a.Lines == nil || line == "" || slices.Contains(a.Lines, line)
}

// may applies the table: a may do action on case c (nil: no case).
func (b *Bot) may(a Actor, action string, c *store.Case) error {
	right := RightOf(action, c != nil)
	if right == RightAnyone || b.IsManager(a) {
		return nil
	}
	switch right {
	case RightManager:
		if a.Staff {
			return &Refusal{Message: refusedManager}
		}
	case RightOwner:
		if c != nil && c.Owner == a.ID && a.ID != "" {
			return nil
		}
		if a.Staff {
			return &Refusal{Message: refusedOwner}
		}
	case RightLine:
		line := ""
		if c != nil {
			line = c.LineNumber
		}
		if staffOf(a, line) {
			return nil
		}
		if a.Staff {
			return &Refusal{Message: refusedLine}
		}
	default:
		if a.Staff {
			return nil
		}
	}
	return &Refusal{Message: refusedOutsider}
}

// May refuses a when the table does not let them do action on case id
// (0: no case). Handlers ask it before they open a modal or a picker, so
// nobody sees a case they may not work.
func (b *Bot) May(ctx context.Context, a Actor, action string, id int64) error {
	if id == 0 {
		return b.may(a, action, nil)
	}
	if err := b.outsider(a, RightOf(action, true)); err != nil {
		return err
	}
	c, err := b.store.CaseByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return refuse("Case %s no longer exists.", caseRef(id))
	}
	if err != nil {
		return err
	}
	return b.may(a, action, &c)
}

// outsider refuses who is neither staff nor a manager before a case is
// read, so they learn nothing, not even whether it exists. An owner is
// let through: a reminder's buttons are pressed in a DM, outside any line.
func (b *Bot) outsider(a Actor, right Right) error {
	if a.Staff || b.IsManager(a) || right == RightAnyone || right == RightOwner {
		return nil
	}
	return &Refusal{Message: refusedOutsider}
}

// actAs is act for action by a: the table is checked on the locked case.
func (b *Bot) actAs(ctx context.Context, id int64, a Actor, action string, fn func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error)) (store.Case, error) {
	if err := b.outsider(a, RightOf(action, true)); err != nil {
		return store.Case{}, err
	}
	return b.act(ctx, id, func(tx *store.Tx, c *store.Case, now time.Time) (*Entry, error) {
		if err := b.may(a, action, c); err != nil {
			return nil, err
		}
		e, err := fn(tx, c, now)
		if e != nil && e.Actor == a.ID {
			e.ActorName = a.Name
		}
		return e, err
	})
}

// mayCommand applies the table to /callbacks verb (and a templates
// sub-verb). A verb not in the table, the help it shows included, is for
// staff.
func (b *Bot) mayCommand(a Actor, verb, rest string) error {
	key := "command:" + verb
	if verb == "templates" {
		sub, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if r, ok := rights[key+" "+strings.ToLower(sub)]; ok && r > rights[key] {
			key += " " + strings.ToLower(sub)
		}
	}
	return b.may(a, key, nil)
}
