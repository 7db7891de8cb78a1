package bot

import (
	"context"

	"ringback/config"
	"ringback/store"
)

// A known caller's kind (tenant, owner, vendor, prospect…, from `import
// contacts --kind`) may route their case differently on a line
// (contact_kinds): its own text-back, channel and rota.

// kindRoute is the line's route for the case's caller, and whether it has
// one.
func kindRoute(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line) (config.KindRoute, error) {
	kind, err := routedKind(ctx, tx, &c, line)
	if err != nil {
		return config.KindRoute{}, err
	}
	return line.ContactKinds[kind], nil
}

// textBackTemplate is the template key of the case's text-back: the
// caller's kind's when the line gives one for the period, else the line's
// ("" when the period has none).
func textBackTemplate(ctx context.Context, tx *store.Tx, c store.Case, line *config.Line) (string, error) {
	r, err := kindRoute(ctx, tx, c, line)
	if err != nil {
		return "", err
	}
	key, own := line.TextBack.InHours, r.TextBack.InHours
	if c.AfterHours {
		key, own = line.TextBack.AfterHours, r.TextBack.AfterHours
	}
	if own != "" {
		return own, nil
	}
	return key, nil
}

// routeCard sends a known caller's card to their kind's channels when the
// line names them.
func routeCard(k *Card, line *config.Line) {
	r, ok := line.ContactKinds[k.Caller.Kind]
	if !ok || k.Caller.Kind == "" {
		return
	}
	if r.Channel != "" {
		k.Channel = r.Channel
	}
	if r.DiscordChannel != "" {
		k.DiscordChannel = r.DiscordChannel
	}
}
