package serve

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/data/series"
	"github.com/recur-ml/recur/model"
	"github.com/recur-ml/recur/tensor"
)

// classifyIn is a classify request's texts as the network reads them:
// token ids cut to the model's max_len, with each text's counts before
// the cut.
type classifyIn struct {
	ids             [][]int
	tokens, unknown []int
}

// classifyJob checks req as the unbatched path does, in the same order
// (texts, then every text's token count, then empty texts), and encodes
// its texts.
func (s *Server) classifyJob(l *loaded, req *PredictRequest) (*job, error) {
	if err := s.texts(req); err != nil {
		return nil, err
	}
	p := l.cls.Prep()
	enc := p.Encoder
	in := &classifyIn{ids: make([][]int, len(req.Texts)), tokens: make([]int, len(req.Texts)), unknown: make([]int, len(req.Texts))}
	for i, t := range req.Texts {
		ids := enc.Encode(t)
		if (p.MaxLen == 0 || p.MaxLen > s.opts.MaxTokens) && len(ids) > s.opts.MaxTokens {
			return nil, tooMany(fmt.Sprintf("texts[%d]", i), "tokens", len(ids), s.opts.MaxTokens, "MaxTokens")
		}
		in.ids[i], in.tokens[i], in.unknown[i] = ids, len(ids), countID(ids, enc.Vocab.Unk)
	}
	j := &job{rows: len(req.Texts), in: in}
	for i, ids := range in.ids {
		if len(ids) == 0 {
			return nil, badRequest(fmt.Sprintf("texts[%d]", i), "the text has no tokens after cleaning")
		}
		if p.MaxLen > 0 && len(ids) > p.MaxLen {
			in.ids[i] = ids[:p.MaxLen]
		}
		j.long = max(j.long, len(in.ids[i]))
	}
	return j, nil
}

// classifyBatch runs the texts of jobs through the classifier in chunks
// of at most MaxBatch rows and batchTokens padded tokens, and answers
// each job.
func (s *Server) classifyBatch(l *loaded, jobs []*job) {
	var seqs [][]int
	for _, j := range jobs {
		seqs = append(seqs, j.in.(*classifyIn).ids...)
	}
	logits := make([][]float32, 0, len(seqs))
	for len(seqs) > 0 {
		n, long := 0, 0
		for n < len(seqs) && n < s.opts.MaxBatch && (n+1)*max(long, len(seqs[n])) <= s.batchTokens() {
			long = max(long, len(seqs[n]))
			n++
		}
		n = max(n, 1)
		logits = append(logits, classifyRows(l.cls, seqs[:n])...)
		seqs = seqs[n:]
	}
	names := l.cls.Classes()
	C := l.m.Spec().Classes
	if len(names) != C {
		names = make([]string, C)
		for k := range names {
			names[k] = fmt.Sprint(k)
		}
	}
	multi := l.cls.Prep().MultiLabel
	for _, j := range jobs {
		in := j.in.(*classifyIn)
		out := &ClassifyResponse{Task: model.Classify, Predictions: make([]Classification, len(in.ids))}
		for i := range in.ids {
			out.Predictions[i] = classification(logits[0], names, multi)
			out.Predictions[i].Tokens, out.Predictions[i].Unknown = in.tokens[i], in.unknown[i]
			logits = logits[1:]
		}
		j.out = out
	}
}

// classifyRows returns the logits of each of seqs, run as one padded
// batch with their lengths; one sequence is run beside a companion of
// one unknown token, so that every row is computed as in a batch of two
// or more (see the comment in batch.go).
func classifyRows(c *model.Classifier, seqs [][]int) [][]float32 {
	enc := c.Prep().Encoder
	n := len(seqs)
	if n == 1 {
		seqs = [][]int{seqs[0], {enc.Vocab.Unk}}
	}
	lg := c.Logits(model.NewTextBatch(seqs, nil, enc.Vocab.Pad))
	C := lg.Shape[1]
	out := make([][]float32, n)
	for b := range out {
		out[b] = lg.Data[b*C : (b+1)*C]
	}
	return out
}

// classification is what model.Classifier.Predict makes of one text's
// logits, computed the same way: softmax (or a sigmoid per class for a
// multi-label classifier) in float64, the most probable class, and a
// multi-label classifier's set of classes of probability 0.5 or more.
func classification(logits []float32, names []string, multi bool) Classification {
	probs := make([]float32, len(logits))
	c := Classification{Probabilities: make(map[string]float32, len(names))}
	if multi {
		for k, v := range logits {
			probs[k] = float32(1 / (1 + math.Exp(-float64(v))))
		}
		set := []string{}
		for k, v := range probs {
			if v >= 0.5 {
				set = append(set, names[k])
			}
		}
		c.Labels = &set
	} else {
		mx := logits[argmax(logits)]
		var sum float64
		for k, v := range logits {
			e := math.Exp(float64(v - mx))
			probs[k] = float32(e)
			sum += e
		}
		for k := range probs {
			probs[k] = float32(float64(probs[k]) / sum)
		}
	}
	c.Label = names[argmax(probs)]
	for k, name := range names {
		c.Probabilities[name] = probs[k]
	}
	return c
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

func countID(ids []int, id int) int {
	n := 0
	for _, v := range ids {
		if v == id {
			n++
		}
	}
	return n
}

// forecastIn is a forecast request's window, (1, Lookback, Inputs) in
// the pipeline's scaled space, and the cleaned frame its forecast is
// inverted against.
type forecastIn struct {
	x *tensor.Tensor
	g *series.Frame
}

// forecastJob prepares the window of frame f as model.Forecaster.Predict
// does: the training data's cleaning (missing values filled, outliers
// kept), then the pipeline's transform.
func forecastJob(fc *model.Forecaster, f *series.Frame) (*job, error) {
	cc := fc.Prep().Clean
	cc.FitRows, cc.Outliers = 0, series.OutliersKeep
	g, _, err := series.Clean(f, cc)
	if err != nil {
		return nil, badRequest("values", "model: cleaning %s: %v", f.Name, err)
	}
	x, err := fc.Prep().Pipeline.LastWindow(g)
	if err != nil {
		return nil, badRequest("values", "model: %v", err)
	}
	return &job{rows: 1, long: 1, in: &forecastIn{x: x, g: g}}, nil
}

// forecastBatch runs the windows of jobs side by side, (Lookback, B,
// Inputs), a lone window beside a copy of itself (see classifyRows), and
// answers each job in the data's units.
func (s *Server) forecastBatch(l *loaded, jobs []*job) {
	pl := l.fc.Prep().Pipeline
	L, F := pl.Lookback, len(pl.Inputs)
	B := max(len(jobs), 2)
	x := tensor.New(L, B, F)
	for b := range B {
		w := jobs[min(b, len(jobs)-1)].in.(*forecastIn).x.Data
		for t := range L {
			copy(x.Data[(t*B+b)*F:(t*B+b+1)*F], w[t*F:(t+1)*F])
		}
	}
	all := l.fc.Forward(x)
	H, K := pl.Horizon, len(pl.Targets)
	for b, j := range jobs {
		in := j.in.(*forecastIn)
		pred, err := pl.Invert(nil, tensor.FromSlice(all.Data[b*H*K:(b+1)*H*K], 1, H, K), in.g, []int{in.g.Len()})
		if err != nil {
			j.err = badRequest("values", "model: %v", err)
			continue
		}
		values := make([][]float64, H)
		for h := range values {
			values[h] = make([]float64, K)
			for k := range values[h] {
				values[h][k] = float64(pred.Data[h*K+k])
			}
		}
		out := &ForecastResponse{Task: model.Forecast, Horizon: H}
		if out.Forecast, err = forecastRows(pl.Targets, values); err != nil {
			j.err = err
			continue
		}
		j.out = out
	}
}
