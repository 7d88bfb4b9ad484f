package onnx

import (
	"fmt"

	"github.com/recur-ml/recur/model"
)

// Symbolic dimensions of the graphs' inputs and outputs.
var (
	batch   = sym("batch")
	steps   = sym("time")
	srcTime = sym("src_time")
)

// forecast builds a forecaster's graph: input (batch, lookback, inputs)
// in the pipeline's scaled space → stack → final state → head, reshaped to
// (batch, horizon, targets, levels), plus the residual or the base, sorted
// and widened for quantile levels.
func (e *exporter) forecast(f *model.Forecaster) {
	s := e.spec
	lookback := steps
	var widen []float64
	if f != nil && f.Prep() != nil {
		if f.Prep().Pipeline != nil {
			lookback = fixed(f.Prep().Pipeline.Lookback)
		}
		widen = f.Prep().Widen
	}
	x := e.input("input", tFloat, "windows of the series in the pipeline's scaled space (see metadata recur.pipeline), oldest step first", batch, lookback, fixed(s.Inputs))
	xs := x
	if s.Local {
		// The targets are read relative to the window's last step.
		mask := make([]float32, s.Inputs)
		for _, i := range residualInputs(f, s) {
			mask[i] = 1
		}
		last := e.op("Gather", []string{x, e.scalar(-1)}, attrInt("axis", 1))
		shift := e.op("Mul", []string{last, e.floats("local_mask", mask, s.Inputs)})
		xs = e.op("Sub", []string{x, e.unsqueeze(shift, 1)})
	}
	H, K, Q := int64(s.Horizon), int64(s.Targets), int64(max(len(s.Quantiles), 1))
	var add string // what each member's output is added to: the base or the last value
	switch {
	case s.Base != "":
		base := e.input("base", tFloat, "the base model's forecast (Holt-Winters, recur.holt_winters, or ARIMA, recur.arima) in the scaled space; the network adds its correction", batch, fixed(s.Horizon), fixed(s.Targets))
		add = e.unsqueeze(base, 3)
	case s.Residual:
		last := e.op("Gather", []string{x, e.scalar(-1)}, attrInt("axis", 1))
		prev := e.op("Gather", []string{last, e.ints(residualInputs(f, s)...)}, attrInt("axis", 1))
		add = e.unsqueeze(prev, 1, 3)
	}
	// An ensemble (Spec.Ensemble) is its members' mean, each member's
	// output with the base or last value added first, as recur computes it.
	y := e.forecastMember(xs, "", add)
	for k := 1; k < s.Ensemble; k++ {
		y = e.op("Add", []string{y, e.forecastMember(xs, fmt.Sprintf("ensemble.%d.", k), add)})
	}
	if s.Ensemble > 1 {
		y = e.op("Mul", []string{y, e.floats("ensemble_mean", []float32{1 / float32(s.Ensemble)})})
	}
	if Q > 1 {
		// Quantile levels may cross; sorted values are never worse.
		y = e.opN("TopK", []string{y, e.ints(Q)}, 2, attrInt("axis", -1), attrInt("largest", 0), attrInt("sorted", 1))[0]
		if widen != nil {
			y = e.op("Add", []string{y, e.floats("widen", widening(widen, int(Q)), int(H), int(K), int(Q))})
		}
		e.output("quantiles", y, tFloat, "every quantile level (recur.quantiles) of every step and target, scaled", batch, fixed(s.Horizon), fixed(s.Targets), fixed(int(Q)))
	}
	point := e.op("Gather", []string{y, e.scalar(int64(median(s.Quantiles)))}, attrInt("axis", 3))
	e.output("forecast", point, tFloat, "the point forecast of the horizon steps after the window, in the scaled space", batch, fixed(s.Horizon), fixed(s.Targets))
}

// forecastMember is one network of a forecaster, its parameters named
// with prefix: the window xs (batch, lookback, inputs) → stack → final
// state → head, as (batch, horizon, targets, levels), plus add when set.
func (e *exporter) forecastMember(xs, prefix, add string) string {
	s := e.spec
	out := e.stack(stackOf(s, prefix+"rnn."), e.transpose(xs, 1, 0, 2), "", nil, nil)
	// The final state: for one direction the output at the last step, for
	// two the reverse direction's summary of the whole window too.
	feat := e.final(out.h[s.Layers-1], s.Bidirectional)
	b := ""
	if e.has(prefix + "head.bias") {
		b = prefix + "head.bias"
	}
	y := e.reshape(e.linear(feat, 2, prefix+"head.weight", b), 0, int64(s.Horizon), int64(s.Targets), int64(max(len(s.Quantiles), 1)))
	if add != "" {
		y = e.op("Add", []string{y, add})
	}
	return y
}

// widening returns the conformal widening (H·K values) as (H, K, Q):
// subtracted from the lowest level, added to the highest.
func widening(w []float64, Q int) []float32 {
	out := make([]float32, len(w)*Q)
	for i, v := range w {
		out[i*Q] = -float32(v)
		out[i*Q+Q-1] = float32(v)
	}
	return out
}

// classify builds a classifier's graph: token ids (or numeric sequences)
// with their lengths → embedding → stack → pooling → head → logits and
// probabilities (softmax, or a sigmoid per class when multi-label).
func (e *exporter) classify(c *model.Classifier) {
	s := e.spec
	var xt string
	if s.Vocab > 0 {
		ids := e.input("input_ids", tInt64, "token ids (see metadata recur.vocab), padded after each sequence's end", batch, steps)
		xt = e.op("Gather", []string{e.init("embedding.weight"), e.transpose(ids, 1, 0)})
	} else {
		x := e.input("input", tFloat, "numeric sequences, padded after each sequence's end", batch, steps, fixed(s.Inputs))
		xt = e.transpose(x, 1, 0, 2)
	}
	lens := e.input("sequence_lens", tInt32, "each sequence's number of valid steps, in [1, time]", batch)
	out := e.stack(stackOf(s, "rnn."), xt, lens, nil, nil)
	var feat string
	switch s.Pool {
	case "mean", "max":
		feat = e.pool(s.Pool, out.y, lens)
	case "attention":
		var w string
		feat, w = e.attentionPool(out.y, lens)
		e.output("attention", w, tFloat, "the attention pooling's weight of each step (0 on padding)", batch, steps)
	default: // the top layer's final states, [forward | reverse]
		feat = e.final(out.h[s.Layers-1], s.Bidirectional)
	}
	logits := e.head(feat, 2)
	e.output("logits", logits, tFloat, "unnormalized class scores (classes in recur.classes order)", batch, fixed(s.Classes))
	multi := c != nil && c.Prep() != nil && c.Prep().MultiLabel
	if multi {
		e.output("probabilities", e.op("Sigmoid", []string{logits}), tFloat, "each class's probability on its own (multi-label: a class is predicted at 0.5 or more)", batch, fixed(s.Classes))
	} else {
		e.output("probabilities", e.op("Softmax", []string{logits}, attrInt("axis", -1)), tFloat, "class probabilities", batch, fixed(s.Classes))
	}
}

// pool is mean or max pooling of y (T, B, F) over each sequence's valid
// steps: (B, F).
func (e *exporter) pool(kind, y, lens string) string {
	mask := e.unsqueeze(e.transpose(e.lengthMask(e.dimOf(y, 0), lens), 1, 0), 2) // (T, B, 1)
	if kind == "max" {
		low := e.op("Where", []string{mask, y, e.scalarF(float32(negInf))})
		return e.op("ReduceMax", []string{low}, attrInts("axes", 0), attrInt("keepdims", 0))
	}
	m := e.op("Cast", []string{mask}, attrInt("to", int64(tFloat)))
	sum := e.op("ReduceSum", []string{e.op("Mul", []string{y, m}), e.ints(0)}, attrInt("keepdims", 0))
	n := e.op("Cast", []string{e.unsqueeze(lens, 1)}, attrInt("to", int64(tFloat)))
	return e.op("Div", []string{sum, n})
}

// attentionPool is nn.AttentionPool over y (T, B, F): the pooled (B, F)
// and the weights (B, T).
func (e *exporter) attentionPool(y, lens string) (pooled, weights string) {
	keys := e.transpose(y, 1, 0, 2) // (B, T, F)
	th := e.op("Tanh", []string{e.linear(keys, 3, "pool.proj.weight", "pool.proj.bias")})
	scores := e.op("MatMul", []string{th, e.init("pool.v")}) // (B, T)
	weights = e.maskedSoftmax(scores, e.lengthMask(e.dimOf(keys, 1), lens))
	pooled = e.squeeze(e.op("MatMul", []string{e.unsqueeze(weights, 1), keys}), 1)
	return pooled, weights
}

// lm builds a language model's graph: token ids (batch, time) and the
// state → logits of the next token after each step and the new state. One
// step is time = 1; a prompt can go in as one call.
func (e *exporter) lm() {
	s := e.spec
	ids := e.input("input_ids", tInt64, "token ids (see metadata recur.vocab)", batch, steps)
	L := fixed(s.Layers)
	h0 := e.input("h0", tFloat, "each layer's hidden state before the first step (zeros to start a text)", L, batch, fixed(s.Hidden))
	var c0 string
	if s.Cell == "lstm" {
		c0 = e.input("c0", tFloat, "each layer's cell state before the first step (zeros to start a text)", L, batch, fixed(s.Hidden))
	}
	hs, cs := e.layerStates(h0, s.Layers), e.layerStates(c0, s.Layers)
	xt := e.op("Gather", []string{e.init("embedding.weight"), e.transpose(ids, 1, 0)})
	out := e.stack(stackOf(s, "rnn."), xt, "", hs, cs)
	w := "head.weight"
	if !e.has(w) { // tied to the embedding
		w = "embedding.weight"
	}
	b := ""
	if e.has("head.bias") {
		b = "head.bias"
	}
	logits := e.linear(e.transpose(out.y, 1, 0, 2), 3, w, b)
	e.output("logits", logits, tFloat, "unnormalized scores of the next token after each step", batch, steps, fixed(s.Vocab))
	e.output("hn", e.op("Concat", out.h, attrInt("axis", 0)), tFloat, "each layer's hidden state after the last step", L, batch, fixed(s.Hidden))
	if c0 != "" {
		e.output("cn", e.op("Concat", out.c, attrInt("axis", 0)), tFloat, "each layer's cell state after the last step", L, batch, fixed(s.Hidden))
	}
}

// layerStates splits a state (L, B, H) into L states (1, B, H); nil for
// "".
func (e *exporter) layerStates(x string, L int) []string {
	if x == "" {
		return nil
	}
	if L == 1 {
		return []string{x}
	}
	ones := make([]int64, L)
	for i := range ones {
		ones[i] = 1
	}
	return e.opN("Split", []string{x, e.ints(ones...)}, L, attrInt("axis", 0))
}

// tag builds a tagger's graph: sequences (batch, time, inputs) with their
// lengths → stack → head at every step.
func (e *exporter) tag(multi bool) {
	s := e.spec
	x := e.input("input", tFloat, "numeric sequences, padded after each sequence's end", batch, steps, fixed(s.Inputs))
	lens := e.input("sequence_lens", tInt32, "each sequence's number of valid steps, in [1, time]", batch)
	out := e.stack(stackOf(s, "rnn."), e.transpose(x, 1, 0, 2), lens, nil, nil)
	y := e.transpose(out.y, 1, 0, 2)
	width := s.Hidden // no head: the top layer's outputs themselves
	if s.Bidirectional {
		width *= 2
	}
	if e.has("head.weight") {
		y = e.head(y, 3)
		width = max(s.Classes, s.Targets)
	}
	e.output("outputs", y, tFloat, "the outputs of every step (logits for classes; values at padded steps are not meaningful)", batch, steps, fixed(width))
	switch {
	case s.Classes > 0:
		e.output("probabilities", e.op("Softmax", []string{y}, attrInt("axis", -1)), tFloat, "class probabilities of every step", batch, steps, fixed(width))
	case multi:
		e.output("probabilities", e.op("Sigmoid", []string{y}), tFloat, "each label's probability at every step", batch, steps, fixed(width))
	}
}
