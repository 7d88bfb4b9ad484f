package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/serve"
	"github.com/recur-ml/recur/tensor"
)

// TestTokenLimitAtTheEncoding: a language model's prompt and a
// translator's source are checked against MaxTokens on the encoding the
// model then computes on: a text of exactly MaxTokens tokens is answered
// as the model answers it, one of a token more is refused with 422.
func TestTokenLimitAtTheEncoding(t *testing.T) {
	lm := lmModel(t)
	prompt := "a fine film"
	n := len(lm.Encoder().Encode(prompt))
	ls := newServer(t, lm, serve.Options{MaxTokens: n})
	code, b := post(t, ls, `{"prompt":"`+prompt+`","length":6,"seed":4}`)
	want, err := lm.Generate(context.Background(), prompt, 6, model.SampleConfig{Temperature: 0.8}, tensor.NewRNG(4))
	if err != nil {
		t.Fatal(err)
	}
	if got := decode[serve.GenerateResponse](t, b); code != http.StatusOK || got.Generation == nil || *got.Generation != *want {
		t.Errorf("a prompt of %d tokens under MaxTokens %d: status %d, %s; want %+v", n, n, code, b, want)
	}
	tight := newServer(t, lm, serve.Options{MaxTokens: n - 1})
	if code, b := post(t, tight, `{"prompt":"`+prompt+`"}`); code != http.StatusUnprocessableEntity || !strings.Contains(string(b), "MaxTokens") {
		t.Errorf("a prompt of %d tokens under MaxTokens %d: status %d, %s; want 422", n, n-1, code, b)
	}

	tr := seq2seqModel(t)
	srcs := []string{"je suis là", "il est ici et là"}
	long := len(tr.Prep().Src.Encode(srcs[1]))
	ss := newServer(t, tr, serve.Options{MaxTokens: long})
	body, _ := json.Marshal(map[string]any{"texts": srcs, "attention": true})
	code, b = post(t, ss, string(body))
	if code != http.StatusOK {
		t.Fatalf("sources of up to %d tokens under MaxTokens %d: status %d, %s", long, long, code, b)
	}
	got := decode[serve.TranslateResponse](t, b)
	for i, src := range srcs {
		want, err := tr.Translate(context.Background(), src, model.TranslateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if g := got.Translations[i]; g.Output != want.Output || g.Unknown != want.Unknown || len(g.Attention) != len(want.Attention) {
			t.Errorf("texts[%d]: served %+v, the model gives %+v", i, g, want)
		}
	}
	tight = newServer(t, tr, serve.Options{MaxTokens: long - 1})
	if code, b := post(t, tight, string(body)); code != http.StatusUnprocessableEntity || !strings.Contains(string(b), `"texts[1]"`) {
		t.Errorf("texts[1] of %d tokens under MaxTokens %d: status %d, %s; want 422 naming texts[1]", long, long-1, code, b)
	}
}
