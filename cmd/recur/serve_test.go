package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/model"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeShutdown trains a tiny forecaster, serves it on a loopback port
// chosen by the system, checks a prediction against the model's own, and
// cancels the context (as SIGINT does): the command must return nil.
func TestServeShutdown(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"train", "--epochs", "1", "--hidden", "4", "--out", dir}, &out, &out); err != nil {
		t.Fatalf("train: %v\n%s", err, out.String())
	}
	fc, f, body := forecastRequest(t, filepath.Join(dir, "model.safetensors"))
	pl := fc.Prep().Pipeline
	want, err := fc.Predict(f)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	addr, done := startServe(t, ctx, &serveOpts{Model: dir}, &logs)
	if !strings.Contains(logs.String(), "http://"+addr) {
		t.Errorf("log %q does not give the address %s", logs.String(), addr)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post("http://"+addr+"/v1/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got struct{ Forecast map[string][]float32 }
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("predict: %d %s (%v)", resp.StatusCode, b, err)
	}
	if g := got.Forecast[pl.Targets[0]]; len(g) != pl.Horizon || g[0] != float32(want.Values[0][0]) {
		t.Errorf("served forecast %v, want the model's %v", g, want.Values)
	}
	resp, err = c.Get("http://" + addr + "/v1/model")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"metrics":{"baselines"`) {
		t.Errorf("model info %s lacks the training metrics", b)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after cancel: %v\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down within 20s of the cancel")
	}
	if _, err := c.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestServeFlags(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "token")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "--model is required"},
		{[]string{"serve", "--model", dir, "--max-body", "0"}, "flag --max-body: 0: want >= 1"},
		{[]string{"serve", "--model", dir, "--timeout", "-1s"}, "flag --timeout: -1s"},
		{[]string{"serve", "--model", dir, "--max-tokens", "-1"}, "flag --max-tokens: -1"},
		{[]string{"serve", "--model", dir, "--queue", "-2"}, "flag --queue: -2"},
		{[]string{"serve", "--model", dir, "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"serve", "--model", dir, "--tls-cert", "c.pem", "--tls-key", "k.pem"}, "--tls-cert/--tls-key"},
		{[]string{"serve", "--model", dir, "--auth-token-file", filepath.Join(dir, "none")}, "--auth-token-file"},
		{[]string{"serve", "--model", dir, "--auth-token-file", short}, "at least 16 characters"},
		{[]string{"serve", "--model", filepath.Join(dir, "none")}, "--model"},
		{[]string{"serve", "--model", dir, "extra"}, "unexpected argument"},
		{[]string{"serve", "--model", dir, "--max-batch", "-1"}, "flag --max-batch: -1"},
		{[]string{"serve", "--model", dir, "--batch-wait", "5s"}, "flag --batch-wait: 5s"},
		{[]string{"serve", "--model", dir, "--log-format", "xml"}, "flag --log-format: xml: want text or json"},
		{[]string{"serve", "--model", dir, "--log-level", "loud"}, "flag --log-level: loud"},
		{[]string{"serve", "--model", dir, "--drain-delay", "-1s"}, "flag --drain-delay: -1s"},
		{[]string{"serve", "--model", dir, "--threads", "-1"}, "flag --threads: -1"},
	} {
		var out bytes.Buffer
		err := runMain(context.Background(), tc.args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// forecastRequest loads the forecaster in file and returns it, a frame of
// lookback values and the request body of the same values.
func forecastRequest(t *testing.T, file string) (*model.Forecaster, *series.Frame, []byte) {
	t.Helper()
	fc, err := model.LoadForecaster(file)
	if err != nil {
		t.Fatal(err)
	}
	pl := fc.Prep().Pipeline
	vals := make([]float64, pl.Lookback)
	for i := range vals {
		vals[i] = 300 + float64(i*7%50)
	}
	f, err := series.NewFrame(pl.Columns, [][]float64{vals})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"values": map[string][]float64{pl.Columns[0]: vals}})
	return fc, f, body
}

// startServe runs runServe with o on a loopback port of the system's
// choice and returns the address once it listens and the channel of its
// result.
func startServe(t *testing.T, ctx context.Context, o *serveOpts, logs *syncBuffer) (string, chan error) {
	t.Helper()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	o.Addr, o.MaxBody, o.Timeout, o.ready = "127.0.0.1:0", 1<<16, 5*time.Second, func(a string) { addrc <- a }
	go func() { done <- runServe(ctx, o, logs) }()
	select {
	case addr := <-addrc:
		return addr, done
	case err := <-done:
		t.Fatalf("serve returned before listening: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start listening within 20s")
	}
	return "", nil
}

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files
// and returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (cert, key string, pool *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "recur test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return cert, key, pool
}

// TestServeTLSAndToken serves over HTTPS with a bearer token on loopback:
// no token is 401, a foreign Host 403, the token 200, and plain HTTP does
// not get an answer.
func TestServeTLSAndToken(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"train", "--epochs", "1", "--hidden", "4", "--out", dir, "--no-report"}, &out, &out); err != nil {
		t.Fatalf("train: %v\n%s", err, out.String())
	}
	cert, key, pool := selfSigned(t, dir)
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("0123456789abcdef-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	addr, done := startServe(t, ctx, &serveOpts{Model: dir, TokenFile: tokenFile, TLSCert: cert, TLSKey: key}, &logs)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, tc := range []struct {
		name, host, token string
		want              int
	}{
		{"no token", "", "", 401},
		{"foreign host", "rebind.example", "0123456789abcdef-token", 403},
		{"token", "", "0123456789abcdef-token", 200},
	} {
		req, _ := http.NewRequest("GET", "https://"+addr+"/v1/model", nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: got %d %s, want %d", tc.name, resp.StatusCode, b, tc.want)
		}
		if strings.Contains(string(b), dir) {
			t.Errorf("%s: the answer shows the model's local path: %s", tc.name, b)
		}
	}
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Error("plain HTTP was answered 200 by a TLS server")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve after cancel: %v\n%s", err, logs.String())
	}
}

// TestServeReloadAndDrain: SIGHUP puts a new model file in service; a
// broken one is logged and the old model keeps answering; with
// --log-level debug every request is a JSON log line; at shutdown /readyz
// answers 503 during --drain-delay while predictions are still answered.
func TestServeReloadAndDrain(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"train", "--epochs", "1", "--hidden", "4", "--out", dir, "--no-report"}, &out, &out); err != nil {
		t.Fatalf("train: %v\n%s", err, out.String())
	}
	file := filepath.Join(dir, "model.safetensors")
	fc, frame, body := forecastRequest(t, file)
	pl := fc.Prep().Pipeline

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	hup := make(chan os.Signal, 1)
	addr, done := startServe(t, ctx, &serveOpts{Model: dir, hup: hup, LogFormat: "json", LogLevel: "debug", DrainDelay: 2 * time.Second}, &logs)
	c := &http.Client{Timeout: 10 * time.Second}
	forecast := func() (int, float32) {
		resp, err := c.Post("http://"+addr+"/v1/predict", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct{ Forecast map[string][]float32 }
		json.NewDecoder(resp.Body).Decode(&got)
		if len(got.Forecast[pl.Targets[0]]) == 0 {
			return resp.StatusCode, 0
		}
		return resp.StatusCode, got.Forecast[pl.Targets[0]][0]
	}
	wantOf := func(fc *model.Forecaster) float32 {
		y, err := fc.Predict(frame)
		if err != nil {
			t.Fatal(err)
		}
		return float32(y.Values[0][0])
	}
	if _, v := forecast(); v != wantOf(fc) {
		t.Fatalf("first model: served %v, want %v", v, wantOf(fc))
	}

	// A retrained model, written as training writes it (a new file renamed
	// into place).
	for _, p := range fc.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] *= 1.5
		}
	}
	if err := fc.Save(file); err != nil {
		t.Fatal(err)
	}
	want := wantOf(fc)
	hup <- syscall.SIGHUP
	deadline := time.Now().Add(10 * time.Second)
	for _, v := forecast(); v != want; _, v = forecast() {
		if time.Now().After(deadline) {
			t.Fatalf("after SIGHUP: served %v, want the new model's %v\n%s", v, want, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(file+".tmp", []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	for !strings.Contains(logs.String(), "reload failed") {
		if time.Now().After(deadline) {
			t.Fatalf("a broken file was not logged:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, v := forecast(); code != 200 || v != want {
		t.Errorf("after a broken reload: %d %v, want 200 and the last good model's %v", code, v, want)
	}
	requestLines := 0
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if rec["msg"] == "request" && rec["route"] == "/v1/predict" && rec["status"] == float64(200) && rec["bytes"].(float64) > 0 {
			requestLines++
		}
	}
	if requestLines < 3 {
		t.Errorf("%d request lines for the predictions, want one each:\n%s", requestLines, logs.String())
	}

	cancel()
	ready := func() int {
		resp, err := c.Get("http://" + addr + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for ready() != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("/readyz never answered 503 after the shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code, _ := forecast(); code != 200 {
		t.Errorf("a prediction while draining: %d, want 200", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve after cancel: %v\n%s", err, logs.String())
	}
}

// TestServeGlobal trains a global forecaster on a folder of two series and
// serves it: a request naming a training series is answered in its units.
func TestServeGlobal(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	for s, level := range []float64{10, 1000} {
		var b strings.Builder
		b.WriteString("t,y\n")
		for i := range 48 {
			fmt.Fprintf(&b, "%d,%g\n", i, level*(5+math.Sin(float64(i)/2)))
		}
		if err := os.WriteFile(filepath.Join(data, fmt.Sprintf("s%d.csv", s)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := runMain(context.Background(), []string{"train", "--data", data, "--epochs", "1", "--hidden", "4", "--lookback", "6", "--out", dir, "--no-report"}, &out, &out); err != nil {
		t.Fatalf("train: %v\n%s", err, out.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	addr, done := startServe(t, ctx, &serveOpts{Model: dir}, &logs)
	body := `{"series":"s1","values":{"y":[5000,5400,5800,6000,5900,5600]}}`
	resp, err := http.Post("http://"+addr+"/v1/predict", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got struct{ Forecast map[string][]float32 }
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 || len(got.Forecast["y"]) != 1 {
		t.Fatalf("predict: %d %s (%v)", resp.StatusCode, b, err)
	}
	// In s1's units (level 1000), not s0's nor the scaled space's.
	if v := got.Forecast["y"][0]; v < 1000 || v > 20000 {
		t.Errorf("forecast %v: not in s1's units", v)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
}
