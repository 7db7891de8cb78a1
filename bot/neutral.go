package bot

import (
	"time"

	"ringback/bot/chat"
)

// The neutral words of chat (the chat port, cards, texts, the digest's
// view) live in bot/chat, which knows no store, so that the chat adapters
// need not import it. bot keeps their names for the rest of the code base.

type (
	Actor            = chat.Actor
	Refusal          = chat.Refusal
	TemplateChoice   = chat.TemplateChoice
	Card             = chat.Card
	Caller           = chat.Caller
	Fact             = chat.Fact
	KPI              = chat.KPI
	KPIKind          = chat.KPIKind
	MessageRef       = chat.MessageRef
	Chat             = chat.Chat
	IdempotentPoster = chat.IdempotentPoster
	ChannelError     = chat.ChannelError
	Digest           = chat.Digest
	StaffRow         = chat.StaffRow
	DayCount         = chat.DayCount
	DigestRow        = chat.DigestRow
	Headline         = chat.Headline
	Targets          = chat.Targets
	Period           = chat.Period
	Ratio            = chat.Ratio
	Spread           = chat.Spread
	CategorySpread   = chat.CategorySpread
	Figures          = chat.Figures
	LineKPIs         = chat.LineKPIs
	KPIs             = chat.KPIs
	Notice           = chat.Notice
	Post             = chat.Post
	Handover         = chat.Handover
	HandoverItem     = chat.HandoverItem
	RetryAfterError  = chat.RetryAfterError
	QueueItem        = chat.QueueItem
	QueueView        = chat.QueueView
	QueueRequest     = chat.QueueRequest
	DigestJob        = chat.DigestJob
	Text             = chat.Text
	Span             = chat.Span
	SpanKind         = chat.SpanKind
	TimeUse          = chat.TimeUse
	Entry            = chat.Entry
	CategoryOption   = chat.CategoryOption
	CallbackRequest  = chat.CallbackRequest
)

const (
	ActionClaim    = chat.ActionClaim
	ActionRelease  = chat.ActionRelease
	ActionReply    = chat.ActionReply
	ActionLog      = chat.ActionLog
	ActionClose    = chat.ActionClose
	ActionReopen   = chat.ActionReopen
	ActionSpam     = chat.ActionSpam
	ActionReassign = chat.ActionReassign
	ActionCategory = chat.ActionCategory
	// ActionOptOut and ActionNotOptOut decide a possible opt-out.
	ActionOptOut    = chat.ActionOptOut
	ActionNotOptOut = chat.ActionNotOptOut
	KPICount        = chat.KPICount
	KPIRatio        = chat.KPIRatio
	KPISpread       = chat.KPISpread
	KPIAge          = chat.KPIAge
	KPIPeak         = chat.KPIPeak
	ScopeTotal      = chat.ScopeTotal
	AnyCategory     = chat.AnyCategory
	UnitCount       = chat.UnitCount
	UnitPercent     = chat.UnitPercent
	UnitSeconds     = chat.UnitSeconds
	SpanWords       = chat.SpanWords
	SpanStrong      = chat.SpanStrong
	SpanEmphasis    = chat.SpanEmphasis
	SpanCode        = chat.SpanCode
	SpanQuote       = chat.SpanQuote
	SpanLink        = chat.SpanLink
	SpanUser        = chat.SpanUser
	SpanBroadcast   = chat.SpanBroadcast
	SpanCommand     = chat.SpanCommand
	SpanTime        = chat.SpanTime
	TimeWhen        = chat.TimeWhen
	TimeDue         = chat.TimeDue
	TimeLast        = chat.TimeLast
)

var (
	Outcomes              = chat.Outcomes
	CallbackResults       = chat.CallbackResults
	KPIInboundCalls       = chat.KPIInboundCalls
	KPIMissedCalls        = chat.KPIMissedCalls
	KPIMissRate           = chat.KPIMissRate
	KPIAfterHours         = chat.KPIAfterHours
	KPICases              = chat.KPICases
	KPITextBack90s        = chat.KPITextBack90s
	KPICallerReplies      = chat.KPICallerReplies
	KPITimeToClaim        = chat.KPITimeToClaim
	KPITimeToContact      = chat.KPITimeToContact
	KPISLAMet             = chat.KPISLAMet
	KPIPickerUsed         = chat.KPIPickerUsed
	KPICallbacksKept      = chat.KPICallbacksKept
	KPITriaged5m          = chat.KPITriaged5m
	KPIContactRate        = chat.KPIContactRate
	KPIFirstCycle         = chat.KPIFirstCycle
	KPIRepeat24h          = chat.KPIRepeat24h
	KPIEscalated          = chat.KPIEscalated
	KPIBacklog            = chat.KPIBacklog
	KPIOldestOpen         = chat.KPIOldestOpen
	KPIPeakHours          = chat.KPIPeakHours
	Catalogue             = chat.Catalogue
	ErrChannelUnavailable = chat.ErrChannelUnavailable
	ErrMessageGone        = chat.ErrMessageGone
	ChannelUnavailable    = chat.ChannelUnavailable
	HumanDuration         = chat.HumanDuration
	RetryAfter            = chat.RetryAfter
	Permanent             = chat.Permanent
	IsPermanent           = chat.IsPermanent
	ShortDuration         = chat.ShortDuration
	Words                 = chat.Words
	Wordsf                = chat.Wordsf
	Strong                = chat.Strong
	Emphasis              = chat.Emphasis
	Code                  = chat.Code
	Command               = chat.Command
	Quote                 = chat.Quote
	Link                  = chat.Link
	User                  = chat.User
	Broadcast             = chat.Broadcast
	At                    = chat.At
	Outside               = chat.Outside
	Said                  = chat.Said
	Plain                 = chat.Plain
	Plainf                = chat.Plainf
	Join                  = chat.Join
)

// statsDuration and statsPeakHours are chat's HumanDuration and BusiestHours
// under the names /callbacks stats knows them by.
func statsDuration(d time.Duration) string { return chat.HumanDuration(d) }

func statsPeakHours(h [7][24]int, n int) []string { return chat.BusiestHours(h, n) }
