package alert

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Config is the YAML under alerts: in dirbridge's configuration. Each
// channel is off while its key is empty; both may be on.
type Config struct {
	// Command is run with /bin/sh -c, the alert JSON on its stdin. Default
	// "" (off).
	Command string `yaml:"command"`
	// Webhook is the URL the alert JSON is POSTed to: https, or http on a
	// loopback host only. Default "" (off).
	Webhook string `yaml:"webhook"`
	// WebhookHeaders are extra request headers, such as Authorization:
	// Bearer ${ALERT_TOKEN}. Default none.
	WebhookHeaders map[string]string `yaml:"webhook_headers"`
	// Timeout bounds the command, and each attempt of the webhook. Default
	// 30s.
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultConfig returns the defaults the user's YAML is decoded on top of:
// both channels off.
func DefaultConfig() Config {
	return Config{Timeout: 30 * time.Second}
}

// Enabled reports whether at least one channel is on.
func (c Config) Enabled() bool {
	return strings.TrimSpace(c.Command) != "" || strings.TrimSpace(c.Webhook) != ""
}

// reservedHeaders are set by the HTTP client and may not be configured.
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
}

// Validate returns every problem of the configuration, each as
// "key: message" relative to the alerts block. It does no I/O.
func (c Config) Validate() []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if c.Command != "" && strings.TrimSpace(c.Command) == "" {
		add("command: is blank; leave it empty to turn the command off")
	}
	if c.Webhook != "" {
		if msg := checkWebhook(c.Webhook); msg != "" {
			add("webhook: %s", msg)
		}
	}
	if len(c.WebhookHeaders) > 0 && c.Webhook == "" {
		add("webhook_headers: set, but webhook is empty")
	}
	names := make([]string, 0, len(c.WebhookHeaders))
	for name := range c.WebhookHeaders {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case !isToken(name):
			add("webhook_headers: %q is not a valid header name", name)
		case reservedHeaders[http.CanonicalHeaderKey(name)]:
			add("webhook_headers.%s: is set by dirbridge and cannot be configured", name)
		case strings.ContainsAny(c.WebhookHeaders[name], "\r\n\x00"):
			add("webhook_headers.%s: must be one line", name)
		}
	}
	if c.Timeout <= 0 {
		add("timeout: must be positive, got %s", c.Timeout)
	}
	return problems
}

// checkWebhook returns what is wrong with a webhook URL, or "".
func checkWebhook(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "cannot parse the URL" // the parse error would echo the URL, which may hold a token
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Sprintf("must start with https://, got scheme %q", u.Scheme)
	case u.Host == "":
		return "has no host"
	case u.User != nil:
		return "must not hold credentials; use webhook_headers"
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Sprintf("must use https:// (http:// is allowed only on a loopback host, not %q)", u.Hostname())
	}
	return ""
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2), as a header
// name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}

// redactURL returns the scheme and host of a webhook URL, for messages: the
// path and query of a chat webhook often are its secret.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(webhook)"
	}
	return u.Scheme + "://" + u.Host
}
