package serve_test

import (
	"context"
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
	"github.com/recur-ml/recur/train"
)

func ExampleNew() {
	// A sentiment classifier trained for one epoch on two texts; a real
	// one comes from model.Load.
	m, err := model.NewClassifier(model.ClassifyConfig{Spec: model.Spec{Hidden: 8}, Fit: model.FitConfig{Train: train.Config{Epochs: 1}}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), &text.Labelled{Texts: []string{"a fine film", "a dull film"}, Labels: []int{1, 0}, Classes: []string{"neg", "pos"}}, nil); err != nil {
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
