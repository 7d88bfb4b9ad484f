// Package model is recur's front door: one type per task, built with its
// preprocessing, that trains on raw data and predicts from raw data.
//
//	fc, err := model.NewForecaster(model.ForecastConfig{Spec: model.Spec{Residual: true}})
//	report, err := fc.Fit(ctx, frame)          // a CSV read by series.ReadFile, or series.Of(y)
//	fmt.Println(report.Test, report.Baselines) // RMSE, MAE, MAPE, sMAPE, MASE against the baselines
//	err = fc.Save("air.safetensors")
//	g, err := model.LoadForecaster("air.safetensors")
//	next, err := g.Predict(frame)              // the Horizon steps after the last row
//
// The front doors:
//   - Forecaster: windows of a series → recurrent stack → final state →
//     Linear to Horizon × Targets. Fit cleans the series (series.Clean),
//     splits it chronologically, fits the pipeline (log, scaler) on the
//     training rows (series.Prepare), chooses the lookback, season and
//     batch size a short series needs, trains, and scores the test rows
//     against persistence, seasonal naive, the training mean,
//     Holt-Winters and ARIMA (series.Baselines). Predict and Evaluate
//     take new data in its units. With Spec.Base BaseAuto it chooses its
//     form (the network, local windows, the network correcting
//     Holt-Winters, Holt-Winters alone, ARIMA alone, or their mean) on
//     validation folds; Spec.Ensemble trains several networks from
//     different seeds and forecasts their mean.
//   - GlobalForecaster: one network trained across many series (a folder
//     or a long-format file, series.ReadCollection), each series scaled
//     on its own training rows and scored in its own units; it forecasts
//     series it never saw.
//   - Classifier: token ids → embedding → (Bi)LSTM/GRU/RNN →
//     last/mean/max/attention pooling → Linear to the classes. Fit builds
//     the vocabulary from the training texts (or reuses a pretrained
//     model's) and batches through data/batch's Loader (bucketed by
//     length); Predict returns labels and probabilities.
//   - LanguageModel: token ids → embedding → stack → Linear to the
//     vocabulary (optionally tied), trained with truncated BPTT and the
//     state carried across chunks; Evaluate gives perplexity and bits per
//     token; Generate samples a continuation.
//   - Translator: nn.Seq2Seq, an attention encoder-decoder (Luong, with
//     input feeding); Translate decodes greedily, by sampling or with beam
//     search and returns the attention weights.
//   - Tagger: a label or values at every step of numeric sequences.
//
// Each is configured by a struct whose zero fields mean documented
// defaults: a Spec (the architecture: cell lstm, gru, rnn or rnn_relu,
// hidden, layers, projection, bidirectional, every dropout kind, init), the
// task's data options, and a FitConfig (optimizer and its settings, per-group
// learning rates, schedule by name, and a train.Config for epochs, clipping,
// accumulation, early stopping with restore-best, plateaus, freezing,
// checkpoints, logs and callbacks). FitConfig.InitFrom copies matching
// parameters from another model (transfer learning) and FitConfig.Resume
// continues a checkpointed run exactly. FindLR runs the learning-rate range
// test on the same data.
//
// Every front door is a Model: Spec, Params (PyTorch state_dict names: the
// stack under "rnn." — rnn.weight_ih_l0, ..., loadable into torch.nn.LSTM
// after stripping the prefix — the embedding under "embedding.", the head
// under "head."), Metrics, Save, File, InitFrom and Task, the train.Task for
// a loop of one's own. Load reads any model file (or checkpoint) back as
// the right front door; LoadForecaster and its siblings check the task.
// Build makes a front door from a Spec alone, with fresh weights and no
// preprocessing, for custom loops and benchmarks.
//
// Model files are safetensors (package checkpoint) whose metadata holds
// the spec, the preprocessing state and the metrics of the last Fit. A
// file is untrusted input: Load checks its spec against the limits
// (MaxHidden, MaxLayers, MaxVocab, MaxInputs) and against the names and
// shapes of the tensors the file carries before it allocates the network,
// so no spec can ask for more memory than the file's own size; Check runs
// the same checks alone.
// GateSaturation measures how many LSTM gates are saturated, to make
// vanishing gradients visible.
package model
