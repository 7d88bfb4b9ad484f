package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// recipeData writes a few lines of data of the kind the recipe's task
// reads and returns the --data argument (empty: the embedded series).
func recipeData(t *testing.T, name string, o *trainOpts) string {
	t.Helper()
	dir := t.TempDir()
	write := func(file, body string) string {
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rng := tensor.NewRNG(7)
	words := strings.Fields("the cat sat on a mat and the dog ran to it while we saw one big red car")
	sentence := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = words[rng.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	var b strings.Builder
	switch {
	case strings.HasPrefix(o.Data, "gen:adding"):
		return "gen:adding:T=10,n=40"
	case strings.HasPrefix(o.Data, "gen:addition"):
		return "gen:addition:digits=2,n=200"
	case o.Task == "forecast" && o.Target == "":
		return ""
	case o.Task == "forecast":
		cols := append(splitList(o.Target), splitList(o.Inputs)...)
		b.WriteString(strings.Join(cols, ",") + "\n")
		for i := range 120 {
			for c := range cols {
				if c > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, "%.2f", 100+float64(i)+5*float64(c)+rng.Float64())
			}
			b.WriteString("\n")
		}
		return write("series.csv", b.String())
	case o.Task == "classify" && strings.Contains(name, "mnist"):
		return writeMNIST(t, 40)
	case o.Task == "classify":
		b.WriteString("text\tlabel\n")
		for i := range 60 {
			fmt.Fprintf(&b, "%s\t%s\n", sentence(5+i%7), []string{"neg", "pos"}[i%2])
		}
		return write("reviews.tsv", b.String())
	case o.Task == "lm":
		for range 400 {
			b.WriteString(sentence(12) + "\n")
		}
		return write("corpus.txt", b.String())
	case o.Task == "seq2seq":
		for range 80 {
			s := sentence(4)
			fmt.Fprintf(&b, "%s\t%s\n", s, strings.ToUpper(s))
		}
		return write("pairs.tsv", b.String())
	case o.Task == "tag":
		return "../../data/dataset/testdata/jsb-excerpt.json"
	}
	t.Fatalf("%s: no test data for task %q", name, o.Task)
	return ""
}

// TestRecipes parses every recipe and trains it for one epoch on a few
// lines of data of its kind, so that a recipe cannot rot unnoticed.
func TestRecipes(t *testing.T) {
	paths, err := filepath.Glob("../../recipes/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no recipes: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			o := &trainOpts{}
			fs := flag.NewFlagSet("train", flag.ContinueOnError)
			o.register(fs)
			if err := applyConfig(fs, path); err != nil {
				t.Fatal(err)
			}
			args := []string{"train", "--config", path, "--epochs", "1", "--out", t.TempDir(), "--no-report", "--quiet"}
			if data := recipeData(t, name, o); data != "" {
				args = append(args, "--data", data)
			}
			var out bytes.Buffer
			if err := runMain(context.Background(), args, &out, &out); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
		})
	}
}

// TestTuneRecipes checks every tuning study of recipes/tune: its base
// config and search space parse, and every key of the space is a train
// flag recur tune may set.
func TestTuneRecipes(t *testing.T) {
	spaces, err := filepath.Glob("../../recipes/tune/*-space.yaml")
	if err != nil || len(spaces) == 0 {
		t.Fatalf("no tuning recipes: %v", err)
	}
	for _, space := range spaces {
		base := strings.TrimSuffix(space, "-space.yaml") + "-base.yaml"
		t.Run(filepath.Base(base), func(t *testing.T) {
			o := &tuneOpts{Config: base, Space: space, Trials: 1, Parallel: 1, Eta: 3, Sampler: "halton", Out: t.TempDir()}
			if _, _, err := o.tuner(&ranks{size: 1}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
