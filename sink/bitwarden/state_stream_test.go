package bitwarden

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dirbridge/dirbridge/sink/bitwarden/bwemu"
)

// withMembersBody answers GET /api/public/members with body.
func withMembersBody(body string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/api/public/members" {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Write([]byte(body))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestState_DecodesTheMemberListAsAStream(t *testing.T) {
	const member = `{"object":"member","id":"m1","userId":null,"name":"Al","email":"al@example.com","twoFactorEnabled":false,` +
		`"status":2,"collections":[{"id":"c","readOnly":true,"hidePasswords":false,"manage":false}],"type":2,"externalId":"u1",` +
		`"permissions":{"manageUsers":true},"future":[1,{"a":2}]}`
	tests := []struct {
		name, body string
		members    int
		wantErr    string
	}{
		{"Current", `{"object":"list","data":[` + member + `,` + member + `]}`, 2, ""},
		{"Legacy", `{"object":"list","data":[` + member + `],"continuationToken":null}`, 1, ""},
		{"KeysInAnyOrder", `{"continuationToken":null,"data":[],"object":"list"}`, 0, ""},
		{"NullData", `{"object":"list","data":null}`, 0, ""},
		{"Paged", `{"object":"list","data":[` + member + `],"continuationToken":"next"}`, 0, `paged (continuationToken "next")`},
		{"DataNotAnArray", `{"object":"list","data":{"id":"m1"}}`, 0, "decode answer: data: want an array"},
		{"Truncated", `{"object":"list","data":[` + member, 0, "decode answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWrapped(t, bwemu.Options{}, nil, withMembersBody(tt.body))
			st, err := e.sink.State(context.Background())
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("State() error = %v, want one containing %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Fatalf("State() error = %v", err)
			case tt.wantErr == "" && len(st.Members) != tt.members:
				t.Fatalf("State() read %d members, want %d", len(st.Members), tt.members)
			}
			if tt.members > 0 {
				m := st.Members[0]
				if m.ID != "m1" || m.Email != "al@example.com" || m.Name != "Al" || m.ExternalID != "u1" || m.Status != 2 || m.Type != 2 {
					t.Errorf("member = %+v", m)
				}
			}
		})
	}
}
