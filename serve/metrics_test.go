package serve_test

import (
	"bytes"
	"io"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/recur-ml/recur/serve"
)

// scrape returns the text of GET /metrics, sent with token when not empty.
func scrape(t testing.TB, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// metricValue is the value of one series ("name" or `name{a="b"}`) in a
// scrape, NaN when absent.
func metricValue(scrape, series string) float64 {
	for _, line := range strings.Split(scrape, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.Fields(v)[0], 64)
			if err == nil {
				return f
			}
		}
	}
	return math.NaN()
}

// TestMetrics: after some requests, /metrics counts them by route and
// status, times them, and shows the model; it needs the token when one is
// set; two servers in one process keep their own counts.
func TestMetrics(t *testing.T) {
	m := classifyModel(t)
	ts := newServer(t, m, serve.Options{Name: "/runs/imdb/model.safetensors", AuthToken: "tok", Logger: quiet})
	other := newServer(t, m, serve.Options{Logger: quiet})
	auth := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer tok"}
	for range 3 {
		if code, _, b := send(t, ts, "POST", "/v1/predict", `{"texts":["a fine film"]}`, auth); code != 200 {
			t.Fatalf("predict: %d %s", code, b)
		}
	}
	send(t, ts, "POST", "/v1/predict", `{"texts":[]}`, auth)
	send(t, ts, "POST", "/v1/predict", `{"texts":["a"]}`, map[string]string{"Content-Type": "application/json"})
	send(t, ts, "GET", "/healthz", "", nil)
	send(t, ts, "GET", "/no/such/path", "", auth)
	send(t, other, "GET", "/healthz", "", nil)

	if code, _, _ := send(t, ts, "GET", "/metrics", "", nil); code != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}
	got := scrape(t, ts.URL, "tok")
	for series, want := range map[string]float64{
		`recur_http_requests_total{code="200",route="/v1/predict"}`:                 3,
		`recur_http_requests_total{code="400",route="/v1/predict"}`:                 1,
		`recur_http_requests_total{code="401",route="/v1/predict"}`:                 1,
		`recur_http_requests_total{code="200",route="/healthz"}`:                    1,
		`recur_http_requests_total{code="404",route="other"}`:                       1,
		`recur_http_requests_total{code="401",route="/metrics"}`:                    1,
		`recur_http_request_duration_seconds_count{route="/v1/predict"}`:            5,
		`recur_http_requests_in_flight`:                                             1, // the scrape itself
		`recur_model_info{name="model.safetensors",task="classify"}`:                1,
		`recur_model_parameters`:                                                    float64(m.NumParams()),
		`recur_queue_length`:                                                        0,
		`recur_computing_slots`:                                                     float64(defaultSlots()),
		`recur_model_reloads_total{result="error"}`:                                 0,
		`recur_http_request_duration_seconds_bucket{route="/v1/predict",le="+Inf"}`: 5,
	} {
		if v := metricValue(got, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "recur_batch_rows_count"} {
		if math.IsNaN(metricValue(got, name)) {
			t.Errorf("%s missing from the scrape", name)
		}
	}
	if o := scrape(t, other.URL, ""); metricValue(o, `recur_http_requests_total{code="200",route="/healthz"}`) != 1 ||
		!math.IsNaN(metricValue(o, `recur_http_requests_total{code="200",route="/v1/predict"}`)) {
		t.Errorf("the second server's counts mix with the first's:\n%s", o)
	}
}

// TestRequestLog: at debug level every request is logged with its
// method, route, status, duration and bytes; at info level it is not.
func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	m := classifyModel(t)
	ts := newServer(t, m, serve.Options{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	send(t, ts, "POST", "/v1/predict", `{"texts":["a fine film"]}`, map[string]string{"Content-Type": "application/json"})
	line := regexp.MustCompile(`\{"time":"[^"]+","level":"DEBUG","msg":"request","method":"POST","route":"/v1/predict","status":200,"duration":\d+,"bytes":(\d+)\}`)
	mm := line.FindStringSubmatch(buf.String())
	if mm == nil || mm[1] == "0" {
		t.Errorf("log %q: no request line with method, route, status, duration and bytes", buf.String())
	}
	buf.Reset()
	quietTS := newServer(t, m, serve.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	send(t, quietTS, "GET", "/healthz", "", nil)
	if strings.Contains(buf.String(), `"msg":"request"`) {
		t.Errorf("a request line at info level: %s", buf.String())
	}
}

func defaultSlots() int { return runtime.GOMAXPROCS(0) }
