package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// Identity is who the bot token is (auth.test).
type Identity struct {
	Team, User, UserID string
}

// ChannelState is what Slack says of a channel to the bot.
type ChannelState struct {
	ID       string
	Name     string
	Found    bool // false: channel_not_found (wrong ID, or private and the bot not in it)
	Member   bool
	Archived bool
}

// Inspect asks Slack who token is and, for each channel, whether the bot
// can post there: the online half of `ringback check`. apiURL overrides
// Slack's Web API base URL ("" for the real one). When auth.test fails the
// Identity is zero and no channel is asked about.
func Inspect(ctx context.Context, token, apiURL string, channels []string) (Identity, []ChannelState, error) {
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 20 * time.Second})}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	api := slack.New(token, opts...)
	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		return Identity{}, nil, fmt.Errorf("slack: auth.test: %w", err)
	}
	id := Identity{Team: auth.Team, User: auth.User, UserID: auth.UserID}
	var states []ChannelState
	for _, ch := range channels {
		info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: ch})
		var se slack.SlackErrorResponse
		switch {
		case errors.As(err, &se) && se.Err == "channel_not_found":
			states = append(states, ChannelState{ID: ch})
		case err != nil:
			return id, states, fmt.Errorf("slack: conversations.info %s: %w", ch, err)
		default:
			states = append(states, ChannelState{ID: ch, Name: info.Name, Found: true, Member: info.IsMember, Archived: info.IsArchived})
		}
	}
	return id, states, nil
}
