package bitwarden

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
	"github.com/dirbridge/dirbridge/sync"
)

func TestApply_HonoursRetryAfterOn429(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.emu.AddFault(bwemu.Fault{Method: "POST", Path: "/api/public/members", Status: 429, RetryAfter: 1, Count: 1})
	e.apply(inviteOp("new@example.com", "u9"))
	reqs := e.emu.Requests()
	last, prev := reqs[len(reqs)-1], reqs[len(reqs)-2]
	if prev.Status != 429 || last.Status != 200 || last.Route != "POST /api/public/members" {
		t.Fatalf("requests = %q, want a 429 then a 200", e.routes())
	}
	// The wait is not asserted as a timing; only that the server's clock saw
	// the retry after the Retry-After.
	if gap := last.Time.Sub(prev.Time); gap < time.Second {
		t.Errorf("retried %v after the 429, want at least the Retry-After of 1s", gap)
	}
}

func TestApply_Retries500Burst(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.emu.AddFault(bwemu.Fault{Method: "PUT", Path: "/api/public/groups/", Status: 500, Count: 3})
	e.apply(sync.Op{Action: sync.ActionSetGroupMembers, GroupID: engID, Name: "Engineering", Members: []string{"u1", "u2"}})
	if got := e.count("PUT /api/public/groups/{id}/member-ids", 500); got != 3 {
		t.Errorf("500 answers = %d, want 3", got)
	}
	if m := e.groupsByExternalID("g1")[0].MemberIDs; len(m) != 2 {
		t.Errorf("members = %v, want alice and bob", m)
	}
}

func TestApply_Persistent500IsAnAPIError(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.emu.AddFault(bwemu.Fault{Method: "DELETE", Path: "/api/public/members/", Status: 500})
	err := e.sink.Apply(context.Background(), sync.Op{Action: sync.ActionRemove, MemberID: bobID, Email: "bob@example.com"})
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("Apply() error = %v, want an *APIError", err)
	}
	if ae.Status != 500 || ae.Message != "An unhandled server error has occurred." || ae.Method != "DELETE" ||
		ae.Path != "/public/members/"+bobID {
		t.Errorf("APIError = %+v", ae)
	}
	want := "remove bob@example.com: bitwarden: DELETE /public/members/" + bobID +
		": 500 An unhandled server error has occurred."
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if got := e.count("DELETE /api/public/members/{id}", 500); got != 7 {
		t.Errorf("attempts = %d, want 7 (1 + 6 retries)", got)
	}
}

func TestApply_RetriesDroppedConnection(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.emu.AddFault(bwemu.Fault{Method: "POST", Path: "/api/public/members/", DropConnection: true, Count: 2})
	e.apply(sync.Op{Action: sync.ActionRevoke, MemberID: aliceID, Email: "alice@example.com"})
	if s := e.member(aliceID).Status; s != bwemu.StatusRevoked {
		t.Errorf("status = %d, want revoked", s)
	}
}

func TestApply_ValidationErrorCarriesTheEnvelope(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	err := e.sink.Apply(context.Background(), inviteOp("not-an-email", "u9"))
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || len(ae.Errors["Email"]) == 0 {
		t.Fatalf("Apply() error = %v, want a 400 with errors for Email", err)
	}
	if !strings.HasPrefix(err.Error(), "invite not-an-email: bitwarden: POST /public/members: 400 ") {
		t.Errorf("error = %q", err)
	}
}

func TestApply_CanceledContextSendsNothing(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, op := range []sync.Op{inviteOp("new@example.com", "u9"),
		{Action: sync.ActionDeleteGroup, GroupID: engID, Name: "Engineering"}} {
		if err := e.sink.Apply(ctx, op); !errors.Is(err, context.Canceled) {
			t.Errorf("Apply(%s) error = %v, want context.Canceled", op.Action, err)
		}
	}
	if n := len(e.emu.Requests()); n != 0 {
		t.Errorf("%d requests sent, want 0", n)
	}
}

func TestApply_CancelStopsRetries(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.emu.AddFault(bwemu.Fault{Method: "POST", Path: "/api/public/members", Status: 429, RetryAfter: 60})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.sink.Apply(ctx, inviteOp("new@example.com", "u9")) }()
	for e.count("POST /api/public/members", 429) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Apply() error = %v, want context.Canceled", err)
	}
}

func TestLogin_ExpiredTokenIsRenewedTransparently(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.emu.ExpireTokens()
	e.apply(inviteOp("new@example.com", "u9"))
	got := e.routes()
	want := []string{
		"POST /api/public/members 401",
		"POST /identity/connect/token 200",
		"POST /api/public/members 200",
	}
	if tail := got[len(got)-3:]; strings.Join(tail, "|") != strings.Join(want, "|") {
		t.Errorf("requests end with %q, want %q", tail, want)
	}
}

func TestLogin_RenewsBeforeExpiry(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.sink.tokenMu.Lock()
	e.sink.token.renewAt = time.Now().Add(-time.Second) // within the margin
	e.sink.tokenMu.Unlock()
	e.state()
	if n := e.count("POST /identity/connect/token", 200); n != 2 {
		t.Errorf("logins = %d, want 2", n)
	}
	if n := e.count("GET /api/public/members", 401); n != 0 {
		t.Errorf("401 answers = %d, want none: the token is renewed before it expires", n)
	}
}

func TestLogin_RenewalMargin(t *testing.T) {
	e := newEnv(t, bwemu.Options{TokenLifetime: time.Hour}, nil)
	e.state()
	left := time.Until(e.sink.token.renewAt)
	if left > 55*time.Minute || left < 54*time.Minute {
		t.Errorf("token renewed in %v, want 5 minutes before its hour", left)
	}
}

func TestLogin_SecondUnauthorizedIsErrUnauthorized(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.emu.AddFault(bwemu.Fault{Method: "GET", Path: "/api/public/members", Status: 401})
	_, err := e.sink.State(context.Background())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("State() error = %v, want ErrUnauthorized", err)
	}
	if n := e.count("POST /identity/connect/token", 200); n != 2 {
		t.Errorf("logins = %d, want 2 (one renewal after the first 401)", n)
	}
}

func TestLogin_WrongSecret(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, func(c *Config) { c.ClientSecret = "wrong-secret" })
	_, err := e.sink.State(context.Background())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("State() error = %v, want ErrUnauthorized", err)
	}
	for _, want := range []string{"invalid_client", "the client id or secret is wrong", "/identity/connect/token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if n := e.count("POST /identity/connect/token", 0); n != 1 {
		t.Errorf("logins = %d, want 1 (a 400 is not retried)", n)
	}
}

func TestLogin_NeverLogsSecretOrToken(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	e.emu.ExpireTokens()
	e.apply(inviteOp("new@example.com", "u9"))
	logs := e.logs.String()
	if strings.Contains(logs, e.emu.ClientSecret()) {
		t.Error("the client secret appears in the log")
	}
	if tok := e.sink.token.value; tok == "" || strings.Contains(logs, tok) {
		t.Errorf("the access token appears in the log (or is empty: %q)", tok)
	}
}

func TestLogin_TokenRequestForm(t *testing.T) {
	e := newEnv(t, bwemu.Options{}, nil)
	e.state()
	var body string
	for _, r := range e.emu.Requests() {
		if r.Route == "POST /identity/connect/token" {
			body = r.Body
		}
	}
	for _, want := range []string{"grant_type=client_credentials", "scope=api.organization",
		"client_id=organization." + e.emu.OrgID(), "deviceType=8", "deviceIdentifier=" + e.sink.deviceID, "deviceName=dirbridge"} {
		if !strings.Contains(body, want) {
			t.Errorf("token request %q lacks %q", body, want)
		}
	}
	if e.sink.deviceID != deviceID(strings.ToUpper(e.emu.OrgID())) {
		t.Error("the device id depends on the organization id's case")
	}
}

func TestPacing_BurstOfInvitesSeesNo429(t *testing.T) {
	e := newEnv(t, bwemu.Options{RateLimit: true}, func(c *Config) {
		c.RateLimit = RateLimit{PerSecond: 5, PerMinute: 60}
	})
	e.state()
	for i := range 20 {
		e.apply(inviteOp("user"+itoa(i)+"@example.com", "x"+itoa(i)))
	}
	if got := e.count("POST /api/public/members", 200); got != 20 {
		t.Errorf("invites answered 200 = %d, want 20", got)
	}
	if got := e.emu.Stats().ByStatus[http.StatusTooManyRequests]; got != 0 {
		t.Errorf("429 answers = %d, want 0", got)
	}
}

func TestPacing_WithoutItTheEmulatorLimits(t *testing.T) {
	// The counterpart of the test above: the same burst unpaced meets the
	// emulator's limit (and the retry policy recovers from it).
	e := newEnv(t, bwemu.Options{RateLimit: true}, nil)
	e.state()
	for i := range 7 {
		e.apply(inviteOp("user"+itoa(i)+"@example.com", "x"+itoa(i)))
	}
	if got := e.emu.Stats().ByStatus[http.StatusTooManyRequests]; got == 0 {
		t.Error("no 429 without pacing: the pacing test above proves nothing")
	}
}
