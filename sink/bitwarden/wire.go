package bitwarden

import (
	"encoding/json"
	"fmt"

	"github.com/dirbridge/dirbridge/sync"
)

// The Public API's JSON, as bitwarden/server's public models define it
// (src/Api/AdminConsole/Public/Models). Enums are integers; nulls are sent
// explicitly where the server gives null a meaning.

// listResponse is the list envelope. Servers before v2025.2.0 add
// "continuationToken": null; a non-null token would mean a page is missing.
type listResponse[T any] struct {
	Data              []T     `json:"data"`
	ContinuationToken *string `json:"continuationToken"`
}

// memberList is the list envelope of members, decoded one member at a time
// into the model's members.
type memberList struct {
	members           []sync.Member
	continuationToken string
}

func (l *memberList) continuation() string { return l.continuationToken }

// decodeStream reads {"data": [member...], "continuationToken": ...} and
// ignores other keys.
func (l *memberList) decodeStream(dec *json.Decoder) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		switch key {
		case "data":
			if err := l.decodeData(dec); err != nil {
				return err
			}
		case "continuationToken":
			var t *string
			if err := dec.Decode(&t); err != nil {
				return err
			}
			l.continuationToken = str(t)
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
	}
	return expectDelim(dec, '}')
}

// decodeData reads the data array (or null), member by member.
func (l *memberList) decodeData(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("data: want an array, got %v", tok)
	}
	for dec.More() {
		var m memberResponse
		if err := dec.Decode(&m); err != nil {
			return err
		}
		l.members = append(l.members, toMember(&m))
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

// memberResponse is a MemberResponseModel.
type memberResponse struct {
	ID          string          `json:"id"`
	Email       string          `json:"email"`
	Name        *string         `json:"name"`
	Status      int             `json:"status"`
	Type        int             `json:"type"`
	ExternalID  *string         `json:"externalId"`
	Collections []collection    `json:"collections"`
	Permissions json.RawMessage `json:"permissions"`
}

// collection is an AssociationWithPermissionsRequestModel / response model:
// one collection a member or group can reach, and how.
type collection struct {
	ID            string `json:"id"`
	ReadOnly      bool   `json:"readOnly"`
	HidePasswords bool   `json:"hidePasswords"`
	Manage        bool   `json:"manage"`
}

// memberCreate is a MemberCreateRequestModel.
type memberCreate struct {
	Email       string       `json:"email"`
	Type        int          `json:"type"`
	ExternalID  string       `json:"externalId"`
	Collections []collection `json:"collections"`
	Groups      []string     `json:"groups"`
}

// memberUpdate is a MemberUpdateRequestModel. The PUT replaces the record:
// null collections remove all collection access, null groups keep the
// groups, null externalId clears it, null permissions keep them.
type memberUpdate struct {
	Type        int             `json:"type"`
	ExternalID  *string         `json:"externalId"`
	Collections []collection    `json:"collections"`
	Permissions json.RawMessage `json:"permissions"`
	Groups      []string        `json:"groups"`
}

// groupResponse is a GroupResponseModel.
type groupResponse struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	ExternalID *string `json:"externalId"`
}

// groupWrite is a GroupCreateUpdateRequestModel. On PUT, null collections
// keep the group's collection access (unlike members); null externalId
// clears it.
type groupWrite struct {
	Name        string       `json:"name"`
	ExternalID  *string      `json:"externalId"`
	Collections []collection `json:"collections"`
}

// groupMembers is the body of PUT /public/groups/{id}/member-ids.
type groupMembers struct {
	MemberIDs []string `json:"memberIds"`
}

// importRequest is an OrganizationImportRequestModel (POST
// /public/organization/import). Members and Groups hold encoded
// importMember and importGroup entries; neither may be null (a 500).
// InviteUsersAfterProvisioning is always sent: servers from v2026.7.0 read
// false as "stage without an invitation", older ones ignore it.
type importRequest struct {
	Groups                       []json.RawMessage `json:"groups"`
	Members                      []json.RawMessage `json:"members"`
	OverwriteExisting            bool              `json:"overwriteExisting"`
	LargeImport                  bool              `json:"largeImport"`
	InviteUsersAfterProvisioning bool              `json:"inviteUsersAfterProvisioning"`
}

// importMember is an OrganizationImportMemberRequestModel. Deleted is sent
// even when false, as Vaultwarden requires it.
type importMember struct {
	Email      string `json:"email"`
	ExternalID string `json:"externalId"`
	Deleted    bool   `json:"deleted"`
}

// importGroup is an OrganizationImportGroupRequestModel.
// MemberExternalIDs replaces the group's membership and must not be null
// (a 500).
type importGroup struct {
	Name              string   `json:"name"`
	ExternalID        string   `json:"externalId"`
	MemberExternalIDs []string `json:"memberExternalIds"`
}

// errorResponse is the error envelope: the Public API's
// {"object":"error","message","errors"}, the internal shape of the rate
// limiter and Vaultwarden's (validationErrors), and OAuth's
// {"error","error_description"}, and SCIM's {"detail","status"}.
type errorResponse struct {
	Message          string              `json:"message"`
	Errors           map[string][]string `json:"errors"`
	ValidationErrors map[string][]string `json:"validationErrors"`
	Error            string              `json:"error"`
	ErrorDescription string              `json:"error_description"`
	Detail           string              `json:"detail"` // SCIM
}

// rocketError is the body of Vaultwarden's default error pages (Rocket's
// catchers), such as a 404 for a route it does not have:
// {"error":{"code":404,"reason":"Not Found","description":"..."}}.
type rocketError struct {
	Error struct {
		Code        int    `json:"code"`
		Reason      string `json:"reason"`
		Description string `json:"description"`
	} `json:"error"`
}

// tokenResponse is the identity service's answer to a client-credentials
// grant.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
