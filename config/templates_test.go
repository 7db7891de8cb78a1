package config

import (
	"strconv"
	"strings"
	"testing"

	"ringback/templates"
)

// The file accepts a text exactly when package templates, which renders
// it, does: the grammar and the variable names are templates'.
func TestTemplateTextByTemplatesGrammar(t *testing.T) {
	all := "{{" + strings.Join(templates.Variables, "}} {{ ") + "}}"
	for _, text := range []string{all, "Hi {{ caller_name }}", "{{agent}} {{agent}}", "{{{business}}}", "hi {{agent}", "{{nope}} {{nope}}", "}} {{business}}",
		"Hi {{caller_name|there}}", "Hi {{caller_name|}}", "{{ agent | the team }}"} {
		_, err := Parse([]byte("business: {name: B, region: GB, booking_link: \"https://example.com\"}\n" +
			"lines: [{number: \"+441632960001\", name: L, channel: C1}]\n" +
			"templates: [{key: a, text: " + strconv.Quote(text) + "}]\n"))
		ok := templates.Check(text) == nil && !templates.Unbalanced(text)
		if (err == nil) != ok {
			t.Errorf("%q: config says %v; templates says fit %v", text, err, ok)
		}
		if u := templates.Unknown(text); len(u) > 0 && strings.Count(err.Error(), "unknown variable") != len(u) {
			t.Errorf("%q: %v: want one problem per unknown variable %v", text, err, u)
		}
	}
}

// A template may have a label, which staff see instead of its key.
func TestTemplateLabel(t *testing.T) {
	cfg, err := Parse([]byte("business: {name: B, region: GB}\n" +
		"lines: [{number: \"+441632960001\", name: L, channel: C1}]\n" +
		"templates: [{key: a_b, label: Running late, text: \"Hi {{caller_name|there}}\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tp, _ := cfg.Template("a_b"); tp.Label != "Running late" {
		t.Errorf("label = %q", tp.Label)
	}
}
