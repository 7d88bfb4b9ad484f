package batch

import (
	"slices"
	"testing"
)

func TestPad(t *testing.T) {
	tests := []struct {
		name    string
		seqs    [][]int
		pad     int
		maxLen  int
		ids     []int
		lengths []int
		t       int
	}{
		{"ragged", [][]int{{1, 2, 3}, {4}, {5, 6}}, 0, 0, []int{1, 2, 3, 4, 0, 0, 5, 6, 0}, []int{3, 1, 2}, 3},
		{"pad id", [][]int{{1}, {2, 3}}, -1, 0, []int{1, -1, 2, 3}, []int{1, 2}, 2},
		{"truncate", [][]int{{1, 2, 3, 4}, {5}}, 9, 2, []int{1, 2, 5, 9}, []int{2, 1}, 2},
		{"equal", [][]int{{1, 2}, {3, 4}}, 0, 5, []int{1, 2, 3, 4}, []int{2, 2}, 2},
		{"none", nil, 0, 0, []int{}, []int{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, lengths, T := Pad(tt.seqs, tt.pad, tt.maxLen)
			if !slices.Equal(ids, tt.ids) || !slices.Equal(lengths, tt.lengths) || T != tt.t {
				t.Errorf("Pad = %v %v %d, want %v %v %d", ids, lengths, T, tt.ids, tt.lengths, tt.t)
			}
		})
	}
	in := [][]int{{1, 2, 3}}
	Pad(in, 0, 1)
	if !slices.Equal(in[0], []int{1, 2, 3}) {
		t.Errorf("Pad modified its input: %v", in[0])
	}
}

func TestBatchLayouts(t *testing.T) {
	ds := &Dataset{Seqs: [][]int{{1, 2, 3}, {4}, {5, 6}}, Labels: []int{0, 1, 0}, Targets: [][]int{{7}, {8, 9}, {10}}}
	l, err := NewLoader(ds, Config{BatchSize: 3, Pad: -1})
	if err != nil {
		t.Fatal(err)
	}
	b := l.Make([]int{0, 1, 2})
	if got, want := b.TimeMajor(nil), []int{1, 4, 5, 2, -1, 6, 3, -1, -1}; !slices.Equal(got, want) {
		t.Errorf("TimeMajor = %v, want %v", got, want)
	}
	if got, want := b.Mask(nil), []float32{1, 1, 1, 1, 0, 0, 1, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("Mask = %v, want %v", got, want)
	}
	if got, want := b.MaskTimeMajor(nil), []float32{1, 1, 1, 1, 0, 1, 1, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("MaskTimeMajor = %v, want %v", got, want)
	}
	if got, want := b.TargetsTimeMajor(nil), []int{7, 8, 10, -1, 9, -1}; !slices.Equal(got, want) || b.TT != 2 {
		t.Errorf("TargetsTimeMajor = %v (TT %d), want %v (TT 2)", got, b.TT, want)
	}
	if got, want := b.TargetMask(nil), []float32{1, 0, 1, 1, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("TargetMask = %v, want %v", got, want)
	}
	if b.Padding() != 3 || b.At(2, 1) != 6 || !slices.Equal(b.Labels, []int{0, 1, 0}) {
		t.Errorf("Padding %d At(2,1) %d Labels %v, want 3, 6, [0 1 0]", b.Padding(), b.At(2, 1), b.Labels)
	}
	sorted, _ := NewLoader(ds, Config{BatchSize: 3, SortDesc: true})
	sb := sorted.Make([]int{1, 2, 0})
	if !slices.Equal(sb.Index, []int{0, 2, 1}) || !slices.Equal(sb.Lengths, []int{3, 2, 1}) || !slices.Equal(sb.Labels, []int{0, 0, 1}) {
		t.Errorf("SortDesc: Index %v Lengths %v Labels %v, want [0 2 1] [3 2 1] [0 0 1]", sb.Index, sb.Lengths, sb.Labels)
	}
}

func TestNewLoaderErrors(t *testing.T) {
	good := [][]int{{1}, {2}}
	tests := []struct {
		name string
		ds   Dataset
		cfg  Config
	}{
		{"no batch size", Dataset{Seqs: good}, Config{}},
		{"negative bucket", Dataset{Seqs: good}, Config{BatchSize: 1, Bucket: -1}},
		{"empty dataset", Dataset{}, Config{BatchSize: 1}},
		{"label count", Dataset{Seqs: good, Labels: []int{1}}, Config{BatchSize: 1}},
		{"target count", Dataset{Seqs: good, Targets: [][]int{{1}}}, Config{BatchSize: 1}},
		{"empty sequence", Dataset{Seqs: [][]int{{1}, {}}}, Config{BatchSize: 1}},
		{"drop last leaves nothing", Dataset{Seqs: good}, Config{BatchSize: 3, DropLast: true}},
	}
	for _, tt := range tests {
		if _, err := NewLoader(&tt.ds, tt.cfg); err == nil {
			t.Errorf("%s: NewLoader returned nil error", tt.name)
		}
	}
}
