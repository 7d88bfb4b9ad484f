package serve_test

import (
	"context"
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/serve"
)

// batchTexts are texts of many lengths, so that batches pad and their
// sequences end at different steps.
var batchTexts = []string{
	"a fine film", "dull", "good acting and a fine story with a good plot and a fine cast",
	"bad plot", "a dull film with bad acting", "fine", "a good story", "zzz unknown words here and a film",
	"good good good good good good good good good good good good good", "acting",
}

// TestBatchedBitIdentical: with batching on, every answer is byte for
// byte the one the same request gets alone, however the concurrent
// requests are grouped (run with -race); and it agrees with the
// unbatched answer (model.Classifier.Predict's batch of one) to the
// bound the package documentation gives.
func TestBatchedBitIdentical(t *testing.T) {
	fm, f := forecastModel(t)
	cm := classifyModel(t)
	// A classifier without max_len, whose texts keep their lengths, with
	// a bidirectional GRU and attention pooling.
	bm := classifierOf(t, model.Spec{Hidden: 24, Cell: "gru", Bidirectional: true, Pool: "attention"}, 0, 4)
	o := serve.Options{MaxBatch: 4, BatchWait: 5 * time.Millisecond, Concurrency: 1, Queue: 64, Logger: quiet}
	var servers []*serve.Server
	var urls []string
	for _, m := range []model.Model{cm, fm, bm} {
		s, err := serve.New(m, o)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s)
		t.Cleanup(ts.Close)
		servers, urls = append(servers, s), append(urls, ts.URL)
	}
	cts, fts, bts := urls[0], urls[1], urls[2]
	var reqs []request
	for i, tx := range batchTexts {
		for _, u := range []string{cts, bts} {
			reqs = append(reqs, request{u, mustJSON(t, map[string]any{"texts": []string{tx}})})
			// Requests of several texts, some of more than MaxBatch.
			reqs = append(reqs, request{u, mustJSON(t, map[string]any{"texts": batchTexts[i:min(i+1+i%6, len(batchTexts))]})})
		}
	}
	for end := lookback; end <= f.Len(); end += 3 {
		body, _ := forecastBody(t, fm, f, end)
		reqs = append(reqs, request{fts, body})
	}
	// The first concurrent round finds every computing slot taken, as
	// under load: its requests gather in batches until they are freed.
	hold := func() func() {
		var releases []func()
		for _, s := range servers {
			releases = append(releases, serve.HoldSlots(s))
		}
		return func() {
			for _, u := range urls {
				n := 0
				for _, r := range reqs {
					if r.url == u {
						n++
					}
				}
				// Every request in the server (the scrape is one more),
				// and a batch waiting for a slot.
				waitFor(t, "the round's requests to arrive", func() bool {
					m := scrape(t, u, "")
					return metricValue(m, "recur_http_requests_in_flight") >= float64(n+1) && metricValue(m, "recur_queue_length") >= 1
				})
			}
			time.Sleep(20 * time.Millisecond)
			for _, r := range releases {
				r()
			}
		}
	}
	sameAnswers(t, 3, reqs, hold)
	for _, ts := range urls {
		m := scrape(t, ts, "")
		if n, sum := metricValue(m, "recur_batch_requests_count"), metricValue(m, "recur_batch_requests_sum"); !(sum > n) {
			t.Errorf("%s: %v requests in %v batches: no batch gathered two requests", ts, sum, n)
		}
	}

	// Against the unbatched path.
	texts := batchTexts
	preds, err := cm.Predict(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	code, b := postURL(t, cts, mustJSON(t, map[string]any{"texts": texts}))
	if code != 200 {
		t.Fatalf("status %d %s", code, b)
	}
	got := decode[serve.ClassifyResponse](t, b)
	for i, p := range got.Predictions {
		for c, name := range cm.Classes() {
			if d := math.Abs(float64(p.Probabilities[name] - preds[i].Probabilities[c])); d > 1e-6 {
				t.Errorf("text %d class %s: batched %v, unbatched %v: differ by %g > 1e-6", i, name, p.Probabilities[name], preds[i].Probabilities[c], d)
			}
		}
		if p.Tokens != preds[i].Tokens || p.Unknown != preds[i].Unknown {
			t.Errorf("text %d: tokens %d unknown %d, want %d %d", i, p.Tokens, p.Unknown, preds[i].Tokens, preds[i].Unknown)
		}
	}
	for end := lookback; end <= f.Len(); end += 7 {
		body, want := forecastBody(t, fm, f, end)
		_, b := postURL(t, fts, body)
		got := decode[serve.ForecastResponse](t, b)
		for h, v := range got.Forecast["y"] {
			if d := math.Abs(float64(v-want[h])) / math.Abs(float64(want[h])); d > 1e-5 {
				t.Errorf("forecast end %d step %d: batched %v, unbatched %v: relative difference %g > 1e-5", end, h, v, want[h], d)
			}
		}
	}
}

// TestBatchedErrors: a bad request in batching mode gets the unbatched
// answer's status and field, and does not hold a batch back.
func TestBatchedErrors(t *testing.T) {
	cm := classifyModel(t)
	bts := newServer(t, cm, serve.Options{MaxBatch: 8, BatchWait: time.Second, MaxTokens: 4, Logger: quiet})
	uts := newServer(t, cm, serve.Options{MaxTokens: 4, Logger: quiet})
	for _, body := range []string{
		`{"texts":[]}`, `{"texts":["a fine film", ""]}`, `{"texts":["...", "a b c d e f g"]}`,
		`{"texts":["!!!"]}`, `{"texts":["a"],"values":{"y":[1]}}`, `{"texts":[1]}`,
	} {
		start := time.Now()
		bc, bb := postURL(t, bts.URL, body)
		uc, ub := postURL(t, uts.URL, body)
		if bc != uc || string(bb) != string(ub) {
			t.Errorf("%s: batched %d %s, unbatched %d %s", body, bc, bb, uc, ub)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("%s: took %v: a lone request waited for the batch window", body, d)
		}
	}
}

// TestFullBatchTakesAnySlot: with half of the slots computing batches,
// a batch that can still take requests waits, and one that is full
// computes on a free slot; both answer as a batch does.
func TestFullBatchTakesAnySlot(t *testing.T) {
	cm := classifyModel(t)
	s, err := serve.New(cm, serve.Options{MaxBatch: 4, BatchWait: time.Millisecond, Concurrency: 2, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	release := serve.HoldBatch(s)
	freed := false
	defer func() {
		if !freed {
			release()
		}
	}()
	code, full := postURL(t, ts.URL, mustJSON(t, map[string]any{"texts": batchTexts[:4]}))
	if code != 200 {
		t.Fatalf("a full batch while one of two slots computes: status %d %s", code, full)
	}
	type answer struct {
		code int
		body []byte
	}
	lone := make(chan answer, 1)
	go func() {
		code, b := postURL(t, ts.URL, mustJSON(t, map[string]any{"texts": batchTexts[:1]}))
		lone <- answer{code, b}
	}()
	waitFor(t, "the open batch to wait", func() bool {
		return metricValue(scrape(t, ts.URL, ""), "recur_queue_length") >= 1
	})
	select {
	case a := <-lone:
		t.Fatalf("a one-text batch was answered (%d %s) while one of two slots computed", a.code, a.body)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	freed = true
	a := <-lone
	if a.code != 200 {
		t.Fatalf("the one-text batch after the computing batch ended: status %d %s", a.code, a.body)
	}
	// A text's answer is the same in any batch.
	want := mustJSON(t, decode[serve.ClassifyResponse](t, full).Predictions[0])
	if got := mustJSON(t, decode[serve.ClassifyResponse](t, a.body).Predictions[0]); got != want {
		t.Errorf("text 0 alone %s, in a full batch %s", got, want)
	}
}
