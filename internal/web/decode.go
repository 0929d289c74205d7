package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MaxBody is the default cap on request bodies; larger ones get 413.
const MaxBody = 1 << 20

// DecodeJSON reads the body into dst strictly: the content type must be JSON, unknown
// fields and trailing data are refused, and a body over the limit is a 413. Errors
// carry a JSON pointer to the offending member where one can be named.
func DecodeJSON(r *http.Request, dst any) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return Errorf(http.StatusUnsupportedMediaType, "unsupported-media-type",
			"Send the body as application/json (got %q).", ct)
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeStrict(body, dst)
}

// readBody reads the whole body, turning an over-limit body (see LimitBody) into a 413.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, Errorf(http.StatusRequestEntityTooLarge, "too-large", "The body is larger than %d bytes.", mbe.Limit)
		}
		return nil, Errorf(http.StatusBadRequest, "bad-request", "The body could not be read.")
	}
	return body, nil
}

func decodeStrict(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Status: 400, Type: "bad-json", Title: "Bad Request",
			Detail: "The body holds data after the JSON value."}
	}
	return nil
}

func jsonError(body []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return &Error{Status: 400, Type: "bad-json", Title: "Bad Request", Detail: "The body is empty; send a JSON object."}
	case errors.As(err, &syn):
		line, col := position(body, syn.Offset)
		return &Error{Status: 400, Type: "bad-json", Title: "Bad Request",
			Detail: fmt.Sprintf("Malformed JSON at line %d, column %d: %s.", line, col, syn.Error())}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: 400, Type: "bad-json", Title: "Bad Request", Detail: "The JSON ends too early."}
	case errors.As(err, &typ):
		ptr := "/" + strings.ReplaceAll(typ.Field, ".", "/")
		return Invalid(FieldError{Pointer: ptr, Message: fmt.Sprintf("must be %s, not %s", kindName(typ.Type.Kind().String()), typ.Value)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Invalid(FieldError{Pointer: "/" + name, Message: "unknown field"})
	}
	return &Error{Status: 400, Type: "bad-json", Title: "Bad Request", Detail: "The body is not valid JSON.", Err: err}
}

func kindName(k string) string {
	switch k {
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return k
}

func position(b []byte, off int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < off && i < int64(len(b)); i++ {
		if b[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
