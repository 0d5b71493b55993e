package ldap

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

func TestAppendInt_RoundTrips(t *testing.T) {
	for _, v := range []int{0, 1, 127, 128, 255, 256, 1000, 32767, 32768, 65535, 1 << 24, 1<<31 - 1} {
		b := appendInt(nil, tagInteger, v)
		tag, content, rest, err := splitTLV(b)
		if err != nil || tag != tagInteger || len(rest) != 0 {
			t.Fatalf("appendInt(%d) = % x: %v", v, b, err)
		}
		if got := decodeInt(content); got != v {
			t.Errorf("decodeInt(appendInt(%d)) = %d (% x)", v, got, content)
		}
		if content[0] == 0 && len(content) > 1 && content[1] < 0x80 {
			t.Errorf("appendInt(%d) = % x: not minimal", v, content)
		}
	}
}

func TestSplitTLV_Lengths(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 255, 256, 70000, 1 << 24} {
		content := bytes.Repeat([]byte{'x'}, n)
		b := append(appendTLV(nil, tagOctetString, content), 0xff)
		tag, got, rest, err := splitTLV(b)
		if err != nil || tag != tagOctetString || len(got) != n || !bytes.Equal(rest, []byte{0xff}) {
			t.Errorf("length %d: tag %#x, %d bytes, rest % x, %v", n, tag, len(got), rest, err)
		}
	}
}

func TestSplitTLV_Truncated(t *testing.T) {
	for _, b := range [][]byte{nil, {0x04}, {0x04, 0x05, 'a'}, {0x04, 0x82, 0x01}, {0x04, 0x80}, {0x04, 0x85, 1, 1, 1, 1, 1}} {
		if _, _, _, err := splitTLV(b); err == nil {
			t.Errorf("splitTLV(% x) succeeded; want an error", b)
		}
	}
}

// searchEntry encodes a SearchResultEntry's content.
func searchEntry(dn string, attrs ...[]string) []byte {
	var list []byte
	for _, a := range attrs {
		var vals []byte
		for _, v := range a[1:] {
			vals = appendStr(vals, tagOctetString, v)
		}
		pa := appendStr(nil, tagOctetString, a[0])
		pa = appendTLV(pa, tagSet, vals)
		list = appendTLV(list, tagSequence, pa)
	}
	return appendTLV(appendStr(nil, tagOctetString, dn), tagSequence, list)
}

func TestEntryDecode(t *testing.T) {
	var e entry
	body := searchEntry("uid=a,dc=x", []string{"mail", "a@x"}, []string{"member", "cn=1", "cn=2"}, []string{"empty"})
	if err := e.decode(body); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if e.DN() != "uid=a,dc=x" || len(e.attrs) != 3 {
		t.Fatalf("decoded %q with %d attributes", e.DN(), len(e.attrs))
	}
	var got []string
	for _, a := range e.attrs {
		var vals []string
		for _, v := range e.values(a) {
			vals = append(vals, string(v))
		}
		got = append(got, string(a.name)+"="+strings.Join(vals, "|"))
	}
	if want := "mail=a@x member=cn=1|cn=2 empty="; strings.Join(got, " ") != want {
		t.Errorf("attributes %q, want %q", strings.Join(got, " "), want)
	}
	if !equalFold(e.attrs[1].name, "MEMBER") || equalFold(e.attrs[1].name, "members") || e.first(e.attrs[2]) != nil {
		t.Errorf("equalFold or first misbehave")
	}
}

func FuzzEntryDecode(f *testing.F) {
	f.Add(searchEntry("uid=a,dc=x", []string{"mail", "a@x"}, []string{"member", "cn=1", "cn=2"}))
	f.Add([]byte{0x04, 0x00, 0x30, 0x00})
	f.Fuzz(func(t *testing.T, body []byte) {
		var e entry
		if e.decode(body) == nil {
			for _, a := range e.attrs {
				_ = e.values(a)
			}
		}
	})
}

func TestPagingCookie(t *testing.T) {
	value := appendTLV(nil, tagSequence, appendTLV(appendInt(nil, tagInteger, 0), tagOctetString, []byte("next")))
	other := appendTLV(nil, tagSequence, appendStr(nil, tagOctetString, "1.2.3"))
	paging := appendTLV(nil, tagSequence, appendTLV(appendStr(nil, tagOctetString, oidPagedResults), tagOctetString, value))
	cookie, found, err := pagingCookie(append(other, paging...))
	if err != nil || !found || string(cookie) != "next" {
		t.Errorf("pagingCookie = %q, %v, %v; want next", cookie, found, err)
	}
	if _, found, err := pagingCookie(other); found || err != nil {
		t.Errorf("pagingCookie without the control = %v, %v", found, err)
	}
}

// scripted is a scripted server on the other end of a pipe: it answers each
// request with the next canned bytes. The real-server tests cover the
// protocol as slapd and Samba speak it; this covers corner cases no real
// server can be made to produce on demand.
func scripted(t testing.TB, answers ...[]byte) *wire {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	go func() {
		defer server.Close()
		buf := make([]byte, 4096)
		for _, a := range answers {
			if _, err := server.Read(buf); err != nil {
				return
			}
			server.Write(a)
		}
	}()
	return newWire(client)
}

func message(id int, op []byte, controls ...byte) []byte {
	body := append(appendInt(nil, tagInteger, id), op...)
	if controls != nil {
		body = appendTLV(body, tagControls, controls)
	}
	return appendTLV(nil, tagSequence, body)
}

func ldapResult(tag byte, code int, diag string) []byte {
	body := appendInt(nil, tagEnumerated, code)
	body = appendStr(body, tagOctetString, "")
	body = appendStr(body, tagOctetString, diag)
	return appendTLV(nil, tag, body)
}

func TestWireSearch_NoticeOfDisconnection(t *testing.T) {
	notice := ldapResult(tagExtendedResp, ldap.LDAPResultUnavailable, "shutting down")
	w := scripted(t, append(message(1, appendTLV(nil, tagSearchEntry, searchEntry("cn=a"))), message(0, notice)...))
	n := 0
	_, err := w.search(&searchRequest{filter: []byte{0x87, 0x0b, 'o', 'b', 'j', 'e', 'c', 't', 'C', 'l', 'a', 's', 's'}}, func(*entry) error { n++; return nil })
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultUnavailable) || n != 1 {
		t.Errorf("search = %v after %d entries; want the notice's result code 52 after 1", err, n)
	}
}

func TestWireSearch_WrongMessageID(t *testing.T) {
	w := scripted(t, message(7, ldapResult(tagSearchDone, 0, "")))
	if _, err := w.search(&searchRequest{}, func(*entry) error { return nil }); !errors.Is(err, errMalformed) {
		t.Errorf("search = %v; want errMalformed", err)
	}
}

func FuzzWireSearch(f *testing.F) {
	f.Add(message(1, appendTLV(nil, tagSearchEntry, searchEntry("cn=a", []string{"cn", "a"}))))
	f.Add(message(1, ldapResult(tagSearchDone, 4, "")))
	f.Add(message(0, ldapResult(tagExtendedResp, 52, "bye")))
	f.Fuzz(func(t *testing.T, answer []byte) {
		w := scripted(t, answer)
		w.conn.SetDeadline(time.Now().Add(time.Second))
		w.search(&searchRequest{}, func(e *entry) error {
			for _, a := range e.attrs {
				_ = e.values(a)
			}
			return nil
		})
	})
}
