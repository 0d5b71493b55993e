package bwemu

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// The fixed messages of the Public API's error envelope.
const (
	msgModelState       = "The request's model state is invalid."
	msgResourceNotFound = "Resource not found."
	msgUnhandled        = "An unhandled server error has occurred."
	msgNeedOwner        = "Organization must have at least one confirmed owner."
)

// apiError is a Public API failure: the status plus the error envelope, or
// an empty body (a controller's NotFoundResult).
type apiError struct {
	status  int
	message string
	errors  map[string][]string
	empty   bool
}

func (e *apiError) Error() string { return strconv.Itoa(e.status) + " " + e.message }

// badRequest is a BadRequestException: 400 with the message, errors null.
func badRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, message: msg}
}

// notFoundEmpty is a controller's NotFoundResult: 404 with no body.
func notFoundEmpty() *apiError { return &apiError{status: http.StatusNotFound, empty: true} }

// resourceNotFound is a NotFoundException thrown from a command.
func resourceNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, message: msgResourceNotFound}
}

// unhandled is any other exception (a NullReferenceException, a duplicate
// dictionary key).
func unhandled() *apiError {
	return &apiError{status: http.StatusInternalServerError, message: msgUnhandled}
}

// modelState is a model validation failure.
func modelState(errs map[string][]string) *apiError {
	return &apiError{status: http.StatusBadRequest, message: msgModelState, errors: errs}
}

// errorEnvelope is ErrorResponseModel.
type errorEnvelope struct {
	Object  string              `json:"object"`
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors"`
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	switch {
	case e.empty:
		writeEmpty(w, e.status)
		return
	case e.status == http.StatusUnsupportedMediaType:
		writeRaw(w, e.status, "application/problem+json; charset=utf-8", []byte(
			`{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.16","title":"Unsupported Media Type","status":415}`))
		return
	}
	writeJSON(w, e.status, errorEnvelope{Object: "error", Message: e.message, Errors: e.errors})
}

// writeJSON writes v the way ASP.NET does: compact, no trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, status, "application/json; charset=utf-8", v)
}

func writeJSONType(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"object":"error","message":"`+msgUnhandled+`","errors":null}`)
	}
	writeRaw(w, status, contentType, b)
}

func writeRaw(w http.ResponseWriter, status int, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeEmpty writes a status with no body (an OkResult is 200, not 204).
func writeEmpty(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// listEnvelope is ListResponseModel; Legacy servers add a null
// continuationToken.
type listEnvelope struct {
	Object string `json:"object"`
	Data   any    `json:"data"`
}

type legacyListEnvelope struct {
	Object            string  `json:"object"`
	Data              any     `json:"data"`
	ContinuationToken *string `json:"continuationToken"`
}

func (s *Server) writeList(w http.ResponseWriter, data any) {
	if s.opt.Legacy {
		writeJSON(w, http.StatusOK, legacyListEnvelope{Object: "list", Data: data})
		return
	}
	writeJSON(w, http.StatusOK, listEnvelope{Object: "list", Data: data})
}

// nullable returns nil for an empty string, so that it is written as null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
