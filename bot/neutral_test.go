package bot

import (
	"testing"

	"ringback/store"
)

// bot/chat knows no store, so its card spells the case states itself: they
// must stay store's, or a claimed case would show as open.
func TestCardEmojiReadsStoreStates(t *testing.T) {
	for state, want := range map[string]string{store.CaseOpen: "🔴", store.CaseClaimed: "🟡", store.CaseClosed: "✅"} {
		if got := (Card{State: state}).Emoji(); got != want {
			t.Errorf("Card{State: %q}.Emoji() = %q, want %q", state, got, want)
		}
	}
}
