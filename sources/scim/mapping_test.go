package scim

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dirbridge/dirbridge/sync"
)

func TestMapUser_Email(t *testing.T) {
	cases := []struct {
		name string
		user string
		want string
	}{
		{"Primary", `{"emails":[{"value":"home@x","type":"home"},{"value":"p@x","type":"other","primary":true},{"value":"w@x","type":"work"}]}`, "p@x"},
		{"PrimaryAsString", `{"emails":[{"value":"w@x","type":"work"},{"value":"p@x","primary":"True"}]}`, "p@x"},
		{"PrimaryFalseIgnored", `{"emails":[{"value":"a@x","primary":false},{"value":"w@x","type":"Work"}]}`, "w@x"},
		{"EmptyPrimarySkipped", `{"emails":[{"value":"","primary":true},{"value":"w@x","type":"work"}]}`, "w@x"},
		{"FirstWork", `{"emails":[{"value":"h@x","type":"home"},{"value":"w1@x","type":"work"},{"value":"w2@x","type":"work"}]}`, "w1@x"},
		{"First", `{"emails":[{"value":"h@x","type":"home"},{"value":"o@x","type":"other"}]}`, "h@x"},
		{"FirstWithoutType", `{"emails":[{"value":"a@x"},{"value":"b@x"}]}`, "a@x"},
		{"UserNameIsEmail", `{"userName":"ann@example.com"}`, "ann@example.com"},
		{"UserNameIsEmailEmptyEmails", `{"userName":"ann@example.com","emails":[]}`, "ann@example.com"},
		{"UserNameNotEmail", `{"userName":"ann"}`, ""},
		{"UserNameUPNWithSpace", `{"userName":"ann smith@example.com"}`, ""},
		{"UserNameTwoAts", `{"userName":"a@b@c"}`, ""},
		{"EmailsNull", `{"emails":null,"userName":"n@x"}`, "n@x"},
		{"KeptAsRead", `{"emails":[{"value":" Ann@Example.COM ","primary":true}]}`, " Ann@Example.COM "},
		{"Nothing", `{}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := mustMapUser(t, tc.user, IDAttributeID)
			if got := u.Email; got != tc.want {
				t.Errorf("email = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMapUser_Name(t *testing.T) {
	cases := []struct {
		name string
		user string
		want string
	}{
		{"DisplayName", `{"displayName":"Ann S","name":{"formatted":"Ms Ann Smith"},"userName":"ann"}`, "Ann S"},
		{"Formatted", `{"displayName":"  ","name":{"formatted":"Ms Ann Smith","givenName":"Ann"},"userName":"ann"}`, "Ms Ann Smith"},
		{"GivenFamily", `{"name":{"givenName":"Ann","familyName":"Smith"},"userName":"ann"}`, "Ann Smith"},
		{"GivenOnly", `{"name":{"givenName":"Ann"},"userName":"ann"}`, "Ann"},
		{"FamilyOnly", `{"name":{"familyName":"Smith"},"userName":"ann"}`, "Smith"},
		{"UserName", `{"name":{},"userName":"ann"}`, "ann"},
		{"NameNull", `{"name":null,"userName":"ann"}`, "ann"},
		{"Accents", `{"displayName":"Zoë Ñúñez"}`, "Zoë Ñúñez"},
		{"Nothing", `{}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := mustMapUser(t, tc.user, IDAttributeID)
			if got := u.Name; got != tc.want {
				t.Errorf("name = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMapUser_Active(t *testing.T) {
	cases := []struct {
		active       string
		wantDisabled bool
	}{
		{`true`, false}, {`false`, true},
		{`"True"`, false}, {`"False"`, true},
		{`"true"`, false}, {`"false"`, true},
		{`"TRUE"`, false}, {`" false "`, true},
		{`null`, false}, {``, false},
	}
	for _, tc := range cases {
		t.Run(tc.active, func(t *testing.T) {
			doc := `{}`
			if tc.active != "" {
				doc = `{"active":` + tc.active + `}`
			}
			if got := mustMapUser(t, doc, IDAttributeID).Disabled; got != tc.wantDisabled {
				t.Errorf("disabled = %v, want %v", got, tc.wantDisabled)
			}
		})
	}
	for _, bad := range []string{`"yes"`, `1`, `0`, `""`, `"null"`, `[]`, `{}`} {
		t.Run("Rejects"+bad, func(t *testing.T) {
			_, err := decodeUser([]byte(`{"id":"a","active":` + bad + `}`))
			if err == nil || !strings.HasPrefix(err.Error(), "active: want a boolean") {
				t.Errorf("decodeUser(active %s) error = %v, want an active error", bad, err)
			}
		})
	}
}

func TestMapUser_IDAttribute(t *testing.T) {
	doc := `{"id":"2819c223","externalId":"ext-7","userName":"bjensen@example.com"}`
	got := mustMapUser(t, doc, IDAttributeID)
	want := sync.User{ExternalID: "2819c223", Email: "bjensen@example.com", Name: "bjensen@example.com", Source: "Users/2819c223 (bjensen@example.com)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("id mode (-want +got):\n%s", diff)
	}
	if got := mustMapUser(t, doc, IDAttributeExternalID).ExternalID; got != "ext-7" {
		t.Errorf("externalId mode: external id = %q, want ext-7", got)
	}
	if got := mustMapUser(t, `{"id":42}`, IDAttributeID).ExternalID; got != "42" {
		t.Errorf("numeric id: external id = %q, want 42", got)
	}
	for _, doc := range []string{`{"id":"a"}`, `{"id":"a","externalId":""}`, `{"id":"a","externalId":null}`, `{"id":"a","externalId":"  "}`} {
		w, err := decodeUser([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mapUser(w, IDAttributeExternalID); err == nil {
			t.Errorf("mapUser(%s) in externalId mode succeeded", doc)
		}
	}
	w, _ := decodeUser([]byte(`{"userName":"x"}`))
	if _, err := mapUser(w, IDAttributeID); err != errNoID {
		t.Errorf("mapUser without id: error = %v, want errNoID", err)
	}
}

func mustMapUser(t *testing.T, doc, idAttr string) sync.User {
	t.Helper()
	w, err := decodeUser([]byte(doc))
	if err != nil {
		t.Fatalf("decodeUser(%s): %v", doc, err)
	}
	if w.ID == "" {
		w.ID = "x"
	}
	u, err := mapUser(w, idAttr)
	if err != nil {
		t.Fatalf("mapUser(%s): %v", doc, err)
	}
	return u
}

func TestFlatten(t *testing.T) {
	group := func(members ...wireMember) *wireGroup { return &wireGroup{Members: &members} }
	user := func(id string) wireMember { return wireMember{Value: flexString(id), Type: "User"} }
	sub := func(id string) wireMember { return wireMember{Value: flexString(id), Type: "Group"} }
	untyped := func(id string) wireMember { return wireMember{Value: flexString(id)} }
	groups := map[string]*wireGroup{
		"top":    group(user("u1"), sub("mid"), untyped("u2")),
		"mid":    group(user("u3"), untyped("leaf"), user("u1")),
		"leaf":   group(user("u4"), sub("top")), // a cycle back to top
		"self":   group(sub("self"), user("u5")),
		"lower":  group(wireMember{Value: "u6", Type: "user"}, wireMember{Value: "mid", Type: "group"}),
		"absent": {},
		"dangle": group(sub("nowhere"), user("u7"), wireMember{Value: ""}),
		"5":      group(user("u1")),
		"clash":  group(untyped("5")), // user 5 and group 5: untyped means the user
		"refs":   group(wireMember{Value: "5", Ref: "https://idp/scim/v2/Groups/5"}, wireMember{Value: "mid", Ref: "../Users/mid"}),
	}
	userExt := map[string]string{"u1": "E1", "u2": "E2", "u3": "E3", "u4": "E4", "u5": "E5", "u6": "E6", "5": "E5b"}
	cases := []struct {
		root string
		want []string
	}{
		{"top", []string{"E1", "E2", "E3", "E4"}},
		{"mid", []string{"E3", "E1", "E4", "E2"}},
		{"leaf", []string{"E4", "E1", "E2", "E3"}},
		{"self", []string{"E5"}},
		{"lower", []string{"E6", "E3", "E1", "E4", "E2"}},
		{"absent", []string{}},
		{"dangle", []string{"u7"}}, // unknown users are kept as read for sync.Normalize
		{"clash", []string{"E5b"}},
		{"refs", []string{"mid", "E1"}},
	}
	for _, tc := range cases {
		t.Run(tc.root, func(t *testing.T) {
			got := flatten(tc.root, groups, userExt)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("flatten(%s) (-want +got):\n%s", tc.root, diff)
			}
		})
	}
}
