package templates

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The two templates of DESIGN.md's ringback.yaml example.
const (
	textbackDay  = "Hi, it's {{business}}. Sorry we missed your call. Reply 1 viewings, 2 maintenance, 3 compliance, 9 urgent safety. We'll call you back shortly."
	viewingSlots = "Hi {{caller_name}}, {{agent}} from {{business}} here. Book a viewing at {{booking_link}} or reply with a good time to call."
)

var full = Vars{
	"business":        "Northside Lettings",
	"line":            "Lettings",
	"caller_name":     "Sam",
	"agent":           "Priya",
	"booking_link":    "https://example.com/book",
	"case_number":     "1042",
	"callback_number": "+441632960001",
}

// textCase is a template's text, the variables it is given and what it
// should read.
type textCase struct {
	name string
	text string
	vars Vars
	want string
}

func TestRender(t *testing.T) {
	tests := []textCase{
		{"textback_day", textbackDay, full,
			"Hi, it's Northside Lettings. Sorry we missed your call. Reply 1 viewings, 2 maintenance, 3 compliance, 9 urgent safety. We'll call you back shortly."},
		{"viewing_slots", viewingSlots, full,
			"Hi Sam, Priya from Northside Lettings here. Book a viewing at https://example.com/book or reply with a good time to call."},
		{"every variable", "{{business}}|{{line}}|{{caller_name}}|{{agent}}|{{booking_link}}|{{case_number}}|{{callback_number}}", full,
			"Northside Lettings|Lettings|Sam|Priya|https://example.com/book|1042|+441632960001"},
		{"spaces in braces", "Hi {{ caller_name }}, it's {{agent }} at {{\tbusiness}}.", full,
			"Hi Sam, it's Priya at Northside Lettings."},
		{"newline in braces", "{{\nagent\n}}", full, "Priya"},
		{"repeated variable", "{{agent}} here. Ask for {{ agent }}.", full, "Priya here. Ask for Priya."},
		{"no variables", "Thanks, we got your message.", nil, "Thanks, we got your message."},
		{"empty text", "", nil, ""},
		{"lone open brace kept", "Use code {A1 with {{agent}}", full, "Use code {A1 with Priya"},
		{"lone close braces kept", "Smile }} {{agent}} }", full, "Smile }} Priya }"},
		{"single braces kept", "{agent} {{agent}}", full, "{agent} Priya"},
		{"triple braces keep outer", "{{{agent}}}", full, "{Priya}"},
		{"surrounding whitespace kept exactly", "  \n{{agent}}\t ", full, "  \nPriya\t "},
		{"value not expanded again", "Hi {{line}}", Vars{"line": "{{agent}}", "agent": "Priya"}, "Hi {{agent}}"},
		{"a name is only a name", "Hi {{caller_name}}", Vars{"caller_name": "{{agent}}", "agent": "Priya"}, "Hi agent"},
		{"unicode kept", "Café ☕ {{agent}} 😀", full, "Café ☕ Priya 😀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.text, tt.vars)
			if err != nil {
				t.Fatalf("Render(%q) error: %v", tt.text, err)
			}
			if got != tt.want {
				t.Errorf("Render(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestRenderMissing(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		vars    Vars
		missing []string
		msg     string
	}{
		{"absent", viewingSlots, Vars{"business": "Northside", "booking_link": "x"},
			[]string{"caller_name", "agent"}, "templates: not filled: {{caller_name}}, {{agent}}"},
		{"nil vars", textbackDay, nil,
			[]string{"business"}, "templates: not filled: {{business}}"},
		{"empty value counts as missing", viewingSlots, Vars{"caller_name": "", "agent": "Priya", "business": "N", "booking_link": "x"},
			[]string{"caller_name"}, "templates: not filled: {{caller_name}}"},
		{"blank value counts as missing", "Hi {{caller_name}}", Vars{"caller_name": "  \t"},
			[]string{"caller_name"}, "templates: not filled: {{caller_name}}"},
		{"each once in order of first use", "{{agent}} {{ caller_name }} {{agent}} {{caller_name}} {{line}}", Vars{"line": "L"},
			[]string{"agent", "caller_name"}, "templates: not filled: {{agent}}, {{caller_name}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.text, tt.vars)
			if err == nil {
				t.Fatalf("Render(%q) = %q, want error", tt.text, got)
			}
			if got != "" {
				t.Errorf("Render returned text %q with an error", got)
			}
			var me *MissingError
			if !errors.As(err, &me) {
				t.Fatalf("error %v (%T) is not a *MissingError", err, err)
			}
			if !slices.Equal(me.Missing, tt.missing) {
				t.Errorf("Missing = %q, want %q", me.Missing, tt.missing)
			}
			if err.Error() != tt.msg {
				t.Errorf("error = %q, want %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestRenderInvalidTemplate(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		unknown []string // nil: not an *UnknownError
		msg     string
	}{
		{"unknown variable", "Hi {{first_name}} from {{business}}", []string{"first_name"},
			"templates: unknown variable: {{first_name}}"},
		{"case matters", "{{Business}}", []string{"Business"}, "templates: unknown variable: {{Business}}"},
		{"several unknown once each", "{{x}} {{ y }} {{x}}", []string{"x", "y"}, "templates: unknown variable: {{x}}, {{y}}"},
		{"space inside name", "Hi {{caller name}}", []string{"caller name"}, "templates: unknown variable: {{caller name}}"},
		{"empty braces", "Hi {{ }}", []string{""}, "templates: unknown variable: {{}}"},
		{"unclosed", "Hi {{caller_name, call us", nil, `templates: unclosed "{{" at byte 3`},
		{"unclosed after a variable", "{{agent}} then {{", nil, `templates: unclosed "{{" at byte 15`},
		{"unclosed before a variable", "{{ {{agent}}", nil, `templates: unclosed "{{" at byte 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.text, full)
			if err == nil {
				t.Fatalf("Render(%q) = %q, want error", tt.text, got)
			}
			if err.Error() != tt.msg {
				t.Errorf("error = %q, want %q", err.Error(), tt.msg)
			}
			var ue *UnknownError
			if isUnknown := errors.As(err, &ue); isUnknown != (tt.unknown != nil) {
				t.Fatalf("errors.As(*UnknownError) = %v for %v", isUnknown, err)
			} else if isUnknown && !slices.Equal(ue.Unknown, tt.unknown) {
				t.Errorf("Unknown = %q, want %q", ue.Unknown, tt.unknown)
			}
			var me *MissingError
			if errors.As(err, &me) {
				t.Errorf("template error %v is also a *MissingError", err)
			}
			if !strings.HasPrefix(err.Error(), "templates: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if err2 := Check(tt.text); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Check(%q) = %v, want %v", tt.text, err2, err)
			}
		})
	}
}

func TestCheckValid(t *testing.T) {
	for _, text := range []string{"", textbackDay, viewingSlots, "{ }} {a} {{{agent}}}", "{{ callback_number }}"} {
		if err := Check(text); err != nil {
			t.Errorf("Check(%q) = %v, want nil", text, err)
		}
	}
}

func TestPreview(t *testing.T) {
	tests := []textCase{
		{"all filled", viewingSlots, full,
			"Hi Sam, Priya from Northside Lettings here. Book a viewing at https://example.com/book or reply with a good time to call."},
		{"unfilled marked", viewingSlots, Vars{"business": "Northside", "caller_name": " "},
			"Hi [caller name], [agent] from Northside here. Book a viewing at [booking link] or reply with a good time to call."},
		{"spaces and repeats", "{{ agent }}/{{agent}}", nil, "[agent]/[agent]"},
		{"unknown marked even if given", "{{first_name}}", Vars{"first_name": "Sam"}, "[first name]"},
		{"unclosed kept", "Hi {{caller_name", full, "Hi {{caller_name"},
		{"lone braces kept", "{ }} {{line}}", full, "{ }} Lettings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Preview(tt.text, tt.vars); got != tt.want {
				t.Errorf("Preview(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestUsedUnknown(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		used    []string
		unknown []string
	}{
		{"none", "Thanks!", nil, nil},
		{"textback_day", textbackDay, []string{"business"}, nil},
		{"viewing_slots", viewingSlots, []string{"caller_name", "agent", "business", "booking_link"}, nil},
		{"order of first use, no duplicates", "{{agent}} {{ business }} {{agent}} {{line}} {{business}}",
			[]string{"agent", "business", "line"}, nil},
		{"unknown in order", "{{foo}} {{agent}} {{bar}} {{foo}}", []string{"foo", "agent", "bar"}, []string{"foo", "bar"}},
		{"lone braces ignored", "{agent} }} {{ {", nil, nil},
		{"triple braces", "{{{case_number}}}", []string{"case_number"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Used(tt.text); !slices.Equal(got, tt.used) {
				t.Errorf("Used(%q) = %q, want %q", tt.text, got, tt.used)
			}
			if got := Unknown(tt.text); !slices.Equal(got, tt.unknown) {
				t.Errorf("Unknown(%q) = %q, want %q", tt.text, got, tt.unknown)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	if got := Label("callback_number"); got != "callback number" {
		t.Errorf("Label = %q", got)
	}
}

func TestUnbalanced(t *testing.T) {
	for text, want := range map[string]bool{
		"Hi {{caller_name}}, it's {{ business }}.": false,
		"{{{business}}}":                  false, // single braces around a variable are text
		"no variables at all":             false,
		"hi {{agent}":                     true,
		"hi {{agent}} }}":                 true,
		"{{ {{agent}}":                    true,
		"closing first }} then {{agent}}": true,
	} {
		if got := Unbalanced(text); got != want {
			t.Errorf("Unbalanced(%q) = %v, want %v", text, got, want)
		}
	}
}

// A name anyone can set reaches an approved text only as a plain name: a
// display name of no-break spaces cannot smuggle a message in.
func TestNamesArePlain(t *testing.T) {
	nb := "\u00a0"
	// name → its first name and its plain name
	for name, want := range map[string][2]string{
		"Alice" + nb + "Jones": {"Alice", "Alice Jones"},
		"Alice" + nb + "here." + nb + "Your" + nb + "deposit" + nb + "is" + nb + "lost," + nb + "call" + nb + "+1" + nb + "900" + nb + "555" + nb + "0100": {"Alice", "Alice here Your deposit is lost call"},
		"Ｍａｒｙ\u2003O'Brien":        {"Mary", "Mary O'Brien"},
		"Jean-Luc\u200bPicard":     {"Jean-Luc", "Jean-Luc Picard"},
		"https://evil.example/pay": {"https", "https evil example pay"},
		"José 🌸":                   {"José", "José"},
		"\u202eevilname":           {"evilname", "evilname"},
		"007":                      {"", ""},
	} {
		if first, plain := FirstName(name), PlainName(name); first != want[0] || plain != want[1] {
			t.Errorf("%q: first name %q, plain name %q; want %q", name, first, plain, want)
		}
	}
	got, err := Render("Hi, {{agent}} from {{business}} here.", Vars{"agent": "Alice" + nb + "—" + nb + "send" + nb + "£500", "business": "Northside"})
	if err != nil || got != "Hi, Alice send from Northside here." {
		t.Errorf("Render = %q, %v", got, err)
	}
}

// A fallback after a bar is what an unknown caller gets, so a reply to
// someone Ringback cannot name still goes.
func TestRenderFallback(t *testing.T) {
	text := "Hi {{caller_name|there}}, it's {{ agent | the team }} at {{business}}."
	got, err := Render(text, Vars{"business": "Northside", "agent": "Priya"})
	if err != nil {
		t.Fatalf("Render with fallbacks: %v", err)
	}
	if want := "Hi there, it's Priya at Northside."; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
	got, err = Render(text, Vars{"business": "Northside", "agent": "Priya", "caller_name": "Sam Jones"})
	if err != nil || got != "Hi Sam Jones, it's Priya at Northside." {
		t.Errorf("Render with a name = %q, %v", got, err)
	}
	// A name of no letters is no name: the fallback goes.
	if got, _ := Render(text, Vars{"business": "N", "agent": "P", "caller_name": "@@@"}); got != "Hi there, it's P at N." {
		t.Errorf("Render with a name of no letters = %q", got)
	}
	if got := Preview(text, Vars{"business": "Northside"}); got != "Hi there, it's the team at Northside." {
		t.Errorf("Preview = %q", got)
	}
	if got := Preview("{{nope|x}} {{line}}", nil); got != "[nope] [line]" {
		t.Errorf("Preview of unknown and unfilled = %q", got)
	}
	if got := Used(text); !slices.Equal(got, []string{"caller_name", "agent", "business"}) {
		t.Errorf("Used = %q", got)
	}
	if err := Check("Hi {{caller_name|}}"); err == nil || !strings.Contains(err.Error(), "empty fallback") {
		t.Errorf("Check of an empty fallback = %v", err)
	}
	var ue *UnknownError
	if err := Check("Hi {{nmae|there}}"); !errors.As(err, &ue) || ue.Unknown[0] != "nmae" {
		t.Errorf("Check of an unknown variable with a fallback = %v", err)
	}
	// The bar outside braces is text.
	if got, _ := Render("a|b {{agent|x}}", Vars{"agent": "Priya"}); got != "a|b Priya" {
		t.Errorf("Render = %q", got)
	}
}

// Without a value for a variable, the sentences that carry it go and the
// rest of the text stays as written.
func TestWithoutSentences(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"last sentence", textbackDay + " Or pick a time for our call: {{callback_link}}", textbackDay},
		{"middle sentence", "Hi. Pick a time: {{callback_link}}! Thanks.", "Hi. Thanks."},
		{"first sentence", "Pick a time: {{callback_link}}. Or reply with a good time.", "Or reply with a good time."},
		{"a question mark ends a sentence", "Want a time? {{callback_link}} then. Bye.", "Want a time? Bye."},
		{"link mid-sentence, full stops inside braces", "Hi {{business}}. See {{callback_link}} or reply. Bye.", "Hi {{business}}. Bye."},
		{"a fallback keeps its sentence", "Hi. Pick at {{callback_link|our website}}.", "Hi. Pick at {{callback_link|our website}}."},
		{"not used", "Hi. We'll call you.", "Hi. We'll call you."},
		{"nothing else left: unchanged", "{{callback_link}}", "{{callback_link}}"},
		{"newline ends a sentence too", "Hi.\nPick: {{callback_link}}", "Hi."},
		{"abbreviation-like dots stay", "Call 9.30am. {{callback_link}}", "Call 9.30am."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WithoutSentences(tt.text, "callback_link"); got != tt.want {
				t.Errorf("WithoutSentences(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
		})
	}
}
