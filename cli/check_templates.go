package cli

import (
	"context"
	"fmt"

	"ringback/config"
	"ringback/store"
)

// templateDrift lists the templates of the file that managers have since
// edited in chat, where the file's text differs from the one in use: the
// store is their source, so the file's text is not applied (see
// bot.SyncTemplates), and the operator should know.
func templateDrift(ctx context.Context, s *store.Store, cfg *config.Config) ([]config.Problem, error) {
	var out []config.Problem
	for i, t := range cfg.Templates {
		used, differs, err := s.TemplateDrift(ctx, t.Key, t.Text, t.Categories)
		if err != nil {
			return nil, err
		}
		if !differs {
			continue
		}
		state := "approved"
		if !used.Approved() {
			state = "proposed, not yet approved,"
		}
		out = append(out, config.Problem{Key: fmt.Sprintf("templates[%d].text", i), Message: fmt.Sprintf(
			"%q differs from version %d %s in chat by %s, which stays in use; copy that text here, or edit it again with /callbacks templates add %s",
			t.Key, used.Version, state, used.CreatedBy, t.Key)})
	}
	return out, nil
}
