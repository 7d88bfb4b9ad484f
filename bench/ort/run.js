// run.js runs ONNX models in ONNX Runtime (onnxruntime-node, CPU) for the
// export tests of package onnx (onnx/consumers_test.go).
//
// stdin: a JSON array of jobs, each
//   {"model": "path.onnx", "inputs": {"name": {"type": "float32"|"int64"|"int32"|"bool",
//                                              "dims": [..], "data": [..]}}}
// stdout: a JSON array with, per job, {"outputs": {"name": {"dims": [..], "data": [..]}}}
// or {"error": "message"} when ONNX Runtime refuses the model or its inputs.
'use strict';
const ort = require('onnxruntime-node');

const arrays = {
  float32: Float32Array,
  int32: Int32Array,
  int64: (d) => BigInt64Array.from(d.map((v) => BigInt(v))),
  bool: Uint8Array,
};

function tensor(spec) {
  const make = arrays[spec.type];
  if (!make) throw new Error(`unknown tensor type ${spec.type}`);
  const data = spec.type === 'int64' ? make(spec.data) : make.from(spec.data);
  return new ort.Tensor(spec.type, data, spec.dims);
}

async function runJob(job) {
  try {
    const session = await ort.InferenceSession.create(job.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const feeds = {};
    for (const [name, spec] of Object.entries(job.inputs)) feeds[name] = tensor(spec);
    const res = await session.run(feeds);
    const outputs = {};
    for (const [name, t] of Object.entries(res)) {
      const data = Array.from(t.data, (v) => (typeof v === 'bigint' ? Number(v) : v));
      outputs[name] = { dims: t.dims.map(Number), data };
    }
    return { outputs };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
}

async function main() {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk;
  const jobs = JSON.parse(text);
  const results = [];
  for (const job of jobs) results.push(await runJob(job));
  process.stdout.write(JSON.stringify(results));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
