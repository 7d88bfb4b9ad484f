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
//	GET  /healthz      {"status":"ok"}
//	GET  /v1/model     ModelInfo: name, task, spec, parameters, the metrics
//	                   recorded at training time, a preprocessing summary
//	POST /v1/predict   PredictRequest → the task's response
//
// Other paths are 404 and other methods on these paths 405, both from
// http.ServeMux (plain text).
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
//	401  Options.AuthToken is set and the request lacks it (but /healthz)
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
package serve
