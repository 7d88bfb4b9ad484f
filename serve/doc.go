// Package serve answers HTTP requests with a trained recur model.
//
// New wraps one loaded model.Model in a Server, an http.Handler. The model
// is never mutated after New (inference runs with a nil tape and each
// request gets its own sampling RNG), so one Server answers concurrent
// requests; Options.Concurrency bounds how many predictions are computed at
// once. recur serve puts it behind an http.Server with explicit timeouts:
//
//	m, err := model.Load("runs/air/model.safetensors")
//	...
//	s, err := serve.New(m, serve.Options{})
//	...
//	http.ListenAndServe("127.0.0.1:8080", s)
//
// Routes:
//
//	GET  /healthz      {"status":"ok"}: alive (liveness)
//	GET  /readyz       {"status":"ready","model":NAME}, or 503
//	                   {"status":"draining"} after Drain (readiness)
//	GET  /metrics      Prometheus metrics (below)
//	GET  /v1/model     ModelInfo: name, task, spec, parameters, the metrics
//	                   recorded at training time, a preprocessing summary
//	POST /v1/predict   PredictRequest → the task's response
//
// Other paths are 404 and other methods on these paths 405, both from
// http.ServeMux (plain text). With Options.AuthToken set, every route but
// the two probes needs the token, /metrics included.
//
// Requests are one JSON object (PredictRequest); an unknown field is an
// error, a field of another task is ignored. By task:
//
// forecast: "values" maps every input column of the model to its last
// lookback raw values, oldest first, in the data's original units. The
// server applies the saved log transform and scaler exactly as recur predict
// does and answers in the same units:
//
//	{"values": {"passengers": [112, 118, 132, ...]}}
//	→ {"task":"forecast","horizon":3,"forecast":{"passengers":[431.2, 420.8, 452.9]}}
//
// A column given fewer or more values than the lookback, a null (missing)
// value, a column the model does not know or a value the log transform
// cannot take is a 400 naming the field ("values.passengers",
// "values.passengers[4]").
//
// A global forecaster (one network across many series, recur train --data
// DIR) needs "series" besides: the name of a series it was trained on,
// whose last lookback values "values" then holds under that series' column
// and whose saved scaling is applied; or any other name, whose one column
// then holds at least lookback values, which its scaling is fitted on (as
// recur predict does for a series not seen in training). GET /v1/model lists
// the training series under preprocessing.series:
//
//	{"series": "store-17", "values": {"sales": [52, 48, 61, ...]}}
//
// A missing "series" is a 400 naming the field. A server keeps its request
// shape: a global forecaster and a forecaster of one series do not replace
// each other on reload.
//
// classify: "texts" is an array of texts (at most MaxItems, none empty).
// Each is cleaned and tokenized by the model's saved encoder; tokens not in
// the vocabulary map to its unknown token and are counted in "unknown";
// texts longer than the model's max_len are cut as in training:
//
//	{"texts": ["a fine film", "dull"]}
//	→ {"task":"classify","predictions":[{"label":"pos","probabilities":{"neg":0.1,"pos":0.9},"tokens":3,"unknown":0}, ...]}
//
// lm: "prompt" (required) is continued by "length" tokens (default 200, at
// most MaxLength) drawn with "temperature" (default 0.8; 0 is greedy; at
// most 100), "top_k" (0: all), "top_p" (0: off; at most 1) and "seed"
// (default 1; the same seed gives the same text):
//
//	{"prompt": "To be", "length": 20, "temperature": 0.5, "seed": 7}
//	→ {"task":"lm","completion":"...","text":"To be...","tokens":20,"prompt_unknown":0}
//
// seq2seq: "texts" are source sentences, translated greedily unless a
// temperature is given; "max_length" bounds each output (default twice the
// source length plus 10, at most MaxLength) and "attention": true adds, per
// output token, the attention weights over the source tokens:
//
//	{"texts": ["je suis là"], "attention": true}
//	→ {"task":"seq2seq","translations":[{"source":"je suis là","output":"i am here","unknown":0,"attention":[[...]]}]}
//
// Every failure is a JSON Error, {"error": "...", "field": "..."}, with the
// field omitted when no single field is at fault:
//
//	400  malformed JSON, a value of the wrong type, an unknown field, or a
//	     value out of range (the field names it: "texts[2]", "length")
//	401  Options.AuthToken is set and the request lacks it (but /healthz
//	     and /readyz)
//	403  a Host header not in Options.AllowedHosts
//	408  a body that stopped arriving (the http.Server's ReadTimeout)
//	413  a body larger than Options.MaxBody
//	415  a predict body not sent as application/json
//	422  a request over one of the limits: MaxItems texts, MaxTokens
//	     tokens of a text or prompt, MaxLength tokens to generate,
//	     MaxAttention attention weights; the message names the limit
//	503  the request did not finish within Options.Timeout (its deadline,
//	     which includes waiting for a computing slot), or, with
//	     Retry-After, Options.Queue requests already wait for a slot
//	500  a bug: a panic is recovered, logged with its stack, and answered
//	     {"error":"internal error"}
//
// Every limit is checked before the work starts, so a request's memory
// and time are bounded by the options, not by what it asks for; a request
// past its deadline stops computing (the context is checked between
// tokens and texts) and frees its slot.
//
// # Metrics
//
// GET /metrics serves a registry of the Server's own (Server.Registry; no
// global state, so several Servers in one process never collide):
//
//	recur_http_requests_total{route,code}          requests answered
//	recur_http_request_duration_seconds{route}     latency histogram
//	recur_http_requests_in_flight                  requests being answered
//	recur_queue_length                             predictions or batches waiting for a slot
//	recur_computing, recur_computing_slots         slots in use, and Concurrency
//	recur_batch_rows, recur_batch_requests         histograms of batch sizes (rows, requests)
//	recur_model_info{name,task}                    1 for the model in service
//	recur_model_parameters                         its scalar parameters
//	recur_model_loaded_timestamp_seconds           when it was put in service
//	recur_model_reloads_total{result}              Swaps and Reloads, ok or error
//	go_*, process_*                                the Go runtime and the process (RSS, CPU, fds)
//
// The route label is one of the served paths or "other", so a scan of
// random paths cannot grow the label sets. At debug level the Logger gets
// one line per request: method, route, status, duration and bytes.
//
// # Reloading
//
// Swap puts another model of the same task in service, and Reload loads
// one and swaps it in; recur serve reloads its file on SIGHUP. The new
// model is checked as New checks one before it replaces the old; on an
// error the old model stays. The model in service is held by an atomic
// pointer: each request takes it once, when it arrives, so requests that
// arrived before a swap finish on the old model (a batch never mixes the
// two) and no request is dropped.
//
// # Batching
//
// With Options.MaxBatch above one, the concurrent requests of a
// classifier or a point forecaster are gathered into batches of up to
// MaxBatch rows (texts or windows), run as one forward pass: a
// classifier's texts padded to the batch's longest, with their lengths, so
// each is computed only over its own tokens. A batch runs when it is full,
// when Options.BatchWait has passed, or at once when no other request is
// on its way (a lone request does not wait); while it waits for a
// computing slot it keeps taking requests, so under load batches fill
// while the slots are busy. A batch that can still take requests
// computes only while fewer than half of the Options.Concurrency slots
// (at least one) compute batches, so that the other CPUs read the
// requests that fill it; a full batch takes any free slot, so that a
// model too slow for its requests computes on every CPU. Language models, translators, quantile
// forecasters (Spec.Quantiles), hybrid ones (Spec.Base) and global ones are
// served unbatched.
//
// Exactness. A row's results in a batch of two or more rows are
// bit-identical whatever the batch's size and its other rows (tested
// under concurrency): the recurrent layers run each sequence's steps with
// the same kernels on the same operands in the same order, however many
// sequences run beside it. A batch of a single row is computed
// differently in the last bits: its products of one row run the GEMV
// kernels, which sum a row's dot product in 16 lane sums reduced pairwise
// where the GEMM's micro-kernel runs one fused multiply-add chain (the
// output head, and the input projection of a one-token text), and for
// inputs wider than 256 features its biases join the first k-block's sum
// instead of being added after it (see nn's recurrent_strategy.go). So
// the batched path runs a lone row beside a companion row (one unknown
// token, or a copy of the window) whose results it drops, and its answers
// never depend on what they were batched with. They differ from the
// unbatched answers (model.Classifier.Predict and Forecaster.Predict, a
// batch of one, as recur predict computes them) by float32 rounding only
// (BENCHMARKS.md gives the measured differences); the tests hold
// probabilities to 1e-6 and forecasts to a relative 1e-5. A label can
// differ only where two classes tie to that precision.
package serve
