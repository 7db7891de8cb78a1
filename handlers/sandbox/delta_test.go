package sandbox

import (
	"slices"
	"testing"
)

// A text to one caller sends the page that phone only, with every phone's
// number in order; no change sends none; a new phone arrives with the list.
func TestDeltaSendsOnlyThePhonesThatChanged(t *testing.T) {
	s := &Sandbox{vers: newVersions()}
	phones := []phoneView{
		{Number: "+447700900001", Label: "07700 900001", Messages: []phoneMessage{{SID: "SM1", Body: "Hi"}}},
		{Number: "+447700900002", Label: "07700 900002"},
	}
	first := s.delta(stateView{Phones: slices.Clone(phones)}, 0)
	if len(first.Phones) != 2 || first.PhonesSame || first.PhoneOrder != nil {
		t.Fatalf("the first state: %d phones, same %v, order %v; want the whole list", len(first.Phones), first.PhonesSame, first.PhoneOrder)
	}
	if d := s.delta(stateView{Phones: slices.Clone(phones)}, first.Version); !d.PhonesSame || d.Phones != nil {
		t.Fatalf("nothing changed: same %v, %d phones", d.PhonesSame, len(d.Phones))
	}
	phones[1].Messages = []phoneMessage{{SID: "SM2", Body: "Hi again"}}
	d := s.delta(stateView{Phones: slices.Clone(phones)}, first.Version)
	if d.PhonesSame || len(d.Phones) != 1 || d.Phones[0].Number != "+447700900002" ||
		!slices.Equal(d.PhoneOrder, []string{"+447700900001", "+447700900002"}) {
		t.Fatalf("one phone texted: %+v, order %v; want that phone alone and both numbers", d.Phones, d.PhoneOrder)
	}
	phones = append(phones, phoneView{Number: "+447700900003"})
	d2 := s.delta(stateView{Phones: slices.Clone(phones)}, d.Version)
	if len(d2.Phones) != 1 || d2.Phones[0].Number != "+447700900003" || len(d2.PhoneOrder) != 3 {
		t.Fatalf("a new phone: %+v, order %v", d2.Phones, d2.PhoneOrder)
	}
}
