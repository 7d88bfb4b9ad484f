package serve

import (
	"fmt"

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
// its texts as the model reads them.
func (s *Server) classifyJob(l *loaded, req *PredictRequest) (*job, error) {
	if err := s.texts(req); err != nil {
		return nil, err
	}
	n := len(req.Texts)
	in := &classifyIn{ids: make([][]int, n), tokens: make([]int, n), unknown: make([]int, n)}
	limited := l.cls.Prep().MaxLen == 0 || l.cls.Prep().MaxLen > s.opts.MaxTokens
	for i, t := range req.Texts {
		in.ids[i], in.tokens[i], in.unknown[i] = l.cls.EncodeText(t)
		if limited && in.tokens[i] > s.opts.MaxTokens {
			return nil, tooMany(fmt.Sprintf("texts[%d]", i), "tokens", in.tokens[i], s.opts.MaxTokens, "MaxTokens")
		}
	}
	j := &job{rows: n, in: in}
	for i, ids := range in.ids {
		if in.tokens[i] == 0 {
			return nil, badRequest(fmt.Sprintf("texts[%d]", i), "the text has no tokens after cleaning")
		}
		j.long = max(j.long, len(ids))
	}
	return j, nil
}

// classifyBatch runs the texts of jobs through the classifier in chunks
// of at most MaxBatch rows and batchTokens padded tokens
// (model.Classifier.PredictIDs), and answers each job.
func (s *Server) classifyBatch(l *loaded, jobs []*job) {
	var seqs [][]int
	for _, j := range jobs {
		seqs = append(seqs, j.in.(*classifyIn).ids...)
	}
	preds := make([]model.Prediction, 0, len(seqs))
	for len(seqs) > 0 {
		n, long := 0, 0
		for n < len(seqs) && n < s.opts.MaxBatch && (n+1)*max(long, len(seqs[n])) <= s.batchTokens() {
			long = max(long, len(seqs[n]))
			n++
		}
		n = max(n, 1)
		preds = append(preds, l.cls.PredictIDs(seqs[:n])...)
		seqs = seqs[n:]
	}
	names := classNames(l.cls)
	for _, j := range jobs {
		in := j.in.(*classifyIn)
		out := &ClassifyResponse{Task: model.Classify, Predictions: make([]Classification, len(in.ids))}
		for i := range in.ids {
			preds[0].Tokens, preds[0].Unknown = in.tokens[i], in.unknown[i]
			out.Predictions[i] = classificationOf(preds[0], names)
			preds = preds[1:]
		}
		j.out = out
	}
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
