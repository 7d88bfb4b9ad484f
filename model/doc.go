// Package model turns a Spec (JSON or YAML) into a network with a task
// head, trains it through package train, saves it with its preprocessing
// state and predicts with it.
//
// A Spec names the task and the architecture:
//
//	task: forecast      # forecast | classify | lm | seq2seq
//	cell: lstm          # lstm | gru
//	hidden: 64
//	layers: 1
//	inputs: 1           # features per time step (forecast)
//	horizon: 1
//
// Build validates it and returns a *Model whose parameters carry PyTorch
// state_dict names: the recurrent stack under "rnn." (rnn.weight_ih_l0, ...,
// loadable into torch.nn.LSTM after stripping the prefix), the embedding under
// "embedding." and the output layer under "head.".
//
// Tasks:
//   - forecast: windows (T, B, I) → recurrent stack → last step → Linear to
//     Horizon×Targets; optionally residual (the head predicts the change from
//     the last observed target value). Forecast builds the windows, scales
//     them, computes RMSE/MAE in the original units, and compares against the
//     persistence and seasonal-naive baselines.
//   - classify: token ids → embedding → (Bi)LSTM → last/mean/max/attention pooling →
//     Linear to classes.
//   - lm: token ids → embedding → stacked LSTM → Linear to the vocabulary
//     (optionally tied to the embedding), trained with truncated BPTT and
//     the state carried across chunks; perplexity and bits per token;
//     Generate samples a continuation.
//   - seq2seq: nn.Seq2Seq, an attention encoder-decoder (Luong, with input
//     feeding) over sentence pairs; Translate decodes and returns the
//     attention weights.
//
// Each task has a train.Task implementation (ForecastTask, ClassifyTask,
// LMTask, Seq2SeqTask) and a data type implementing train.Data
// (ForecastData, TextData, LMData, PairData).
//
// Save writes a safetensors file (package checkpoint) whose metadata holds
// the spec and the preprocessing state; Load reads it back and rebuilds the
// model. InitFrom copies matching parameters from another model for
// transfer learning and reports which matched (a head of another size keeps
// its fresh initialization); Freeze and NewOptimizer (a smaller backbone
// learning rate) complete fine-tuning. GateSaturation measures how many
// LSTM gates are saturated, to make vanishing gradients visible.
//
// Regularization is part of the spec: dropout between layers and before
// the head, the recurrent stack's variational input dropout, recurrent
// dropout, weight drop (DropConnect on W_hh) and zoneout, and embedding
// dropout (whole words), each a probability in [0, 1); init, init_recurrent
// and forget_bias choose the initialization. Every generator that draws
// their masks is returned by Model.RNGs, for train.Config.RNGs, so a
// resumed run continues with the same masks.
package model
