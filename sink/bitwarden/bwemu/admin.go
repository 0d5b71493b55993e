package bwemu

import (
	"encoding/json"
	"io"
	"net/http"
)

// adminRoutes serves /_emu/: state, faults, the request log, token expiry,
// stats and the SCIM switch. No authentication; not logged or counted.
func (s *Server) adminRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_emu/state", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Dump())
	})
	mux.HandleFunc("POST /_emu/state", func(w http.ResponseWriter, r *http.Request) {
		var org Org
		if !readAdmin(w, r, &org) {
			return
		}
		if err := s.Seed(org); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeEmpty(w, http.StatusOK)
	})
	mux.HandleFunc("GET /_emu/faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("POST /_emu/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if !readAdmin(w, r, &f) {
			return
		}
		s.AddFault(f)
		writeEmpty(w, http.StatusOK)
	})
	mux.HandleFunc("DELETE /_emu/faults", func(w http.ResponseWriter, _ *http.Request) {
		s.ClearFaults()
		writeEmpty(w, http.StatusOK)
	})
	mux.HandleFunc("GET /_emu/requests", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Requests())
	})
	mux.HandleFunc("DELETE /_emu/requests", func(w http.ResponseWriter, _ *http.Request) {
		s.ClearRequests()
		writeEmpty(w, http.StatusOK)
	})
	mux.HandleFunc("POST /_emu/expire-tokens", func(w http.ResponseWriter, _ *http.Request) {
		s.ExpireTokens()
		writeEmpty(w, http.StatusOK)
	})
	mux.HandleFunc("GET /_emu/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("POST /_emu/scim", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Enabled bool   `json:"enabled"`
			Key     string `json:"key"`
		}
		if !readAdmin(w, r, &req) {
			return
		}
		s.SetSCIM(req.Enabled)
		if req.Key != "" {
			s.SetSCIMKey(req.Key)
		}
		writeEmpty(w, http.StatusOK)
	})
	return mux
}

// readAdmin decodes an admin request body, answering 400 when it is bad.
func readAdmin(w http.ResponseWriter, r *http.Request, dst any) bool {
	b, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(b, dst)
	}
	if err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
