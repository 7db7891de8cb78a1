package handlers_test

import (
	"encoding/xml"
	"net/url"
	"testing"

	"ringback/bot"
	"ringback/sms"
)

func signFor(fullURL string, form url.Values) string { return sms.Sign(authToken, fullURL, form) }

func reconcileLister(h *harness) bot.CallLister {
	return sms.NewTexter(sms.New(accountSID, authToken, h.twilio.URL))
}

// node is a parsed TwiML element: attribute order in TwiML is not fixed.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []node     `xml:",any"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// find returns the first element called name, depth first.
func (n node) find(name string) (node, bool) {
	if n.XMLName.Local == name {
		return n, true
	}
	for _, c := range n.Children {
		if f, ok := c.find(name); ok {
			return f, true
		}
	}
	return node{}, false
}

func (n node) all(name string) []node {
	var out []node
	if n.XMLName.Local == name {
		out = append(out, n)
	}
	for _, c := range n.Children {
		out = append(out, c.all(name)...)
	}
	return out
}

func parseTwiML(t *testing.T, doc string) node {
	t.Helper()
	var n node
	if err := xml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatalf("TwiML does not parse: %v\n%s", err, doc)
	}
	if n.XMLName.Local != "Response" {
		t.Fatalf("TwiML root is %s", n.XMLName.Local)
	}
	return n
}

func aliceActor() bot.Actor { return bot.Actor{ID: "U0ALICE", Name: "Alice Jones", Staff: true} }
