package reliability

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

// TestReloadUnderLoad: while clients keep sending requests, the model
// file is replaced by a broken one and back, with a SIGHUP after each
// change: every broken file is logged and refused, every good one put in
// service, and no request fails.
func TestReloadUnderLoad(t *testing.T) {
	need(t)
	dir := filepath.Join(t.TempDir(), "run")
	mustRecur(t, "train", "--no-report", "--quiet", "--out", dir, "--epochs", "1", "--hidden", "8")
	s := startServer(t, dir)
	file := filepath.Join(dir, "model.safetensors")
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	body := forecastBody(t, s.url)
	type result struct{ n, errs int }
	done := make(chan result, 1)
	go func() {
		n, _, errs := hammer(s.url, body, 8, 4*time.Second)
		done <- result{n, errs}
	}()
	const rounds = 5
	for i := range rounds {
		for _, v := range []struct {
			content []byte
			log     string
		}{{good[:len(good)/2], "reload failed"}, {good, "model reloaded"}} {
			if err := os.WriteFile(file+".new", v.content, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(file+".new", file); err != nil {
				t.Fatal(err)
			}
			if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			for start := time.Now(); strings.Count(s.logs.String(), v.log) < i+1; time.Sleep(5 * time.Millisecond) {
				if time.Since(start) > 10*time.Second {
					t.Fatalf("round %d: no %q in the log:\n%s", i, v.log, tail(s.logs.String(), 2000))
				}
			}
		}
	}
	r := <-done
	if r.errs > 0 || r.n == 0 {
		t.Errorf("%d of %d requests failed during %d reloads", r.errs, r.n+r.errs, 2*rounds)
	}
	s.alive(t, "the reloads")
}

// TestLoad measures throughput and latency at 1, 8 and 64 concurrent
// clients, for a classifier and a forecaster of recur train's default
// sizes and a large classifier, served unbatched (--max-batch 1) and
// batched (--max-batch 32 --batch-wait 2ms), each with the server's
// other defaults: both servers of a model run side by side and their
// cells are interleaved (loadRounds rounds, the order alternating), so
// that a load that changes during the test moves both alike; it prints
// each cell's median over the rounds and the batched/unbatched ratio of
// each round's pair (median), the rows per batch, the CPU the server
// and this process (the load generator) used per second, and the
// server's resident memory after the warm-up and at the end (long form
// only: the figures go to BENCHMARKS.md). Every cell is bounded in time
// and requests; a failed request fails the test.
func TestLoad(t *testing.T) {
	need(t)
	if !long {
		t.Skip("the load test is part of the long form (RECUR_RELIABILITY=long)")
	}
	runs := loadModels(t)
	fmt.Printf("load: model, serving, clients: requests/s (median of %d interleaved rounds; batched/unbatched ratio), p50, p99 latency, failed requests, rows per batch, CPU of the server and of the load generator (cores), server RSS (after warm-up → at the end)\n", loadRounds)
	for _, task := range []string{"classify", "classify-h512", "forecast"} {
		var srv [2]*server
		for m, args := range [][]string{{"--max-batch", "1"}, {"--max-batch", "32", "--batch-wait", "2ms"}} {
			srv[m] = startServer(t, runs[task], append([]string{"--queue", "256"}, args...)...)
		}
		body := `{"texts":["` + loadText + `"]}`
		if task == "forecast" {
			body = forecastBody(t, srv[0].url)
		}
		var before [2]int64
		for m, s := range srv {
			hammer(s.url, body, 64, time.Second) // warm-up: the heap, the kernels' scratch, the batches' buffers
			before[m] = procStatus(s.cmd.Process.Pid, "VmRSS")
		}
		for _, clients := range []int{1, 8, 64} {
			var cells [2][]loadResult
			for r := range loadRounds {
				for k := range 2 {
					m := k ^ r&1 // unbatched first in even rounds
					c := loadCell(t, srv[m], body, clients)
					if c.errs > 0 {
						t.Errorf("%s %s, %d clients: %d failed requests", task, loadModes[m], clients, c.errs)
					}
					cells[m] = append(cells[m], c)
				}
			}
			for m, s := range srv {
				ratio := make([]float64, loadRounds)
				for r := range ratio {
					ratio[r] = cells[m][r].rps / cells[0][r].rps
				}
				c := medianCell(cells[m])
				fmt.Printf("load %-13s %-9s clients %2d: %7.0f requests/s (%.2fx)  p50 %8v  p99 %8v  errors %d  rows/batch %4.1f  CPU server %.2f, load generator %.2f  RSS %d → %d MB\n",
					task, loadModes[m], clients, c.rps, median(ratio), c.p50.Round(time.Microsecond), c.p99.Round(time.Microsecond), c.errs,
					c.rows, c.server, c.client, before[m]>>20, procStatus(s.cmd.Process.Pid, "VmRSS")>>20)
			}
		}
		for _, s := range srv {
			s.alive(t, "the load test")
			s.cmd.Process.Kill()
			<-s.done
		}
	}
}

// loadModes names the servers of TestLoad.
var loadModes = [2]string{"unbatched", "batched"}

// loadResult is one cell of the load test: requests/s, latency
// percentiles, failures, rows per batch, and the CPU (cores) the server
// and the load generator used.
type loadResult struct {
	rps            float64
	p50, p99       time.Duration
	errs           int
	rows           float64
	server, client float64
}

// loadCell sends body to s from clients for loadCellTime and measures it.
func loadCell(t *testing.T, s *server, body string, clients int) loadResult {
	b0, r0 := batches(t, s.url)
	sc0, cc0 := procCPU(s.cmd.Process.Pid), selfCPU()
	n, lat, errs := hammer(s.url, body, clients, loadCellTime)
	sc1, cc1 := procCPU(s.cmd.Process.Pid), selfCPU()
	b1, r1 := batches(t, s.url)
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	sec := loadCellTime.Seconds()
	return loadResult{rps: float64(n) / sec, p50: p(0.5), p99: p(0.99), errs: errs, rows: (r1 - r0) / max(b1-b0, 1),
		server: (sc1 - sc0).Seconds() / sec, client: (cc1 - cc0).Seconds() / sec}
}

// medianCell is the median of each of the cells' figures (errors summed).
func medianCell(cs []loadResult) loadResult {
	var out loadResult
	pick := func(f func(loadResult) float64) float64 {
		v := make([]float64, len(cs))
		for i, c := range cs {
			v[i] = f(c)
		}
		return median(v)
	}
	out.rps = pick(func(c loadResult) float64 { return c.rps })
	out.p50 = time.Duration(pick(func(c loadResult) float64 { return float64(c.p50) }))
	out.p99 = time.Duration(pick(func(c loadResult) float64 { return float64(c.p99) }))
	out.rows = pick(func(c loadResult) float64 { return c.rows })
	out.server = pick(func(c loadResult) float64 { return c.server })
	out.client = pick(func(c loadResult) float64 { return c.client })
	for _, c := range cs {
		out.errs += c.errs
	}
	return out
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// procCPU is the user and system CPU time process pid has used
// (/proc/PID/stat, in clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ")")+2:])
	var u, st int64
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &st)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// selfCPU is the CPU time this process (the load generator) has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// batches reads the server's count of batches and their rows from
// /metrics.
func batches(t *testing.T, url string) (count, rows float64) {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "recur_batch_rows_count "); ok {
			fmt.Sscan(v, &count)
		}
		if v, ok := strings.CutPrefix(line, "recur_batch_rows_sum "); ok {
			fmt.Sscan(v, &rows)
		}
	}
	return count, rows
}

// loadCellTime is how long each cell of the load test sends requests,
// loadCap bounds its requests, and loadRounds is how many times each
// cell is measured, interleaved with the other server's.
const (
	loadCellTime = 3 * time.Second
	loadCap      = 200000
	loadRounds   = 3
)

// loadText is the load test's text: 24 words, a short review.
const loadText = "the cat sat on a mat and the dog ran to the park while rain fell on every roof of the town and the cat sat"

// loadModels trains a classifier and a forecaster of recur train's
// default sizes (hidden 64), and a classifier of hidden size 512 (whose
// recurrent weights, 4 MB, do not fit a core's L2 cache), for the load
// test.
func loadModels(t *testing.T) map[string]string {
	t.Helper()
	tsv := filepath.Join(t.TempDir(), "labelled.tsv")
	var b strings.Builder
	b.WriteString("text\tlabel\n")
	words := strings.Fields(loadText)
	for i := range 400 {
		fmt.Fprintf(&b, "%s\t%s\n", strings.Join(words[i%7:i%7+10+i%9], " "), []string{"neg", "pos"}[i%2])
	}
	if err := os.WriteFile(tsv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	runs := map[string]string{}
	for name, args := range map[string][]string{
		"forecast":      nil,
		"classify":      {"--task", "classify", "--data", tsv},
		"classify-h512": {"--task", "classify", "--data", tsv, "--hidden", "512"},
	} {
		runs[name] = filepath.Join(dir, name)
		mustRecur(t, append([]string{"train", "--no-report", "--quiet", "--out", runs[name], "--epochs", "1"}, args...)...)
	}
	return runs
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

// hammer sends body from clients goroutines for d (and at most loadCap
// requests in all) and returns the requests done, their latencies and
// the failures.
func hammer(url, body string, clients int, d time.Duration) (int, []time.Duration, int) {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var sent atomic.Int64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	for range clients {
		wg.Go(func() {
			for time.Now().Before(end) && sent.Add(1) <= loadCap {
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
		})
	}
	wg.Wait()
	if len(lat) == 0 {
		lat = []time.Duration{0}
	}
	return len(lat), lat, errs
}
