package serve

import (
	"context"
	"crypto/subtle"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/recur-ml/recur/data/input"
)

// admit refuses a request before any of its body is read: a Host not
// allowed (403), a missing or wrong bearer token (401). The probes
// (/healthz, /readyz) need no token: a load balancer or an orchestrator
// asks them without one, and they tell nothing about the model.
func (s *Server) admit(r *http.Request) *Error {
	if len(s.opts.AllowedHosts) > 0 && !hostAllowed(r.Host, s.opts.AllowedHosts) {
		return &Error{Status: http.StatusForbidden, Field: "Host", Message: fmt.Sprintf("host %s is not served here", input.Quote(r.Host))}
	}
	if s.opts.AuthToken != "" && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.AuthToken)) != 1 {
			return &Error{Status: http.StatusUnauthorized, Field: "Authorization", Message: "a valid bearer token is required"}
		}
	}
	return nil
}

// jsonBody refuses a body not declared JSON (415). This matters beyond
// tidiness: a browser sends a cross-site form or text/plain POST without
// asking the server first, but a JSON one only after a CORS preflight
// this server never grants.
func jsonBody(r *http.Request) *Error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &Error{Status: http.StatusUnsupportedMediaType, Field: "Content-Type", Message: "want application/json"}
	}
	return nil
}

// hostAllowed reports whether the Host header names one of allowed,
// whatever its port.
func hostAllowed(host string, allowed []string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	for _, a := range allowed {
		if strings.EqualFold(host, strings.Trim(a, "[]")) {
			return true
		}
	}
	return false
}

// LoopbackHosts are the Host names of a server bound to a loopback
// address: what AllowedHosts should hold for one.
var LoopbackHosts = []string{"localhost", "127.0.0.1", "::1"}

// acquire waits for a computing slot until ctx ends, unless Queue
// requests already wait; it reports whether the slot was taken.
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.slot <- struct{}{}:
		return true
	default:
	}
	if s.waiting.Add(1) > int64(s.opts.Queue) {
		s.waiting.Add(-1)
		return false
	}
	defer s.waiting.Add(-1)
	select {
	case s.slot <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// acquireBatch waits until the batch may compute (s.gate: a batch that
// can still take requests while fewer than half of the slots compute
// batches, one the batcher has closed while any slot is free) and for a
// computing slot, until ctx ends, unless Queue requests or batches
// already wait; it reports whether the batch may compute. One that may
// gives back the slot and leaves the gate when done (s.batchDone).
func (s *Server) acquireBatch(ctx context.Context, closed <-chan struct{}) bool {
	if ok, _ := s.gate.try(closed); !ok {
		if s.waiting.Add(1) > int64(s.opts.Queue) {
			s.waiting.Add(-1)
			return false
		}
		entered := s.gate.enter(ctx, closed)
		s.waiting.Add(-1)
		if !entered {
			return false
		}
	}
	if s.acquire(ctx) {
		return true
	}
	s.gate.leave()
	return false
}

// batchDone frees what acquireBatch took.
func (s *Server) batchDone() {
	<-s.slot
	s.gate.leave()
}

// tooMany is the 422 of a request over one of the server's limits.
func tooMany(field, what string, n, limit int, option string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Field: field,
		Message: fmt.Sprintf("%s: %d, over the server's limit of %d (%s)", what, n, limit, option)}
}
