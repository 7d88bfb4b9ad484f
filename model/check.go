package model

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/nn"
)

// Limits on a Spec's sizes. Every constructor and Load check them, Load
// before it allocates anything. They are far above any network that
// trains on a CPU, and low enough that the sizes multiply without
// overflow.
const (
	// MaxHidden bounds hidden, proj and embed.
	MaxHidden = 1 << 16
	// MaxLayers bounds layers.
	MaxLayers = 256
	// MaxEnsemble bounds a forecaster's ensemble members.
	MaxEnsemble = 64
	// MaxVocab bounds vocab, tgt_vocab, classes and a forecaster's
	// outputs (horizon × targets × quantile levels).
	MaxVocab = 1 << 24
	// MaxInputs bounds inputs, targets, horizon and the number of
	// quantile levels.
	MaxInputs = 1 << 20
)

// checkLimits checks s's sizes against the limits (the lower bounds are
// the task checks').
func (s *Spec) checkLimits() error {
	for _, f := range []struct {
		name   string
		v, max int
	}{
		{"hidden", s.Hidden, MaxHidden}, {"proj", s.Proj, MaxHidden}, {"embed", s.Embed, MaxHidden}, {"layers", s.Layers, MaxLayers},
		{"vocab", s.Vocab, MaxVocab}, {"tgt_vocab", s.TgtVocab, MaxVocab}, {"classes", s.Classes, MaxVocab},
		{"inputs", s.Inputs, MaxInputs}, {"targets", s.Targets, MaxInputs}, {"horizon", s.Horizon, MaxInputs},
		{"quantiles", len(s.Quantiles), MaxInputs},
	} {
		if f.v > f.max {
			if f.name == "quantiles" {
				return &SpecError{f.name, fmt.Sprintf("%d levels", f.v), fmt.Sprintf("at most %d levels", f.max)}
			}
			return &SpecError{f.name, f.v, fmt.Sprintf("<= %d", f.max)}
		}
	}
	if s.Ensemble < 0 || s.Ensemble > MaxEnsemble {
		return &SpecError{"ensemble", s.Ensemble, fmt.Sprintf("0 to %d members (0 or 1: one network)", MaxEnsemble)}
	}
	if s.Task == Forecast {
		if out := int64(max(s.Horizon, 1)) * int64(max(s.Targets, 1)) * int64(max(len(s.Quantiles), 1)); out > MaxVocab {
			return &SpecError{"horizon", s.Horizon, fmt.Sprintf("horizon × targets × quantile levels <= %d outputs, not %d", MaxVocab, out)}
		}
	}
	if math.IsNaN(s.ForgetBias) || math.IsInf(s.ForgetBias, 0) {
		return &SpecError{"forget_bias", s.ForgetBias, "a finite number"}
	}
	return nil
}

// paramShape is a parameter that a spec implies: its state_dict name and
// shape.
type paramShape struct {
	name  string
	shape []int
}

type shapeList []paramShape

func (l *shapeList) add(name string, shape ...int) { *l = append(*l, paramShape{name, shape}) }

// shapes lists the parameters of the network that s (defaults filled in,
// limits checked) builds, in state_dict order, without building it: what
// a model file of s holds. TestShapesMatchBuild keeps it in step with the
// constructors.
func (s Spec) shapes() []paramShape {
	var l shapeList
	switch s.Task {
	case Seq2Seq:
		s.seq2seqShapes(&l)
	case Classify:
		s.bodyShapes(&l, s.Vocab, s.Classes, false)
	case LM:
		s.bodyShapes(&l, s.Vocab, s.Vocab, s.Tie)
	case Tag:
		out := s.Targets
		if s.Classes > 0 {
			out = s.Classes
		}
		if s.NoHead {
			out = 0
		}
		s.bodyShapes(&l, 0, out, false)
	default:
		out := s.Horizon * s.Targets * max(len(s.Quantiles), 1)
		s.bodyShapes(&l, 0, out, false)
		for k := 1; k < s.Ensemble; k++ {
			var m shapeList
			s.bodyShapes(&m, 0, out, false)
			for _, p := range m {
				l.add(memberPrefix(k)+p.name, p.shape...)
			}
		}
	}
	return l
}

// memberPrefix is the name prefix of ensemble member k >= 1's parameters.
func memberPrefix(k int) string { return fmt.Sprintf("ensemble.%d.", k) }

// bodyShapes appends the parameters of newBody(s, vocab, out) (a tied
// head has no weight of its own).
func (s Spec) bodyShapes(l *shapeList, vocab, out int, tied bool) {
	in := s.Inputs
	if vocab > 0 {
		l.add("embedding.weight", vocab, s.Embed)
		in = s.Embed
	}
	s.stackShapes(l, "rnn.", in)
	F := s.features()
	if s.Pool == "attention" {
		l.add("pool.proj.weight", F, F)
		l.add("pool.proj.bias", F)
		l.add("pool.v", F)
	}
	if out > 0 {
		if !tied {
			l.add("head.weight", out, F)
		}
		l.add("head.bias", out)
	}
}

// gates is the number of gates of s's cell.
func (s Spec) gates() int {
	switch s.Cell {
	case "lstm":
		return 4
	case "gru":
		return 3
	}
	return 1
}

// stackShapes appends the parameters of s's recurrent stack over inputs
// of width in, named prefix+PyTorch's names.
func (s Spec) stackShapes(l *shapeList, prefix string, in int) {
	G, H, Ho, dirs := s.gates()*s.Hidden, s.Hidden, s.Hidden, 1
	if s.Proj > 0 {
		Ho = s.Proj
	}
	if s.Bidirectional {
		dirs = 2
	}
	for k := range s.Layers {
		if k > 0 {
			in = dirs * Ho
		}
		for d := range dirs {
			sfx := fmt.Sprintf("_l%d", k)
			if d == 1 {
				sfx += "_reverse"
			}
			l.add(prefix+"weight_ih"+sfx, G, in)
			l.add(prefix+"weight_hh"+sfx, G, Ho)
			l.add(prefix+"bias_ih"+sfx, G)
			l.add(prefix+"bias_hh"+sfx, G)
			if s.Peephole {
				l.add(prefix+"weight_peephole"+sfx, 3*H)
			}
			if s.Proj > 0 {
				l.add(prefix+"weight_hr"+sfx, Ho, H)
			}
		}
	}
}

// seq2seqShapes appends the parameters of nn.NewSeq2Seq for s.
func (s Spec) seq2seqShapes(l *shapeList) {
	hd := s.Hidden
	if s.Bidirectional {
		hd *= 2
	}
	G, E := s.gates()*hd, s.Embed
	l.add("src_embed.weight", s.Vocab, E)
	s.stackShapes(l, "encoder.", E)
	l.add("tgt_embed.weight", s.TgtVocab, E)
	l.add("decoder.weight_ih", G, E+hd)
	l.add("decoder.weight_hh", G, hd)
	l.add("decoder.bias_ih", G)
	l.add("decoder.bias_hh", G)
	switch s.Attention {
	case "bahdanau":
		l.add("attention.query.weight", hd, hd)
		l.add("attention.query.bias", hd)
		l.add("attention.key.weight", hd, hd)
		l.add("attention.v", hd)
	case nn.LuongGeneral:
		l.add("attention.weight", hd, hd)
	case nn.LuongConcat:
		l.add("attention.query.weight", hd, hd)
		l.add("attention.key.weight", hd, hd)
		l.add("attention.v", hd)
	}
	l.add("combine.weight", hd, 2*hd)
	l.add("out.weight", s.TgtVocab, hd)
	l.add("out.bias", s.TgtVocab)
}

// numel is the number of values of shape, saturating at math.MaxInt64.
func numel(shape []int) int64 {
	n := int64(1)
	for _, d := range shape {
		if d != 0 && n > math.MaxInt64/int64(d) {
			return math.MaxInt64
		}
		n *= int64(d)
	}
	return n
}

// isState reports whether a tensor name is optimizer or training state
// rather than a parameter.
func isState(name string) bool {
	return strings.HasPrefix(name, checkpoint.OptimPrefix) || strings.HasPrefix(name, checkpoint.TrainPrefix)
}

// checkTensors checks f's tensors against the parameters that s (defaults
// filled in, limits checked) implies: each must be present with its shape,
// and every other tensor must be optimizer or training state. The network
// s builds is then exactly as large as the parameters the file carries.
func checkTensors(s Spec, f *checkpoint.File) error {
	want := s.shapes()
	var need, have int64
	for _, p := range want {
		if n := numel(p.shape); n > math.MaxInt64-need {
			need = math.MaxInt64
		} else {
			need += n
		}
	}
	for n, t := range f.Tensors {
		if !isState(n) {
			have += int64(t.Len())
		}
	}
	// The sizes, when they differ, say how far apart the spec and the
	// file are: a hostile spec implies billions of parameters.
	sizes := ""
	if need != have {
		sizes = fmt.Sprintf(" (the spec implies %d parameters, the file holds %d values)", need, have)
	}
	names := make(map[string]bool, len(want))
	for _, p := range want {
		if s.quantized(p.name) {
			used, err := s.checkQuantTensor(f, p)
			if err != nil {
				return err
			}
			for _, n := range used {
				names[n] = true
			}
			continue
		}
		t, ok := f.Tensors[p.name]
		switch {
		case !ok:
			return fmt.Errorf("tensor %q is missing: the spec implies one of shape %v%s", p.name, p.shape, sizes)
		case !slices.Equal(t.Shape, p.shape):
			return fmt.Errorf("tensor %q: shape %v but the spec implies %v%s", p.name, t.Shape, p.shape, sizes)
		}
		names[p.name] = true
	}
	for _, n := range f.Names() {
		if !names[n] && !isState(n) {
			return fmt.Errorf("tensor %q is not a parameter of the spec's %s model (nor optimizer or training state)", n, s.Task)
		}
	}
	return checkQuantExtra(f, names, s.Task)
}

// Check validates the model file f without building its network (name is
// used in errors): its spec against the limits (MaxHidden, MaxLayers,
// MaxVocab, MaxInputs) and the task's rules, then against the file's
// tensors: every parameter the spec implies must be there with its shape,
// and every other tensor must be optimizer or training state. So a spec
// cannot describe a network larger than the file that carries it.
// FromFile, Load and the Load functions of each task check the same
// before they allocate. A file without a spec (a plain safetensors file)
// has nothing to check.
func Check(name string, f *checkpoint.File) error {
	if _, ok := f.Metadata[MetaSpec]; !ok {
		return nil
	}
	_, err := checkedSpec(name, f)
	return err
}

// checkedSpec returns f's spec, defaults filled in, once Check's checks
// pass.
func checkedSpec(name string, f *checkpoint.File) (Spec, error) {
	var s Spec
	ok, err := f.GetJSON(MetaSpec, &s)
	if err != nil {
		return s, fmt.Errorf("%s: %w", name, err)
	}
	if !ok {
		return s, fmt.Errorf("%s: not a recur model: no %q in the metadata", name, MetaSpec)
	}
	if s, err = s.withDefaults(); err != nil {
		return s, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkTensors(s, f); err != nil {
		return s, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}
