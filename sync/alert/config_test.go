package alert

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"Defaults", func(*Config) {}, nil},
		{"Command", func(c *Config) { c.Command = "/usr/local/bin/page-oncall --urgent" }, nil},
		{"HTTPSWebhookWithHeaders", func(c *Config) {
			c.Webhook = "https://hooks.example.com/T0/B0/secret?x=1"
			c.WebhookHeaders = map[string]string{"Authorization": "Bearer abc", "X-Team": "it"}
		}, nil},
		{"HTTPOnLoopback", func(c *Config) { c.Webhook = "http://127.0.0.1:9093/hook" }, nil},
		{"HTTPOnLocalhost", func(c *Config) { c.Webhook = "http://localhost/hook" }, nil},
		{"HTTPOnIPv6Loopback", func(c *Config) { c.Webhook = "http://[::1]:8080/hook" }, nil},
		{"BlankCommand", func(c *Config) { c.Command = "  \n" },
			[]string{"command: is blank; leave it empty to turn the command off"}},
		{"HTTPElsewhere", func(c *Config) { c.Webhook = "http://alerts.example.com/hook" },
			[]string{`webhook: must use https:// (http:// is allowed only on a loopback host, not "alerts.example.com")`}},
		{"OtherScheme", func(c *Config) { c.Webhook = "ftp://alerts.example.com/" },
			[]string{`webhook: must start with https://, got scheme "ftp"`}},
		{"NoHost", func(c *Config) { c.Webhook = "https:///hook" }, []string{"webhook: has no host"}},
		{"NotAURL", func(c *Config) { c.Webhook = "https://exa mple.com/%zz" }, []string{"webhook: cannot parse the URL"}},
		{"Credentials", func(c *Config) { c.Webhook = "https://user:pw@alerts.example.com/" },
			[]string{"webhook: must not hold credentials; use webhook_headers"}},
		{"HeadersWithoutWebhook", func(c *Config) { c.WebhookHeaders = map[string]string{"X-A": "1"} },
			[]string{"webhook_headers: set, but webhook is empty"}},
		{"BadHeaders", func(c *Config) {
			c.Webhook = "https://alerts.example.com/"
			c.WebhookHeaders = map[string]string{"Bad Name": "1", "content-length": "3", "X-Split": "a\r\nb: c"}
		}, []string{
			`webhook_headers: "Bad Name" is not a valid header name`,
			"webhook_headers.X-Split: must be one line",
			"webhook_headers.content-length: is set by dirbridge and cannot be configured",
		}},
		{"Timeout", func(c *Config) { c.Timeout = 0 }, []string{"timeout: must be positive, got 0s"}},
		{"Everything", func(c *Config) {
			c.Command, c.Webhook, c.Timeout = " ", "http://example.com", -time.Second
		}, []string{
			"command: is blank; leave it empty to turn the command off",
			`webhook: must use https:// (http:// is allowed only on a loopback host, not "example.com")`,
			"timeout: must be positive, got -1s",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			if d := cmp.Diff(tc.want, c.Validate()); d != "" {
				t.Errorf("Validate (-want +got):\n%s", d)
			}
		})
	}
}

func TestConfig_Enabled(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want bool
	}{
		{DefaultConfig(), false},
		{Config{Command: "  "}, false},
		{Config{Command: "true"}, true},
		{Config{Webhook: "https://example.com/"}, true},
	} {
		if got := tc.cfg.Enabled(); got != tc.want {
			t.Errorf("%+v.Enabled() = %v, want %v", tc.cfg, got, tc.want)
		}
	}
}

// TestConfig_ExampleDecodesStrictly decodes testdata/example.yaml (the block
// for config.example.yaml) the way dirbridge's loader does: onto
// DefaultConfig, rejecting unknown keys.
func TestConfig_ExampleDecodesStrictly(t *testing.T) {
	b, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if problems := c.Validate(); len(problems) > 0 {
		t.Errorf("Validate: %q", problems)
	}
	want := DefaultConfig()
	want.WebhookHeaders = map[string]string{}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("example (-defaults +decoded):\n%s", d)
	}
}

func TestNew_RejectsInvalidConfig(t *testing.T) {
	_, err := New(Config{Webhook: "http://example.com/hook"}, nil)
	if err == nil {
		t.Fatal("New accepted an invalid configuration")
	}
	want := `alert: invalid configuration: webhook: must use https:// (http:// is allowed only on a loopback host, not "example.com"); timeout: must be positive, got 0s`
	if got := err.Error(); got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
}
