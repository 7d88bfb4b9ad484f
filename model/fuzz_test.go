package model

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/recur-ml/recur/checkpoint"
)

// FuzzParseSpec checks that no spec text makes ParseSpec or Build panic,
// and that the parameters Check derives from a spec are the ones Build
// makes.
func FuzzParseSpec(f *testing.F) {
	f.Add("s.yaml", "task: forecast\nhidden: 4\n")
	f.Add("s.yaml", "task: classify\nvocab: 9\nclasses: 3\npool: attention\nhidden: 3\n")
	f.Add("s.json", `{"task":"lm","vocab":5,"hidden":2,"tie":true}`)
	f.Add("s.json", `{"task":"seq2seq","vocab":5,"tgt_vocab":4,"hidden":2}`)
	f.Add("s.yaml", "task: lm\nvocab: 6\nhidden: 3\nlayers: 2\nweight_drop: 0.2\nzoneout: 0.1\nembed_dropout: 0.1\ninit: he_normal\ninit_recurrent: orthogonal\nforget_bias: 1\n")
	// Hostile sizes: Build must refuse them, not allocate.
	f.Add("s.json", `{"task":"forecast","hidden":1099511627776}`)
	f.Add("s.json", `{"task":"forecast","hidden":4,"layers":1073741824}`)
	f.Add("s.json", `{"task":"lm","vocab":1099511627776,"hidden":2}`)
	f.Add("s.yaml", "task: forecast\ninputs: 1048576\ntargets: 1048576\nhorizon: 1048576\nhidden: 2\n")
	f.Add("s.yaml", "task: forecast\nhidden: -3\nlayers: -1\n")
	f.Add("s.yaml", "task: forecast\nhidden: 2\nforget_bias: .nan\n")
	f.Add("s.json", `{"task":"seq2seq","vocab":5,"tgt_vocab":4,"hidden":2,"attention":"luong","bidirectional":true,"cell":"gru"}`)
	f.Add("s.yaml", "task: tag\ninputs: 2\nclasses: 3\nhidden: 4\nproj: 2\nbidirectional: true\nlayers: 2\n")
	f.Fuzz(func(t *testing.T, name, text string) {
		s, err := ParseSpec(name, []byte(text))
		if err != nil {
			return
		}
		// Keep the sizes small: the fuzzer is not here to allocate.
		if s.Hidden > 8 || s.Vocab > 50 || s.TgtVocab > 50 || s.Embed > 8 || s.Layers > 2 || s.Inputs > 4 || s.Horizon > 4 || s.Classes > 8 || s.Targets > 4 || len(s.Quantiles) > 4 {
			if _, err := s.withDefaults(); err == nil && s.Hidden > MaxHidden {
				t.Fatalf("hidden %d passed the limits", s.Hidden)
			}
			return
		}
		m, err := Build(s, 1)
		if err != nil {
			return
		}
		if m.NumParams() <= 0 {
			t.Fatalf("built %+v with %d parameters", s, m.NumParams())
		}
		var got []paramShape
		for _, p := range m.Params() {
			got = append(got, paramShape{p.Name, p.Value.Shape})
		}
		if want := m.Spec().shapes(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%+v: Build made %v, the spec implies %v", m.Spec(), got, want)
		}
	})
}

// FuzzFromFile checks that no file makes Check or FromFile panic or build
// a network larger than the file, and that Check accepts what FromFile
// loads. A spec that is not empty replaces the file's, so that the fuzzer
// works on specs directly. The seeds are a forecaster's file and the
// hostile variants of TestLoadRejectsHostileSpecs; testdata/fuzz/FuzzFromFile
// adds the files of the other tasks with hostile specs.
func FuzzFromFile(f *testing.F) {
	base := modelFile(f)
	var buf bytes.Buffer
	if err := checkpoint.Encode(&buf, base); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), "")
	for _, h := range hostileFiles(f) {
		var buf bytes.Buffer
		if err := checkpoint.Encode(&buf, h.file); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes(), "")
		f.Add(bytes.Clone(buf.Bytes()), base.Metadata[MetaSpec])
	}
	f.Fuzz(func(t *testing.T, b []byte, spec string) {
		cf, err := checkpoint.Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if spec != "" {
			cf.Metadata[MetaSpec] = spec
		}
		checkErr := Check("fuzz", cf)
		m, err := FromFile("fuzz", cf)
		if err != nil {
			return
		}
		if checkErr != nil {
			t.Fatalf("Check refuses a file that FromFile loads: %v", checkErr)
		}
		if n := m.NumParams(); 4*int64(n) > int64(len(b)) {
			t.Fatalf("a %d-byte file made a network of %d parameters", len(b), n)
		}
	})
}
