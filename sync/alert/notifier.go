package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	stdsync "sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// The channels an alert goes through, as errors and log lines name them.
const (
	ChannelCommand = "command"
	ChannelWebhook = "webhook"
)

// ChannelError is the failure of one channel. Send joins one per failed
// channel; errors.As finds them.
type ChannelError struct {
	// Channel is ChannelCommand or ChannelWebhook.
	Channel string
	Err     error
}

// Error names the channel and says what went wrong.
func (e *ChannelError) Error() string { return "alert " + e.Channel + ": " + e.Err.Error() }

func (e *ChannelError) Unwrap() error { return e.Err }

// Notifier sends alerts through the configured channels. It is safe for
// concurrent use.
type Notifier struct {
	cfg     Config
	log     *slog.Logger
	webhook *retryablehttp.Client // nil when the webhook is off
	target  string                // the webhook's scheme and host, for messages
}

// New returns a Notifier for cfg. It checks cfg and builds the webhook's
// client, and does no I/O. A Notifier with both channels off sends nothing.
func New(cfg Config, logger *slog.Logger) (*Notifier, error) {
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, fmt.Errorf("alert: invalid configuration: %s", strings.Join(problems, "; "))
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{cfg: cfg, log: logger.With("component", "alert")}
	if cfg.Webhook != "" {
		n.target = redactURL(cfg.Webhook)
		n.webhook = newWebhookClient(cfg.Timeout, n.log, n.target)
	}
	return n, nil
}

// Send sends a through every configured channel at once and returns when
// each has succeeded or failed. The error joins a *ChannelError per failed
// channel. Send logs each delivery at Info and each webhook retry at Warn;
// a final failure is returned, not logged.
func (n *Notifier) Send(ctx context.Context, a Alert) error {
	if !n.cfg.Enabled() {
		return nil
	}
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("alert: encode: %w", err)
	}
	var (
		wg         stdsync.WaitGroup
		cmdErr     error
		webhookErr error
	)
	if strings.TrimSpace(n.cfg.Command) != "" {
		wg.Go(func() { cmdErr = n.deliver(ctx, a, ChannelCommand, func() error { return n.runCommand(ctx, a, body) }) })
	}
	if n.webhook != nil {
		wg.Go(func() { webhookErr = n.deliver(ctx, a, ChannelWebhook, func() error { return n.post(ctx, body) }) })
	}
	wg.Wait()
	return errors.Join(cmdErr, webhookErr)
}

// deliver runs one channel's send, logs its success and names the channel
// in its failure.
func (n *Notifier) deliver(ctx context.Context, a Alert, channel string, send func() error) error {
	start := time.Now()
	if err := send(); err != nil {
		return &ChannelError{Channel: channel, Err: err}
	}
	n.log.InfoContext(ctx, "alert sent", "channel", channel, "kind", a.Kind, "run_id", a.RunID,
		"guards", strings.Join(a.Guards(), ","), "affected", len(a.Affected),
		"duration", time.Since(start).Round(time.Millisecond).String())
	return nil
}
