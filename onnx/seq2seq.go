package onnx

// A seq2seq model (nn.Seq2Seq) exports as two graphs: the encoder, run
// once per source batch, and one decoder step, run once per target token
// with the state the previous step returned. The encoder's outputs are
// named as the decoder's inputs, so a consumer passes them on by name.

// decoderWidth is the decoder's hidden size D·H.
func (e *exporter) decoderWidth() int {
	if e.spec.Bidirectional {
		return 2 * e.spec.Hidden
	}
	return e.spec.Hidden
}

// attnProjWidth is the width of the projected keys: the decoder's width,
// or the additive attention's width.
func (e *exporter) attnProjWidth() int {
	switch e.spec.Attention {
	case "concat", "bahdanau":
		return e.param("attention.v").Len()
	}
	return e.decoderWidth()
}

// encoder builds the encoder graph: source ids and lengths → keys (the
// encoder's outputs, batch-major), the keys as the attention projects
// them, and the decoder's first state.
func (e *exporter) encoder() {
	s, hd := e.spec, fixed(e.decoderWidth())
	ids := e.input("src_ids", tInt64, "source token ids (see metadata recur.src_vocab), padded with 0 after each sequence's end", batch, srcTime)
	lens := e.input("src_lens", tInt32, "each source sequence's number of valid tokens, in [1, src_time]", batch)
	xt := e.op("Gather", []string{e.init("src_embed.weight"), e.transpose(ids, 1, 0)})
	out := e.stack(stackOf(s, "encoder."), xt, lens, nil, nil)
	keys := e.transpose(out.y, 1, 0, 2)
	var proj string
	switch s.Attention {
	case "general":
		proj = e.linear(keys, 3, "attention.weight", "")
	case "concat", "bahdanau":
		proj = e.linear(keys, 3, "attention.key.weight", "")
	default:
		proj = e.op("Identity", []string{keys})
	}
	h := e.final(out.h[s.Layers-1], s.Bidirectional)
	e.output("keys", keys, tFloat, "the encoder's outputs, what the decoder attends to", batch, srcTime, hd)
	e.output("proj_keys", proj, tFloat, "the keys as the attention projects them (the keys themselves for dot attention)", batch, srcTime, fixed(e.attnProjWidth()))
	e.output("h", h, tFloat, "the decoder's first hidden state: the top encoder layer's final states, [forward | reverse]", batch, hd)
	if s.Cell == "lstm" {
		e.output("c", e.final(out.c[s.Layers-1], s.Bidirectional), tFloat, "the decoder's first cell state", batch, hd)
	}
	zeros := e.op("ConstantOfShape", []string{e.op("Shape", []string{h})})
	e.output("feed", zeros, tFloat, "the attentional vector fed to the first step: zeros", batch, hd)
}

// decoder builds one decoder step: the previous token and the state →
// the next token's logits, the attention weights and the next state.
func (e *exporter) decoder() {
	s, hd := e.spec, fixed(e.decoderWidth())
	prev := e.input("prev_ids", tInt64, "the previous target token (recur.tgt_bos at the first step)", batch)
	h := e.input("h", tFloat, "the decoder's hidden state", batch, hd)
	var c string
	if s.Cell == "lstm" {
		c = e.input("c", tFloat, "the decoder's cell state", batch, hd)
	}
	feed := e.input("feed", tFloat, "the previous step's attentional vector (zeros at the first step)", batch, hd)
	keys := e.input("keys", tFloat, "the encoder's keys", batch, srcTime, hd)
	proj := e.input("proj_keys", tFloat, "the encoder's projected keys", batch, srcTime, fixed(e.attnProjWidth()))
	lens := e.input("src_lens", tInt32, "each source sequence's number of valid tokens", batch)

	emb := e.op("Gather", []string{e.init("tgt_embed.weight"), prev})
	x := e.unsqueeze(e.op("Concat", []string{emb, feed}, attrInt("axis", 1)), 0) // (1, B, E+hd)
	op := rnnOp{cell: s.Cell, hidden: e.decoderWidth(), name: "decoder",
		wih: []string{"decoder.weight_ih"}, whh: []string{"decoder.weight_hh"}, bih: []string{"decoder.bias_ih"}, bhh: []string{"decoder.bias_hh"}}
	c0 := ""
	if c != "" {
		c0 = e.unsqueeze(c, 0)
	}
	_, hn, cn := e.rnnNode(op, x, "", e.unsqueeze(h, 0), c0)
	h1 := e.squeeze(hn, 0)
	weights := e.maskedSoftmax(e.scores(h1, proj), e.lengthMask(e.dimOf(keys, 1), lens))
	ctx := e.squeeze(e.op("MatMul", []string{e.unsqueeze(weights, 1), keys}), 1)
	feed1 := e.op("Tanh", []string{e.linear(e.op("Concat", []string{ctx, h1}, attrInt("axis", 1)), 2, "combine.weight", "")})
	logits := e.linear(feed1, 2, "out.weight", "out.bias")
	e.output("logits", logits, tFloat, "unnormalized scores of the next target token (see metadata recur.tgt_vocab)", batch, fixed(s.TgtVocab))
	e.output("attention", weights, tFloat, "the attention weights over the source tokens", batch, srcTime)
	e.output("h_out", h1, tFloat, "the next hidden state", batch, hd)
	if c != "" {
		e.output("c_out", e.squeeze(cn, 0), tFloat, "the next cell state", batch, hd)
	}
	e.output("feed_out", feed1, tFloat, "the attentional vector to feed to the next step", batch, hd)
}

// scores returns the attention scores (B, T) of query h (B, dq) over the
// projected keys proj (B, T, P).
func (e *exporter) scores(h, proj string) string {
	switch e.spec.Attention {
	case "concat", "bahdanau":
		b := ""
		if e.has("attention.query.bias") {
			b = "attention.query.bias"
		}
		q := e.unsqueeze(e.linear(h, 2, "attention.query.weight", b), 1)
		th := e.op("Tanh", []string{e.op("Add", []string{proj, q})})
		return e.op("MatMul", []string{th, e.init("attention.v")})
	}
	return e.squeeze(e.op("MatMul", []string{proj, e.unsqueeze(h, 2)}), 2)
}
