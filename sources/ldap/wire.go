package ldap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/go-ldap/ldap/v3"
)

// The source speaks the LDAPv3 wire protocol (RFC 4511) itself for the three
// operations it needs: StartTLS, simple bind and search. go-ldap's decoder
// copies every byte once per BER nesting level and allocates about 60 bytes
// per byte received (1.6 GB to read 26 MB of a 100,000-user directory), which
// made reading 3x slower than ldapsearch and the process 250 MB large. This
// client decodes each message in place in one reused buffer and hands the
// readers views into it, so a read allocates little more than the strings it
// keeps. go-ldap still parses DNs, compiles filters, and supplies the error
// type and result codes.

// BER tags of the protocol elements used here.
const (
	tagBoolean     = 0x01
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagEnumerated  = 0x0a
	tagSequence    = 0x30
	tagSet         = 0x31

	tagBindRequest   = 0x60 // [APPLICATION 0] constructed
	tagBindResponse  = 0x61
	tagUnbindRequest = 0x42 // [APPLICATION 2] primitive NULL
	tagSearchRequest = 0x63
	tagSearchEntry   = 0x64
	tagSearchDone    = 0x65
	tagSearchRef     = 0x73
	tagExtendedReq   = 0x77
	tagExtendedResp  = 0x78
	tagIntermediate  = 0x79
	tagControls      = 0xa0 // [0] constructed, in LDAPMessage
	tagSimpleAuth    = 0x80 // [0] primitive, in BindRequest
	tagExtendedName  = 0x80 // [0] primitive, in ExtendedRequest
	maxMessage       = 64 << 20
	oidStartTLS      = "1.3.6.1.4.1.1466.20037"
	oidPagedResults  = "1.2.840.113556.1.4.319"
)

// errMalformed is wrapped by every error about a message the client cannot
// decode.
var errMalformed = errors.New("malformed LDAP message")

// wire is one LDAP connection, used by one goroutine, one request at a time.
type wire struct {
	conn net.Conn
	r    *bufio.Reader
	id   int    // the last message id sent
	msg  []byte // the message being decoded; reused
	out  []byte // the request being encoded; reused
	ent  entry  // the entry handed to the reader; reused
}

func newWire(conn net.Conn) *wire {
	return &wire{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
}

// send writes one LDAPMessage with the given protocol operation (a complete
// TLV) and controls (complete Control TLVs, or none).
func (w *wire) send(op []byte, controls ...[]byte) error {
	w.id++
	body := appendInt(nil, tagInteger, w.id)
	body = append(body, op...)
	if len(controls) > 0 {
		var cs []byte
		for _, c := range controls {
			cs = append(cs, c...)
		}
		body = appendTLV(body, tagControls, cs)
	}
	w.out = appendTLV(w.out[:0], tagSequence, body)
	_, err := w.conn.Write(w.out)
	return err
}

// response is a decoded LDAPMessage of the current request.
type response struct {
	op       byte // the protocolOp's tag
	body     []byte
	controls []byte // the content of the [0] controls, or nil
}

// read reads the next message of the current request into w.msg. An
// unsolicited Notice of Disconnection becomes an error.
func (w *wire) read() (response, error) {
	if err := w.readMessage(); err != nil {
		return response{}, err
	}
	tag, msg, _, err := splitTLV(w.msg)
	if err != nil || tag != tagSequence {
		return response{}, fmt.Errorf("%w: not a SEQUENCE", errMalformed)
	}
	tag, idBytes, rest, err := splitTLV(msg)
	if err != nil || tag != tagInteger {
		return response{}, fmt.Errorf("%w: no message id", errMalformed)
	}
	var r response
	if r.op, r.body, rest, err = splitTLV(rest); err != nil {
		return response{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if len(rest) > 0 {
		if tag, r.controls, _, err = splitTLV(rest); err != nil || tag != tagControls {
			return response{}, fmt.Errorf("%w: bad controls", errMalformed)
		}
	}
	switch id := decodeInt(idBytes); {
	case id == 0 && r.op == tagExtendedResp:
		res, _ := decodeResult(r.body)
		if res.err == nil {
			res.err = &ldap.Error{ResultCode: ldap.LDAPResultUnavailable, Err: errors.New("the server sent a notice of disconnection")}
		}
		return response{}, fmt.Errorf("the server closed the connection: %w", res.err)
	case id != w.id:
		return response{}, fmt.Errorf("%w: answer to message %d while waiting for %d", errMalformed, id, w.id)
	}
	return r, nil
}

// readMessage reads one BER element into w.msg.
func (w *wire) readMessage() error {
	head, err := w.r.Peek(2)
	if err != nil {
		return readErr(err)
	}
	n, hl := int(head[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 {
			return fmt.Errorf("%w: length of %d bytes", errMalformed, k)
		}
		if head, err = w.r.Peek(2 + k); err != nil {
			return readErr(err)
		}
		n = 0
		for _, b := range head[2:] {
			n = n<<8 | int(b)
		}
		hl += k
	}
	if n > maxMessage {
		return fmt.Errorf("%w: a message of %d bytes", errMalformed, n)
	}
	if cap(w.msg) < hl+n {
		w.msg = make([]byte, hl+n)
	}
	w.msg = w.msg[:hl+n]
	_, err = io.ReadFull(w.r, w.msg)
	return readErr(err)
}

func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the server closed the connection: %w", err)
	}
	return err
}

// result is a decoded LDAPResult.
type result struct {
	err      error // an *ldap.Error unless the result code is success
	referral bool
}

// decodeResult decodes an LDAPResult's content: resultCode, matchedDN,
// diagnosticMessage and an optional referral.
func decodeResult(b []byte) (result, []byte) {
	tag, code, rest, err := splitTLV(b)
	if err != nil || tag != tagEnumerated {
		return result{err: fmt.Errorf("%w: no result code", errMalformed)}, nil
	}
	_, matched, rest, _ := splitTLV(rest)
	_, diag, rest, _ := splitTLV(rest)
	var r result
	if c := decodeInt(code); c != 0 {
		r.err = &ldap.Error{ResultCode: uint16(c), MatchedDN: string(matched), Err: errors.New(string(diag))}
	}
	if len(rest) > 0 && rest[0] == 0xa3 { // referral [3]
		r.referral = true
		_, _, rest, _ = splitTLV(rest)
	}
	return r, rest
}

// startTLS asks the server to start TLS; the caller then wraps the
// connection and makes a new wire on it.
func (w *wire) startTLS() error {
	op := appendTLV(nil, tagExtendedReq, appendStr(nil, tagExtendedName, oidStartTLS))
	if err := w.send(op); err != nil {
		return err
	}
	r, err := w.read()
	if err != nil {
		return err
	}
	if r.op != tagExtendedResp {
		return fmt.Errorf("%w: StartTLS answered with tag %#x", errMalformed, r.op)
	}
	res, _ := decodeResult(r.body)
	return res.err
}

// bind does a simple bind.
func (w *wire) bind(dn, password string) error {
	body := appendInt(nil, tagInteger, 3)
	body = appendStr(body, tagOctetString, dn)
	body = appendStr(body, tagSimpleAuth, password)
	if err := w.send(appendTLV(nil, tagBindRequest, body)); err != nil {
		return err
	}
	r, err := w.read()
	if err != nil {
		return err
	}
	if r.op != tagBindResponse {
		return fmt.Errorf("%w: bind answered with tag %#x", errMalformed, r.op)
	}
	res, _ := decodeResult(r.body)
	return res.err
}

// unbind tells the server the client is leaving; errors are irrelevant, the
// connection is closed next.
func (w *wire) unbind() {
	w.send([]byte{tagUnbindRequest, 0})
}

// searchRequest is one SearchRequest, with an optional paging control.
type searchRequest struct {
	base      string
	scope     int
	sizeLimit int
	timeLimit int
	filter    []byte // BER-encoded, from ldap.CompileFilter
	attrs     []string
	paged     bool
	pageSize  int
	cookie    []byte
}

// searchDone is what a finished search reports.
type searchDone struct {
	cookie    []byte // the paging cookie of the next page; empty on the last
	paged     bool   // the server answered with a paging control
	referrals int    // continuation references skipped
}

// search sends req and hands every entry to each, as a view that is valid
// only during the call. A result code other than success is an error
// (*ldap.Error); the entries already handed over stay handed over, so the
// caller must discard them.
func (w *wire) search(req *searchRequest, each func(*entry) error) (searchDone, error) {
	body := appendStr(nil, tagOctetString, req.base)
	body = appendInt(body, tagEnumerated, req.scope)
	body = appendInt(body, tagEnumerated, 0) // neverDerefAliases
	body = appendInt(body, tagInteger, req.sizeLimit)
	body = appendInt(body, tagInteger, req.timeLimit)
	body = append(body, tagBoolean, 1, 0) // typesOnly false
	body = append(body, req.filter...)
	var attrs []byte
	for _, a := range req.attrs {
		attrs = appendStr(attrs, tagOctetString, a)
	}
	body = appendTLV(body, tagSequence, attrs)
	var controls [][]byte
	if req.paged {
		value := appendInt(nil, tagInteger, req.pageSize)
		value = appendTLV(value, tagOctetString, req.cookie)
		c := appendStr(nil, tagOctetString, oidPagedResults)
		c = appendTLV(c, tagOctetString, appendTLV(nil, tagSequence, value))
		controls = append(controls, appendTLV(nil, tagSequence, c))
	}
	if err := w.send(appendTLV(nil, tagSearchRequest, body), controls...); err != nil {
		return searchDone{}, err
	}
	var done searchDone
	for {
		r, err := w.read()
		if err != nil {
			return done, err
		}
		switch r.op {
		case tagSearchEntry:
			if err := w.ent.decode(r.body); err != nil {
				return done, err
			}
			if err := each(&w.ent); err != nil {
				return done, err
			}
		case tagSearchRef:
			done.referrals++
		case tagIntermediate:
		case tagSearchDone:
			res, _ := decodeResult(r.body)
			if res.err != nil {
				return done, res.err
			}
			done.cookie, done.paged, err = pagingCookie(r.controls)
			return done, err
		default:
			return done, fmt.Errorf("%w: unexpected tag %#x in a search", errMalformed, r.op)
		}
	}
}

// pagingCookie finds the paged-results control among the response controls
// and returns its cookie.
func pagingCookie(controls []byte) (cookie []byte, found bool, err error) {
	for len(controls) > 0 {
		var c []byte
		if _, c, controls, err = splitTLV(controls); err != nil {
			return nil, false, fmt.Errorf("%w: bad control", errMalformed)
		}
		_, oid, rest, err := splitTLV(c)
		if err != nil || string(oid) != oidPagedResults {
			continue
		}
		if len(rest) > 0 && rest[0] == tagBoolean {
			_, _, rest, _ = splitTLV(rest)
		}
		_, value, _, err := splitTLV(rest)
		if err == nil {
			_, value, _, err = splitTLV(value) // SEQUENCE { size, cookie }
		}
		var tag byte
		if err == nil {
			_, _, value, err = splitTLV(value)
		}
		if err == nil {
			tag, cookie, _, err = splitTLV(value)
		}
		if err != nil || tag != tagOctetString {
			return nil, false, fmt.Errorf("%w: bad paged-results control", errMalformed)
		}
		return cookie, true, nil
	}
	return nil, false, nil
}

// entry is a SearchResultEntry decoded in place: its slices point into the
// message buffer and are valid until the next message is read.
type entry struct {
	dn    []byte
	attrs []attribute
	vals  [][]byte
}

// attribute is one attribute of an entry: its name, and its values
// vals[first:first+n].
type attribute struct {
	name     []byte
	first, n int
}

// decode fills e from the content of a SearchResultEntry, reusing its slices.
func (e *entry) decode(body []byte) error {
	e.attrs, e.vals = e.attrs[:0], e.vals[:0]
	tag, dn, rest, err := splitTLV(body)
	if err != nil || tag != tagOctetString {
		return fmt.Errorf("%w: entry without a DN", errMalformed)
	}
	e.dn = dn
	if _, rest, _, err = splitTLV(rest); err != nil { // PartialAttributeList
		return fmt.Errorf("%w: entry %s: no attribute list", errMalformed, dn)
	}
	for len(rest) > 0 {
		var a []byte
		if _, a, rest, err = splitTLV(rest); err != nil {
			return fmt.Errorf("%w: entry %s: %v", errMalformed, dn, err)
		}
		_, name, vals, err := splitTLV(a)
		if err != nil {
			return fmt.Errorf("%w: entry %s: attribute without a type", errMalformed, dn)
		}
		if _, vals, _, err = splitTLV(vals); err != nil {
			return fmt.Errorf("%w: entry %s: attribute %s without values", errMalformed, dn, name)
		}
		at := attribute{name: name, first: len(e.vals)}
		for len(vals) > 0 {
			var v []byte
			if _, v, vals, err = splitTLV(vals); err != nil {
				return fmt.Errorf("%w: entry %s: attribute %s: %v", errMalformed, dn, name, err)
			}
			e.vals = append(e.vals, v)
		}
		at.n = len(e.vals) - at.first
		e.attrs = append(e.attrs, at)
	}
	return nil
}

// DN returns the entry's DN as the server sent it.
func (e *entry) DN() string { return string(e.dn) }

// values returns a's values.
func (e *entry) values(a attribute) [][]byte { return e.vals[a.first : a.first+a.n] }

// first returns a's first value, or nil.
func (e *entry) first(a attribute) []byte {
	if a.n == 0 {
		return nil
	}
	return e.vals[a.first]
}

// equalFold compares an attribute name with an ASCII name, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
