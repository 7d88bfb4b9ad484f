package reliability

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// attack is one hostile request.
type attack struct {
	name, method, ctype, host, body string
}

// corpus is the hostile requests of every task: oversized, deep, wrong
// types, non-finite numbers, huge prompts and sources, attention bombs,
// bad headers.
func corpus() []attack {
	words := strings.Repeat("the cat ", 131000) // 262,000 words, 1 MB
	var out []attack
	add := func(name, body string) {
		out = append(out, attack{name: name, method: "POST", ctype: "application/json", body: body})
	}
	add("oversized", `{"texts":["`+strings.Repeat("x", 3<<20)+`"]}`)
	add("deep array", `{"texts":`+strings.Repeat("[", 200000)+strings.Repeat("]", 200000)+`}`)
	add("deep object", strings.Repeat(`{"a":`, 100000)+"1"+strings.Repeat("}", 100000))
	add("wrong types", `{"texts":7,"prompt":[1],"values":"y","length":"many"}`)
	add("NaN", `{"values":{"y":[NaN,Infinity,-Infinity]}}`)
	add("huge numbers", `{"values":{"y":[1e999,-1e999,1e308]},"length":1e30,"seed":-1}`)
	add("null everything", `{"texts":null,"prompt":null,"values":null}`)
	add("huge prompt", `{"prompt":"`+words[:len(words)-1]+`","length":5}`)
	add("long generation", `{"prompt":"the","length":100000000}`)
	add("many texts", `{"texts":[`+strings.TrimSuffix(strings.Repeat(`"the cat",`, 100000), ",")+`]}`)
	add("long text", `{"texts":["`+words[:60000]+`"]}`)
	add("attention bomb", `{"texts":["`+words[:60000]+`"],"attention":true}`)
	add("attention bomb, many", `{"texts":[`+strings.TrimSuffix(strings.Repeat(`"`+words[:400]+`",`, 200), ",")+`],"attention":true,"max_length":1000}`)
	add("max_length", `{"texts":["1+2"],"max_length":1000000000}`)
	add("sampling", `{"prompt":"the","temperature":1e308,"top_k":-5,"top_p":2}`)
	add("invalid UTF-8", "{\"texts\":[\"\xff\xfe\xfd\"],\"prompt\":\"\xc3\x28\"}")
	add("NUL bytes", "{\"texts\":[\"a\x00b\"]}")
	add("trailing garbage", `{"texts":["a"]}{"texts":["b"]}`)
	add("empty", ``)
	add("unknown field", `{"textz":["a"]}`)
	add("lookback bomb", `{"values":{"y":[`+strings.TrimSuffix(strings.Repeat("1,", 200000), ",")+`]}}`)
	out = append(out,
		attack{name: "text/plain", method: "POST", ctype: "text/plain", body: `{"texts":["a"]}`},
		attack{name: "form", method: "POST", ctype: "application/x-www-form-urlencoded", body: `texts=a`},
		attack{name: "rebinding host", method: "POST", ctype: "application/json", host: "attacker.example", body: `{"texts":["a"]}`},
		attack{name: "GET predict", method: "GET", ctype: "", body: ``},
	)
	return out
}

// TestHostileRequests sends the corpus to a server of every task under a
// 2 GB address-space cap: no answer may be a 5xx but a 503 (a deadline),
// the process must live, and its peak memory stay under 1 GB.
func TestHostileRequests(t *testing.T) {
	need(t)
	runs := fixtures(t)
	for _, task := range []string{"forecast", "classify", "lm", "seq2seq"} {
		t.Run(task, func(t *testing.T) {
			s := startServer(t, runs[task], "--timeout", "5s", "--concurrency", "2")
			c := &http.Client{Timeout: 30 * time.Second}
			for _, a := range corpus() {
				req, _ := http.NewRequest(a.method, s.url+"/v1/predict", strings.NewReader(a.body))
				if a.ctype != "" {
					req.Header.Set("Content-Type", a.ctype)
				}
				if a.host != "" {
					req.Host = a.host
				}
				resp, err := c.Do(req)
				if err != nil {
					s.alive(t, a.name)
					t.Errorf("%s: %v", a.name, err)
					continue
				}
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
				resp.Body.Close()
				if resp.StatusCode >= 500 && resp.StatusCode != 503 {
					t.Errorf("%s: status %d: %s", a.name, resp.StatusCode, tail(string(b), 300))
				}
				if len(b) > 1<<20 {
					t.Errorf("%s: a %d-byte answer", a.name, len(b))
				}
				s.alive(t, a.name)
			}
			if rss := peakRSS(s.cmd.Process.Pid); rss > 1<<30 {
				t.Errorf("peak RSS %d MB, want < 1024 MB", rss>>20)
			} else {
				t.Logf("%s: peak RSS %d MB after %d hostile requests", task, rss>>20, len(corpus()))
			}
		})
	}
}

// TestSlowAndIdleClients: a slowloris connection is closed at the header
// timeout, a slow body gets 408 (long form), and a crowd of idle
// connections neither stops a normal request nor grows memory without
// bound.
func TestSlowAndIdleClients(t *testing.T) {
	need(t)
	runs := fixtures(t)
	s := startServer(t, runs["classify"])
	addr := strings.TrimPrefix(s.url, "http://")

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		for _, b := range []byte("POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ") {
			if _, err := c.Write([]byte{b}); err != nil {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		io.Copy(io.Discard, c)
		closed <- time.Since(start)
	}()

	idle := 200
	if long {
		idle = 2000
	}
	var conns []net.Conn
	for range idle {
		ic, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("idle connection %d: %v", len(conns), err)
		}
		conns = append(conns, ic)
	}
	defer func() {
		for _, ic := range conns {
			ic.Close()
		}
	}()
	resp, err := http.Post(s.url+"/v1/predict", "application/json", strings.NewReader(`{"texts":["the cat sat"]}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a normal request beside %d idle connections: %v %v", idle, err, resp)
	}
	discard(resp.Body)
	if d := <-closed; d > 15*time.Second {
		t.Errorf("the slowloris connection lived %v, want it closed at the 5s header timeout", d)
	}
	if long {
		slowBody(t, addr)
	}
	if rss := peakRSS(s.cmd.Process.Pid); rss > 512<<20 {
		t.Errorf("peak RSS %d MB with %d idle connections, want < 512 MB", rss>>20, idle)
	}
	s.alive(t, "the slow and idle clients")
}

// slowBody sends headers and then stalls the body: the server answers 408
// at its read timeout (10 s plus a quarter of --timeout).
func slowBody(t *testing.T, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"texts\":")
	c.SetReadDeadline(time.Now().Add(40 * time.Second))
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "HTTP/1.1 408") {
		t.Errorf("slow body: got %q, want 408", tail(string(b), 200))
	}
}

// TestLoad measures throughput and latency at 1, 8 and 64 concurrent
// clients (long form only: the figures go to BENCHMARKS.md).
func TestLoad(t *testing.T) {
	need(t)
	if !long {
		t.Skip("the load test is part of the long form (RECUR_RELIABILITY=long)")
	}
	runs := fixtures(t)
	for _, task := range []string{"classify", "forecast"} {
		s := startServer(t, runs[task], "--queue", "256")
		body := `{"texts":["the cat sat on a mat and the dog ran to the park"]}`
		if task == "forecast" {
			body = forecastBody(t, s.url)
		}
		for _, clients := range []int{1, 8, 64} {
			n, lat, errs := hammer(s.url, body, clients, 5*time.Second)
			slices.Sort(lat)
			p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
			fmt.Printf("load %-8s clients %2d: %7.0f requests/s  p50 %8v  p99 %8v  errors %d\n", task, clients, float64(n)/5, p(0.5), p(0.99), errs)
			if errs > 0 {
				t.Errorf("%s, %d clients: %d failed requests", task, clients, errs)
			}
		}
	}
}

// forecastBody asks the server for its lookback and columns and builds a
// request of plausible values.
func forecastBody(t *testing.T, url string) string {
	resp, err := http.Get(url + "/v1/model")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var lookback int
	var col string
	fmt.Sscanf(between(string(b), `"lookback":`, ","), "%d", &lookback)
	col = between(string(b), `"inputs":["`, `"`)
	vals := make([]string, lookback)
	for i := range vals {
		vals[i] = fmt.Sprint(300 + i%40)
	}
	return fmt.Sprintf(`{"values":{%q:[%s]}}`, col, strings.Join(vals, ","))
}

func between(s, a, b string) string {
	_, after, _ := strings.Cut(s, a)
	v, _, _ := strings.Cut(after, b)
	return v
}

// hammer sends body from clients goroutines for d and returns the
// requests done, their latencies and the failures.
func hammer(url, body string, clients int, d time.Duration) (int, []time.Duration, int) {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				t0 := time.Now()
				resp, err := c.Post(url+"/v1/predict", "application/json", strings.NewReader(body))
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					discard(resp.Body)
				}
				mu.Lock()
				if ok {
					lat = append(lat, time.Since(t0))
				} else {
					errs++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(lat) == 0 {
		lat = []time.Duration{0}
	}
	return len(lat), lat, errs
}
