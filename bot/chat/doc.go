// Package chat holds the neutral words the bot and the chat adapters share:
// the chat port (Chat, MessageRef and its errors), the card, neutral text
// (Text, Span), timeline entries, notices, the queue and digest views with
// their KPIs, and the outbox's RetryAfter and Permanent. It knows no store,
// so bot/slack and bot/discord render and call their API without it; bot
// keeps every name here as an alias.
package chat
