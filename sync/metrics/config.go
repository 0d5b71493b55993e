package metrics

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// Config is the YAML under metrics: in dirbridge's configuration.
type Config struct {
	// Listen is the host:port the HTTP server serves /metrics and /healthz
	// on, such as 127.0.0.1:9466. Default "": no server.
	Listen string `yaml:"listen"`
	// HealthMaxAge is how old the last successful sync may be before
	// /healthz fails; also the grace after start before the first success.
	// Default 2h.
	HealthMaxAge time.Duration `yaml:"health_max_age"`
}

// DefaultConfig returns the configuration the user's YAML is decoded onto.
func DefaultConfig() Config {
	return Config{HealthMaxAge: 2 * time.Hour}
}

// Validate returns every problem with the configuration, each as
// "key: message" with the key relative to the metrics block. It does no I/O.
func (c Config) Validate() []string {
	var errs []string
	if c.Listen != "" {
		if msg := checkListen(c.Listen); msg != "" {
			errs = append(errs, "listen: "+msg)
		}
	}
	if c.HealthMaxAge <= 0 {
		errs = append(errs, fmt.Sprintf("health_max_age: must be positive, such as 2h, got %s", c.HealthMaxAge))
	}
	return errs
}

// checkListen returns why addr is not a usable host:port, or "".
func checkListen(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("must be host:port, such as 127.0.0.1:9466 (or :9466 for every interface), got %q", addr)
	}
	// Port 0 picks a free port, logged at start (for tests and ad-hoc runs).
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("the port must be a number from 0 to 65535, got %q", port)
	}
	return ""
}
