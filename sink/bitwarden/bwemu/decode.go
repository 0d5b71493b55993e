package bwemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// guid is a request GUID: a JSON string in 8-4-4-4-12 form, any case, kept
// lowercased. Anything else fails conversion like System.Guid does.
type guid string

// permissive is a string that also accepts a JSON number, like Bitwarden's
// PermissiveStringConverter on import externalIds.
type permissive string

// enumInt is an enum: a number, or a quoted number; names like "User" fail
// (MVC registers no string enum converter).
type enumInt int

var (
	guidType       = reflect.TypeFor[guid]()
	permissiveType = reflect.TypeFor[permissive]()
	enumType       = reflect.TypeFor[enumInt]()
)

// readModel reads r's JSON body into dst the way ASP.NET MVC binds a
// [FromBody] model: 415 for a non-JSON content type, and for an empty or
// unconvertible body the model-state error with `$.path` keys plus
// `"": ["Body is empty."]`. Property names match case-insensitively, unknown
// properties are ignored, and numbers may come as strings.
func readModel(r *http.Request, dst any) *apiError {
	if !isJSON(r.Header.Get("Content-Type")) {
		return &apiError{status: http.StatusUnsupportedMediaType, message: "Unsupported Media Type"}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return modelState(map[string][]string{"": {"Body is empty."}})
	}
	if errs := bindJSON(body, dst); errs != nil {
		return modelState(errs)
	}
	return nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// bindJSON decodes data into dst, returning the model-state errors of a
// failed conversion or nil.
func bindJSON(data []byte, dst any) map[string][]string {
	empty := map[string][]string{"": {"Body is empty."}}
	if len(bytes.TrimSpace(data)) == 0 {
		return empty
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("'}' is invalid after a single JSON value. Expected end of data")
		}
	}
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "json: ")
		var se *json.SyntaxError
		if errors.As(err, &se) {
			msg = fmt.Sprintf("%s. Path: $ | LineNumber: 0 | BytePositionInLine: %d.", msg, se.Offset)
		}
		return map[string][]string{"$": {msg}, "": {"Body is empty."}}
	}
	if v == nil {
		return empty
	}
	if path, typ, bad := bind(v, reflect.ValueOf(dst).Elem(), "$"); bad {
		return map[string][]string{
			path: {fmt.Sprintf("The JSON value could not be converted to %s. Path: %s | LineNumber: 0 | BytePositionInLine: 0.", typ, path)},
			"":   {"Body is empty."},
		}
	}
	return nil
}

// bind converts the generic JSON value v into dst. On failure it returns the
// JSON path and the .NET type name of the first value that failed, as
// System.Text.Json stops at the first error.
func bind(v any, dst reflect.Value, path string) (string, string, bool) {
	t := dst.Type()
	switch t.Kind() {
	case reflect.Pointer:
		if v == nil {
			dst.SetZero()
			return "", "", false
		}
		p := reflect.New(t.Elem())
		if at, typ, bad := bind(v, p.Elem(), path); bad {
			if at == path {
				typ = nullableName(t.Elem())
			}
			return at, typ, bad
		}
		dst.Set(p)
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return path, "Bit.Api.Models." + t.Name(), true
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			val, key, found := lookup(obj, name)
			if !found {
				continue
			}
			if path, typ, bad := bind(val, dst.Field(i), path+"."+key); bad {
				return path, typ, bad
			}
		}
	case reflect.Slice:
		if v == nil {
			dst.SetZero()
			return "", "", false
		}
		arr, ok := v.([]any)
		if !ok {
			return path, "System.Collections.Generic.IEnumerable`1[" + netName(t.Elem()) + "]", true
		}
		out := reflect.MakeSlice(t, len(arr), len(arr))
		for i, e := range arr {
			if path, typ, bad := bind(e, out.Index(i), fmt.Sprintf("%s[%d]", path, i)); bad {
				return path, typ, bad
			}
		}
		dst.Set(out)
	default:
		if !bindScalar(v, dst) {
			return path, netName(t), true
		}
	}
	return "", "", false
}

func bindScalar(v any, dst reflect.Value) bool {
	t := dst.Type()
	switch {
	case t == guidType:
		s, ok := v.(string)
		if !ok {
			return false
		}
		g, ok := parseGUID(s)
		if !ok {
			return false
		}
		dst.SetString(g)
	case t == permissiveType:
		switch x := v.(type) {
		case nil:
			dst.SetString("")
		case string:
			dst.SetString(x)
		case json.Number:
			dst.SetString(x.String())
		default:
			return false
		}
	case t == enumType:
		var text string
		switch x := v.(type) {
		case json.Number:
			text = x.String()
		case string:
			text = x // quoted numbers are read too (AllowReadingFromString)
		default:
			return false
		}
		i, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			return false
		}
		dst.SetInt(i)
	case t.Kind() == reflect.String:
		switch x := v.(type) {
		case nil:
			dst.SetString("")
		case string:
			dst.SetString(x)
		default:
			return false
		}
	case t.Kind() == reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return false
		}
		dst.SetBool(b)
	case t.Kind() == reflect.Int:
		var text string
		switch x := v.(type) {
		case json.Number:
			text = x.String()
		case string:
			text = x // AllowReadingFromString
		default:
			return false
		}
		i, err := strconv.ParseInt(text, 10, 32)
		if err != nil {
			return false
		}
		dst.SetInt(i)
	default:
		return false
	}
	return true
}

// lookup finds a property by name, exactly first, then case-insensitively.
func lookup(obj map[string]any, name string) (any, string, bool) {
	if v, ok := obj[name]; ok {
		return v, name, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return v, k, true
		}
	}
	return nil, "", false
}

func netName(t reflect.Type) string {
	switch {
	case t == guidType:
		return "System.Guid"
	case t == enumType:
		return "Bit.Core.Enums.OrganizationUserType"
	case t.Kind() == reflect.String:
		return "System.String"
	case t.Kind() == reflect.Bool:
		return "System.Boolean"
	case t.Kind() == reflect.Int:
		return "System.Int32"
	case t.Kind() == reflect.Pointer:
		return nullableName(t.Elem())
	}
	return "Bit.Api.Models." + t.Name()
}

func nullableName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool, reflect.Int:
		return "System.Nullable`1[" + netName(t) + "]"
	}
	if t == guidType {
		return "System.Nullable`1[System.Guid]"
	}
	return netName(t)
}
