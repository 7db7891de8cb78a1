package handlers

import (
	"context"
	"encoding/json"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode serves Slack over Socket Mode (no public URL needed) with the
// same dispatcher as the HTTP endpoints, until ctx ends. Every request is
// acknowledged with the dispatcher's answer, within Slack's 3 seconds.
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
	return client.RunContext(ctx)
}

func (s *Slack) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
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
		resp := s.Interaction(ctx, cb)
		if resp == nil {
			client.Ack(*evt.Request)
		} else {
			client.Ack(*evt.Request, resp)
		}
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		msg := s.Command(ctx, cmd)
		raw, _ := json.Marshal(msg)
		var payload map[string]any
		json.Unmarshal(raw, &payload)
		client.Ack(*evt.Request, payload)
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
