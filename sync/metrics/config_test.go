package metrics

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"Defaults", func(*Config) {}, nil},
		{"Loopback", func(c *Config) { c.Listen = "127.0.0.1:9466" }, nil},
		{"EveryInterface", func(c *Config) { c.Listen = ":9466" }, nil},
		{"IPv6", func(c *Config) { c.Listen = "[::1]:9466" }, nil},
		{"HostName", func(c *Config) { c.Listen = "localhost:9466" }, nil},
		{"NoPort", func(c *Config) { c.Listen = "127.0.0.1" },
			[]string{`listen: must be host:port, such as 127.0.0.1:9466 (or :9466 for every interface), got "127.0.0.1"`}},
		{"PortZero", func(c *Config) { c.Listen = "127.0.0.1:0" }, nil},
		{"ServiceName", func(c *Config) { c.Listen = "127.0.0.1:http" },
			[]string{`listen: the port must be a number from 0 to 65535, got "http"`}},
		{"EverythingWrong", func(c *Config) { c.Listen, c.HealthMaxAge = "127.0.0.1:70000", -time.Minute }, []string{
			`listen: the port must be a number from 0 to 65535, got "70000"`,
			"health_max_age: must be positive, such as 2h, got -1m0s",
		}},
		{"ZeroMaxAge", func(c *Config) { c.HealthMaxAge = 0 }, []string{"health_max_age: must be positive, such as 2h, got 0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			if d := cmp.Diff(tt.want, c.Validate()); d != "" {
				t.Errorf("Validate (-want +got):\n%s", d)
			}
		})
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
	want.Listen = "127.0.0.1:9466"
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("example (-defaults +decoded):\n%s", d)
	}
}

func TestDefaultConfig(t *testing.T) {
	if got, want := DefaultConfig(), (Config{HealthMaxAge: 2 * time.Hour}); got != want {
		t.Errorf("DefaultConfig() = %+v, want %+v", got, want)
	}
}
