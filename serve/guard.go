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

// acquireBatch waits for a computing slot for a batch until ctx ends,
// unless Queue requests or batches already wait: while closed is open
// the batch takes a filling lane first; once closed is closed (the batch
// takes no more jobs), any free slot (see batch.go, "Slots"). It reports
// whether the slot was taken and whether a lane was, which the caller
// gives back with the slot.
func (s *Server) acquireBatch(ctx context.Context, closed <-chan struct{}) (lane, ok bool) {
	select {
	case <-closed:
	default:
		if lane, ok = s.takeLane(ctx, closed); !ok {
			return false, false
		}
	}
	if s.acquire(ctx) {
		return lane, true
	}
	if lane {
		<-s.filling
	}
	return false, false
}

// takeLane waits for a filling lane until closed is closed (then it goes
// on without one) or ctx ends, counted among the waiting; ok is false
// when ctx ended or Queue others already wait.
func (s *Server) takeLane(ctx context.Context, closed <-chan struct{}) (lane, ok bool) {
	select {
	case s.filling <- struct{}{}:
		return true, true
	default:
	}
	if s.waiting.Add(1) > int64(s.opts.Queue) {
		s.waiting.Add(-1)
		return false, false
	}
	defer s.waiting.Add(-1)
	select {
	case s.filling <- struct{}{}:
		return true, true
	case <-closed:
		return false, true
	case <-ctx.Done():
		return false, false
	}
}

// tooMany is the 422 of a request over one of the server's limits.
func tooMany(field, what string, n, limit int, option string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Field: field,
		Message: fmt.Sprintf("%s: %d, over the server's limit of %d (%s)", what, n, limit, option)}
}
