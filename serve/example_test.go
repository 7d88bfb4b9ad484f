package serve_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/recur-ml/recur/data/text"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/serve"
)

func ExampleNew() {
	// A (untrained) sentiment classifier with its text preprocessing; a
	// real one comes from model.Load.
	enc, err := text.NewEncoder([]string{"a fine film", "a dull film"}, text.Cleaner{}, text.WordTokenizer{}, text.VocabConfig{})
	if err != nil {
		log.Fatal(err)
	}
	m, err := model.Build(model.Spec{Task: model.Classify, Vocab: enc.Vocab.Len(), Hidden: 8, Classes: 2}, 1)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.SetTextPrep(&model.TextPrep{Encoder: enc, Classes: []string{"neg", "pos"}}); err != nil {
		log.Fatal(err)
	}

	h, err := serve.New(m, serve.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()

	for _, body := range []string{
		`{"texts": ["a fine film", "an unseen word"]}`,
		`{"texts": ["a fine film", ""]}`,
		`{"texts": "a fine film"}`,
	} {
		resp, err := http.Post(ts.URL+"/v1/predict", "application/json", strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Print(resp.StatusCode, " ", string(b))
			continue
		}
		var r serve.ClassifyResponse
		if err := json.Unmarshal(b, &r); err != nil {
			log.Fatal(err)
		}
		for _, p := range r.Predictions {
			fmt.Printf("%d tokens, %d unknown, P(neg)+P(pos) = %.2f\n", p.Tokens, p.Unknown, p.Probabilities["neg"]+p.Probabilities["pos"])
		}
	}
	// Output:
	// 3 tokens, 0 unknown, P(neg)+P(pos) = 1.00
	// 3 tokens, 3 unknown, P(neg)+P(pos) = 1.00
	// 400 {"error":"empty text","field":"texts[1]"}
	// 400 {"error":"want an array, got string","field":"texts"}
}
