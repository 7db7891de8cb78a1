package slackstandin_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// The manifest lives at the repository root; Slack's schema is a copy of
// slackapi/manifest-schema in testdata/specs, with its licence.
var (
	manifestPath = filepath.Join("..", "..", "..", "app-manifest.yaml")
	schemaDir    = filepath.Join("..", "..", "..", "testdata", "specs", "slack-manifest-schema")
)

// wantBotScopes is every Slack method family Ringback calls, and nothing more.
var wantBotScopes = []string{
	"chat:write",       // chat.postMessage, chat.update, chat.postEphemeral, chat.getPermalink
	"commands",         // /callbacks
	"users:read",       // users.info
	"im:write",         // conversations.open for DMs
	"files:write",      // files.getUploadURLExternal, files.completeUploadExternal
	"channels:read",    // conversations.info and .members, public channels
	"groups:read",      // the same, private channels
	"channels:history", // conversations.history and .replies, public channels
	"groups:history",   // the same, private channels
	"im:history",       // the same, DMs
	"usergroups:read",  // usergroups.users.list
}

func TestManifestMatchesSlackSchema(t *testing.T) {
	doc := loadManifest(t)
	// 2.0.0 is the current schema; 1.0.0 is what older Slack tooling checks.
	for _, name := range []string{"manifest.schema.2.0.0.json", "manifest.schema.1.0.0.json"} {
		t.Run(name, func(t *testing.T) {
			if err := compileSchema(t, name).Validate(doc); err != nil {
				t.Fatalf("app-manifest.yaml does not match Slack's schema:\n%v", err)
			}
		})
	}
}

func TestManifestContents(t *testing.T) {
	raw, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		DisplayInformation struct {
			Name string `yaml:"name"`
		} `yaml:"display_information"`
		Features struct {
			AppHome struct {
				HomeTabEnabled             bool `yaml:"home_tab_enabled"`
				MessagesTabEnabled         bool `yaml:"messages_tab_enabled"`
				MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
			} `yaml:"app_home"`
			BotUser struct {
				DisplayName  string `yaml:"display_name"`
				AlwaysOnline bool   `yaml:"always_online"`
			} `yaml:"bot_user"`
			SlashCommands []struct {
				Command      string `yaml:"command"`
				URL          string `yaml:"url"`
				ShouldEscape bool   `yaml:"should_escape"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuthConfig struct {
			Scopes struct {
				Bot  []string `yaml:"bot"`
				User []string `yaml:"user"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Interactivity struct {
				IsEnabled  bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
			} `yaml:"interactivity"`
			EventSubscriptions struct {
				RequestURL string   `yaml:"request_url"`
				BotEvents  []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			SocketModeEnabled    bool `yaml:"socket_mode_enabled"`
			OrgDeployEnabled     bool `yaml:"org_deploy_enabled"`
			TokenRotationEnabled bool `yaml:"token_rotation_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("parse app-manifest.yaml: %v", err)
	}

	if m.DisplayInformation.Name != "Ringback" || m.Features.BotUser.DisplayName != "ringback" || !m.Features.BotUser.AlwaysOnline {
		t.Errorf("name %q, bot user %+v", m.DisplayInformation.Name, m.Features.BotUser)
	}
	got, want := slices.Sorted(slices.Values(m.OAuthConfig.Scopes.Bot)), slices.Sorted(slices.Values(wantBotScopes))
	if !slices.Equal(got, want) {
		t.Errorf("bot scopes = %v, want exactly %v", got, want)
	}
	if len(m.OAuthConfig.Scopes.User) != 0 {
		t.Errorf("user scopes %v: Ringback acts only as its bot", m.OAuthConfig.Scopes.User)
	}

	i := slices.IndexFunc(m.Features.SlashCommands, func(c struct {
		Command      string `yaml:"command"`
		URL          string `yaml:"url"`
		ShouldEscape bool   `yaml:"should_escape"`
	}) bool {
		return c.Command == "/callbacks"
	})
	if i < 0 {
		t.Errorf("no /callbacks slash command in %+v", m.Features.SlashCommands)
	} else if c := m.Features.SlashCommands[i]; !strings.HasSuffix(c.URL, "/slack/commands") || c.ShouldEscape {
		t.Errorf("/callbacks = %+v", c)
	}

	s := m.Settings
	if !s.Interactivity.IsEnabled || !strings.HasSuffix(s.Interactivity.RequestURL, "/slack/interactions") {
		t.Errorf("interactivity = %+v", s.Interactivity)
	}
	if !s.SocketModeEnabled || s.OrgDeployEnabled || s.TokenRotationEnabled {
		t.Errorf("socket mode %v, org deploy %v, token rotation %v", s.SocketModeEnabled, s.OrgDeployEnabled, s.TokenRotationEnabled)
	}
	if !slices.Contains(s.EventSubscriptions.BotEvents, "app_home_opened") || !strings.HasSuffix(s.EventSubscriptions.RequestURL, "/slack/events") {
		t.Errorf("event subscriptions = %+v", s.EventSubscriptions)
	}
	home := m.Features.AppHome
	if !home.HomeTabEnabled || !home.MessagesTabEnabled || home.MessagesTabReadOnlyEnabled {
		t.Errorf("app home = %+v", home)
	}
}

// TestManifestSchemaBites proves the validator rejects what Slack would: each
// case breaks one rule of the schema in a copy of the real manifest.
func TestManifestSchemaBites(t *testing.T) {
	schema := compileSchema(t, "manifest.schema.2.0.0.json")

	cases := []struct {
		name  string
		edit  func(m map[string]any)
		valid bool
	}{
		{"name over 35 characters", func(m map[string]any) {
			obj(m, "display_information")["name"] = strings.Repeat("R", 36)
		}, false},
		{"slash command without a slash", func(m map[string]any) {
			cmds := obj(m, "features")["slash_commands"].([]any)
			cmds[0].(map[string]any)["command"] = "callbacks"
		}, false},
		{"interactivity without is_enabled", func(m map[string]any) {
			delete(obj(obj(m, "settings"), "interactivity"), "is_enabled")
		}, false},
		{"a key Slack does not know", func(m map[string]any) {
			obj(obj(m, "features"), "bot_user")["avatar"] = "ringback.png"
		}, false},
		{"a scope longer than Slack allows", func(m map[string]any) {
			scopes := obj(obj(m, "oauth_config"), "scopes")
			scopes["bot"] = append(scopes["bot"].([]any), strings.Repeat("x", 51))
		}, false},
		// The unfurl domain pattern is a look-ahead, (?![.-]), that Go's
		// regexp cannot compile: these two show regexp2 really evaluates it.
		{"unfurl domain starting with a dash", func(m map[string]any) {
			obj(m, "features")["unfurl_domains"] = []any{"-ringback.example.com"}
		}, false},
		{"a good unfurl domain", func(m map[string]any) {
			obj(m, "features")["unfurl_domains"] = []any{"ringback.example.com"}
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := loadManifest(t).(map[string]any)
			tc.edit(m)
			err := schema.Validate(m)
			if tc.valid && err != nil {
				t.Errorf("want valid, got %v", err)
			}
			if !tc.valid && err == nil {
				t.Error("the schema accepted a manifest Slack would reject")
			}
		})
	}
}

func obj(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

// loadManifest reads the YAML manifest as the JSON value Slack would see: a
// round trip through encoding/json leaves only map[string]any, []any, string,
// bool and json.Number, the types the validator understands.
func loadManifest(t *testing.T) any {
	t.Helper()
	raw, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse %s: %v", manifestPath, err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("manifest as JSON: %v", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// compileSchema loads one of Slack's schemas. A missing file is a failure, not
// a skip: otherwise the manifest would silently go unchecked.
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(schemaDir, name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("Slack's manifest schema is missing: %v", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(ecmaRegexp)
	if err := c.AddResource(path, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return sch
}

// ecmaRegexp compiles JSON Schema patterns as ECMA-262 regexps, which the
// schema's look-aheads need and Go's RE2-based regexp rejects.
func ecmaRegexp(s string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return (*ecmaRE)(re), nil
}

type ecmaRE regexp2.Regexp

func (re *ecmaRE) MatchString(s string) bool {
	ok, err := (*regexp2.Regexp)(re).MatchString(s)
	return err == nil && ok
}

func (re *ecmaRE) String() string { return (*regexp2.Regexp)(re).String() }
