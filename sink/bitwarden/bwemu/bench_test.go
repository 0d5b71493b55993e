package bwemu

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// bigOrg is an organization of n members spread over g groups.
func bigOrg(n, g int) Org {
	org := Org{Members: make([]Member, n), Groups: make([]Group, g)}
	for i := range org.Groups {
		org.Groups[i] = Group{ID: fmt.Sprintf("b0000000-0000-4000-8000-%012d", i), Name: fmt.Sprintf("Group %d", i), ExternalID: fmt.Sprintf("g%d", i)}
	}
	for i := range org.Members {
		m := Member{
			ID: fmt.Sprintf("a0000000-0000-4000-8000-%012d", i), Email: fmt.Sprintf("user%d@example.com", i),
			Name: fmt.Sprintf("User %d", i), Status: StatusConfirmed, Type: TypeUser, ExternalID: fmt.Sprintf("u%d", i),
		}
		if i == 0 {
			m.Type = TypeOwner
		}
		if g > 0 {
			m.Groups = []string{org.Groups[i%g].ID}
		}
		org.Members[i] = m
	}
	return org
}

// benchHarness seeds a big organization and logs in.
func benchHarness(b *testing.B, n, g int) (*Server, string, string) {
	b.Helper()
	emu, base := StartTestServer(b, Options{})
	if err := emu.Seed(bigOrg(n, g)); err != nil {
		b.Fatal(err)
	}
	form := "grant_type=client_credentials&client_id=" + emu.ClientID() + "&client_secret=" + emu.ClientSecret()
	res, err := http.Post(base+"/identity/connect/token", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	tok := strings.Split(strings.Split(string(body), `"access_token":"`)[1], `"`)[0]
	return emu, base, tok
}

func benchDo(b *testing.B, method, url, token, body string) int {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("%s %s: status %d", method, url, res.StatusCode)
	}
	return int(n)
}

// BenchmarkListMembers100k lists 100,000 members over HTTP.
func BenchmarkListMembers100k(b *testing.B) {
	_, base, tok := benchHarness(b, 100000, 2000)
	var size int
	for b.Loop() {
		size = benchDo(b, http.MethodGet, base+membersURL, tok, "")
	}
	b.ReportMetric(float64(size)/1e6, "MB/list")
}

// BenchmarkListGroups2000 lists 2,000 groups, then reads every group's
// member ids, as a sink reading the whole state would.
func BenchmarkListGroups2000(b *testing.B) {
	_, base, tok := benchHarness(b, 100000, 2000)
	for b.Loop() {
		benchDo(b, http.MethodGet, base+groupsURL, tok, "")
	}
}

// BenchmarkInvite invites members one by one into an organization of
// 100,000; each invite must stay O(1) in the organization's size.
func BenchmarkInvite(b *testing.B) {
	_, base, tok := benchHarness(b, 100000, 0)
	i := 0
	for b.Loop() {
		benchDo(b, http.MethodPost, base+membersURL, tok, fmt.Sprintf(`{"email":"new%d@example.com","type":2}`, i))
		i++
	}
}

// BenchmarkImport2000 imports 2,000 members (1,000 known, 1,000 new) and
// 100 groups into an organization of 10,000.
func BenchmarkImport2000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"overwriteExisting":false,"members":[`)
	for i := range 2000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"email":"user%d@example.com","externalId":"u%d"}`, i*10, i*10)
	}
	sb.WriteString(`],"groups":[`)
	for g := range 100 {
		if g > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"Group %d","externalId":"g%d","memberExternalIds":["u%d","u%d"]}`, g, g, g*10, g*20)
	}
	sb.WriteString(`]}`)
	body := sb.String()
	emu, base, tok := benchHarness(b, 10000, 100)
	seed := bigOrg(10000, 100)
	for b.Loop() {
		b.StopTimer()
		if err := emu.Seed(seed); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		benchDo(b, http.MethodPost, base+importURL, tok, body)
	}
}
