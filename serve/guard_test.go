package serve_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recur-ml/recur/serve"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// send makes one request with the given headers and returns the status,
// the headers and the body.
func send(t testing.TB, ts *httptest.Server, method, path, body string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestAdmission: the Host allow-list, the bearer token and the JSON
// content type are checked before the body is read.
func TestAdmission(t *testing.T) {
	ts := newServer(t, lmModel(t), serve.Options{AllowedHosts: serve.LoopbackHosts, AuthToken: "s3cret", Name: "/home/me/runs/x/model.safetensors"})
	json := "application/json"
	auth := "Bearer s3cret"
	body := `{"prompt":"a","length":2}`
	for _, tc := range []struct {
		name         string
		method, path string
		hdr          map[string]string
		status       int
		want         string
	}{
		{"ok", "POST", "/v1/predict", map[string]string{"Content-Type": json, "Authorization": auth}, 200, `"task":"lm"`},
		{"localhost name", "POST", "/v1/predict", map[string]string{"Content-Type": json, "Authorization": auth, "Host": "localhost:9"}, 200, `"task":"lm"`},
		{"rebinding name", "POST", "/v1/predict", map[string]string{"Content-Type": json, "Authorization": auth, "Host": "evil.example:8080"}, 403, `"field":"Host"`},
		{"no token", "POST", "/v1/predict", map[string]string{"Content-Type": json}, 401, "bearer token"},
		{"wrong token", "GET", "/v1/model", map[string]string{"Authorization": "Bearer s3cre"}, 401, "bearer token"},
		{"health is open", "GET", "/healthz", nil, 200, "ok"},
		{"text/plain", "POST", "/v1/predict", map[string]string{"Content-Type": "text/plain", "Authorization": auth}, 415, "application/json"},
		{"form", "POST", "/v1/predict", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": auth}, 415, "application/json"},
		{"json with charset", "POST", "/v1/predict", map[string]string{"Content-Type": "application/json; charset=utf-8", "Authorization": auth}, 200, `"task":"lm"`},
		{"model info has no path", "GET", "/v1/model", map[string]string{"Authorization": auth}, 200, `"name":"model.safetensors"`},
	} {
		code, h, b := send(t, ts, tc.method, tc.path, body, tc.hdr)
		if code != tc.status || !strings.Contains(b, tc.want) {
			t.Errorf("%s: got %d %s, want %d with %q", tc.name, code, b, tc.status, tc.want)
		}
		if code == 401 && h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
		}
		if strings.Contains(b, "/home/me") {
			t.Errorf("%s: the response shows a local path: %s", tc.name, b)
		}
	}
}

// TestTimeoutFreesSlot: a request past its deadline is cancelled, not
// left computing (10^8 tokens would take minutes): the next request gets
// the only slot within its own deadline.
func TestTimeoutFreesSlot(t *testing.T) {
	ts := newServer(t, lmModel(t), serve.Options{Timeout: 300 * time.Millisecond, Concurrency: 1, Queue: 1, MaxLength: 1 << 30, Logger: quiet})
	code, b := post(t, ts, `{"prompt":"a","length":100000000}`)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("long request: got %d %s, want 503", code, b)
	}
	code, b = post(t, ts, `{"prompt":"a","length":2}`)
	if code != 200 {
		t.Fatalf("next request: got %d %s, want 200 (the slot was not freed)", code, b)
	}
}

// TestQueueFull: with the slot taken and the queue full, a request is
// answered 503 with Retry-After at once instead of waiting.
func TestQueueFull(t *testing.T) {
	ts := newServer(t, lmModel(t), serve.Options{Timeout: 3 * time.Second, Concurrency: 1, Queue: 1, MaxLength: 1 << 30, Logger: quiet})
	long := `{"prompt":"a","length":100000000}`
	var wg sync.WaitGroup
	for range 2 { // one computes, one waits
		wg.Add(1)
		go func() { defer wg.Done(); sendWithin(t, ts, 5*time.Second, long) }()
		time.Sleep(200 * time.Millisecond)
	}
	start := time.Now()
	code, h, b := sendWithin(t, ts, 2*time.Second, `{"prompt":"a","length":1}`)
	if code != 503 || !strings.Contains(b, "busy") || h.Get("Retry-After") == "" {
		t.Errorf("got %d %s (Retry-After %q), want 503 busy with Retry-After", code, b, h.Get("Retry-After"))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the refusal took %v: it waited in the queue", d)
	}
	wg.Wait()
}

// sendWithin posts body and gives up after d (status 0).
func sendWithin(t testing.TB, ts *httptest.Server, d time.Duration, body string) (int, http.Header, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/predict", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestSlowBody: a body that stops arriving gets 408, and the message does
// not show socket addresses.
func TestSlowBody(t *testing.T) {
	s, err := serve.New(lmModel(t), serve.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s)
	ts.Config.ReadTimeout = 200 * time.Millisecond
	ts.Start()
	defer ts.Close()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"prompt\":")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	got := string(b)
	if !strings.HasPrefix(got, "HTTP/1.1 408") || !strings.Contains(got, "did not arrive in time") {
		t.Errorf("got %q, want a 408 saying the body did not arrive", got)
	}
	if strings.Contains(got, "127.0.0.1:") {
		t.Errorf("the answer shows socket addresses: %q", got)
	}
}
