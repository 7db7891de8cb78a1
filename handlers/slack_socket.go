package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"ringback/store"
)

// maxSocketWork bounds how many Socket Mode requests are handled at once;
// more wait their turn (already acknowledged) instead of piling onto the
// store.
const maxSocketWork = 8

// RunSocketMode serves Slack over Socket Mode (no public URL needed) with the
// same dispatcher as the HTTP endpoints, until ctx ends. As in slack-go's
// examples, a request is acknowledged first and handled after, so a slow
// store never costs Slack's 3 seconds; a slash command's answer then goes
// to its response_url. Only a modal's submission is handled before its
// acknowledgement, which carries the field errors that keep the modal open.
// It returns nil once ctx ends.
func (s *Slack) RunSocketMode(ctx context.Context, api *slack.Client) error {
	client := socketmode.New(api)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt, ok := <-client.Events:
				if !ok {
					return
				}
				s.socketEvent(ctx, client, evt)
			}
		}
	}()
	err := client.RunContext(ctx)
	if ctx.Err() != nil {
		return nil // stopped on purpose
	}
	return fmt.Errorf("handlers: slack socket mode: %w", err)
}

// later handles an acknowledged request with at most maxSocketWork at once.
func (s *Slack) later(f func(ctx context.Context)) {
	s.async(func(ctx context.Context) {
		select {
		case s.work <- struct{}{}:
		case <-ctx.Done():
			s.log.Warn("slack socket mode: request dropped, too busy", "error", ctx.Err())
			return
		}
		defer func() { <-s.work }()
		f(ctx)
	})
}

func (s *Slack) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	// Someone waits on a submission's acknowledgement, as on a webhook's.
	ctx = store.Foreground(ctx)
	switch evt.Type {
	case socketmode.EventTypeConnected:
		s.log.Info("slack socket mode connected")
	case socketmode.EventTypeInvalidAuth:
		s.log.Error("slack socket mode: invalid app token (SLACK_APP_TOKEN)")
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		if cb.Type == slack.InteractionTypeViewSubmission {
			// Refusals must come back in the acknowledgement.
			if resp := s.Interaction(ctx, cb); resp != nil {
				client.Ack(*evt.Request, resp)
			} else {
				client.Ack(*evt.Request)
			}
			return
		}
		client.Ack(*evt.Request)
		s.later(func(ctx context.Context) { s.Interaction(ctx, cb) })
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		client.Ack(*evt.Request)
		s.later(func(ctx context.Context) {
			if err := s.respond(ctx, cmd, s.Command(ctx, cmd)); err != nil {
				s.log.Warn("slack: command answer not delivered", "error", err)
			}
		})
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if evt.Request != nil {
			client.Ack(*evt.Request)
		}
		if ok {
			s.Event(ev)
		}
	}
}

// respond delivers a slash command's answer after its acknowledgement:
// to the command's response_url, or, lacking one, as an ephemeral message.
func (s *Slack) respond(ctx context.Context, cmd slack.SlashCommand, msg *slack.Msg) error {
	if cmd.ResponseURL == "" {
		s.adapter.Ephemeral(ctx, cmd.ChannelID, cmd.UserID, msg.Text)
		return nil
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("handlers: slack response: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cmd.ResponseURL, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("handlers: slack response: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := responseClient.Do(req)
	if err != nil {
		return fmt.Errorf("handlers: slack response: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("handlers: slack response: %s", resp.Status)
	}
	return nil
}

var responseClient = &http.Client{Timeout: 10 * time.Second}
