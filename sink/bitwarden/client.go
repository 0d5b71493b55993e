package bitwarden

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hashicorp/go-retryablehttp"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// do sends one API request: in (if not nil) as JSON, the answer decoded into
// out (if not nil). It paces the request, logs in when the token is missing
// or about to expire, and after a 401 logs in again and retries once. Error
// answers become *APIError.
func (s *Sink) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("bitwarden: %s %s: encode request: %w", method, path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bitwarden: %s %s: %w", method, path, err)
		}
		tok, err := s.accessToken(ctx)
		if err != nil {
			return err
		}
		answered, err := s.pacer.wait(ctx, method, path)
		if err != nil {
			return fmt.Errorf("bitwarden: %s %s: %w", method, path, err)
		}
		resp, err := s.send(ctx, method, s.apiURL+path, "Bearer "+tok, body)
		answered()
		if err != nil {
			return fmt.Errorf("bitwarden: %s %s: %w", method, path, err)
		}
		if resp.StatusCode == http.StatusUnauthorized {
			drain(resp)
			s.dropToken(tok)
			if attempt == 0 {
				s.logger.Debug("token rejected, logging in again", "method", method, "path", path)
				continue
			}
			return fmt.Errorf("%w: %s %s: 401 with a fresh token", ErrUnauthorized, method, path)
		}
		return decode(resp, method, path, out)
	}
}

// send makes one request through the retrying client. A non-nil error means
// no answer (the response, if any, is closed).
func (s *Sink) send(ctx context.Context, method, url, auth string, body []byte) (*http.Response, error) {
	var rb any
	if body != nil {
		rb = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, url, rb)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dirbridge")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// decode closes resp after turning an error status into *APIError or
// decoding a success body into out.
func decode(resp *http.Response, method, path string, out any) error {
	defer drain(resp)
	if resp.StatusCode >= 300 {
		return readAPIError(resp, method, path)
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(resp.Body)
	var err error
	if sd, ok := out.(streamDecoder); ok {
		err = sd.decodeStream(dec)
	} else {
		err = dec.Decode(out)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty body")
		}
		return fmt.Errorf("bitwarden: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// readAPIError reads an error answer's envelope.
func readAPIError(resp *http.Response, method, path string) *APIError {
	e := &APIError{Method: method, Path: path, Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var env errorResponse
	var catcher rocketError
	switch {
	case len(bytes.TrimSpace(b)) == 0:
	case json.Unmarshal(b, &env) == nil:
		e.Message = env.Message
		if e.Message == "" {
			e.Message = strings.TrimSpace(env.Error + " " + env.ErrorDescription)
		}
		if e.Message == "" {
			e.Message = env.Detail
		}
		e.Errors = env.Errors
		if len(e.Errors) == 0 {
			e.Errors = env.ValidationErrors
		}
		// Vaultwarden repeats its message as the one validation error.
		if msgs := e.Errors[""]; len(e.Errors) == 1 && len(msgs) == 1 && msgs[0] == e.Message {
			e.Errors = nil
		}
	case json.Unmarshal(b, &catcher) == nil:
		e.Message = catcher.Error.Description
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// streamDecoder is an answer that decodes itself from the stream, so that
// a large one is never held in memory whole (json.Decoder.Decode reads the
// whole value first).
type streamDecoder interface {
	decodeStream(dec *json.Decoder) error
}

// drain reads what is left of a body, so that the connection can be
// reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
}

// errLanded stops the retries of a create whose earlier attempt turns out
// to have taken effect.
var errLanded = errors.New("bitwarden: an earlier attempt took effect")

// landedCheck, put in a request's context, is run before each retry of the
// request with the given method and URL: it returns errLanded when an
// earlier attempt already took effect, so that a non-idempotent POST is
// never carried out twice.
type landedCheck struct {
	method, url string
	check       func(ctx context.Context) error
}

type landedCheckKey struct{}

// prepareRetry is the client's PrepareRetry hook: it runs the request's
// landedCheck, if any.
func prepareRetry(req *http.Request) error {
	lc, ok := req.Context().Value(landedCheckKey{}).(*landedCheck)
	if !ok || lc == nil || req.Method != lc.method || req.URL.String() != lc.url {
		return nil
	}
	// The check's own requests must not run it again.
	return lc.check(context.WithValue(req.Context(), landedCheckKey{}, (*landedCheck)(nil)))
}
