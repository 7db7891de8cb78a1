package bot

import (
	"context"
	"time"

	"ringback/config"
	"ringback/store"
)

// assignByRota pre-assigns a new case to the line's owner of the day.
func (b *Bot) assignByRota(ctx context.Context, tx *store.Tx, c *store.Case, line *config.Line, now time.Time) error {
	if line.Rota.Empty() || c.Spam {
		return nil
	}
	owner := line.Rota.ByDay[c.CreatedAt.In(line.Timezone).Weekday()]
	if len(line.Rota.RoundRobin) > 0 {
		n, err := tx.CountRotaAssigned(ctx, line.Number)
		if err != nil {
			return err
		}
		owner = line.Rota.RoundRobin[n%len(line.Rota.RoundRobin)]
	}
	if owner == "" {
		return nil
	}
	c.State, c.Owner, c.AssignedBy, c.ClaimedAt = store.CaseClaimed, owner, "rota", &now
	return nil
}
