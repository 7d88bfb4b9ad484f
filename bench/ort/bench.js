// bench.js times ONNX Runtime (onnxruntime-node, CPU) on a model exported
// by recur, for `recur bench --compare ort` (internal/benchrun/ort.go).
//
//   node bench.js JOB.json
//
// JOB: {"name": "forecast-b1", "model": "m.onnx", "inputs": {NAME: SPEC},
//       "floor_model": "identity.onnx", "floor_inputs": {NAME: SPEC},
//       "threads": 1, "steps": 200, "repeat": 5, "warmup": 2}
// SPEC as bench/ort/run.js reads it: {"type": "float32"|"int64"|"int32",
// "dims": [..], "data": [..]}.
//
// It creates one session with intraOpNumThreads = threads (interOp 1,
// sequential), runs warmup untimed calls, then repeat timings of steps
// calls each, and prints one JSON line: the median ms per call, and
// floor_ms, the same timing of floor_model (a single Identity node) in the
// same process: Node's and the binding's per-call overhead, which
// ms_per_step includes.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');
const version = require('onnxruntime-node/package.json').version;

function tensor(spec) {
  switch (spec.type) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from(spec.data), spec.dims);
    case 'int32': return new ort.Tensor('int32', Int32Array.from(spec.data), spec.dims);
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from(spec.data.map((v) => BigInt(v))), spec.dims);
    default: throw new Error(`unknown tensor type ${spec.type}`);
  }
}

function feeds(inputs) {
  const f = {};
  for (const [name, spec] of Object.entries(inputs)) f[name] = tensor(spec);
  return f;
}

// time returns each repeat's ms per call, sorted.
async function time(model, inputs, job) {
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: job.threads, interOpNumThreads: 1, executionMode: 'sequential',
  });
  const f = feeds(inputs);
  for (let i = 0; i < job.warmup; i++) await session.run(f);
  const ms = [];
  for (let r = 0; r < job.repeat; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < job.steps; i++) await session.run(f);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6 / job.steps);
  }
  await session.release();
  return ms.sort((a, b) => a - b);
}

function median(s) {
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function main() {
  if (process.argv.length !== 3) throw new Error('usage: node bench.js JOB.json');
  const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  for (const k of ['threads', 'steps', 'repeat']) {
    if (!Number.isInteger(job[k]) || job[k] < 1) throw new Error(`job.${k} must be a positive integer, not ${job[k]}`);
  }
  job.warmup = Math.max(0, job.warmup | 0);
  const s = await time(job.model, job.inputs, job);
  let floor = 0;
  if (job.floor_model) floor = median(await time(job.floor_model, job.floor_inputs, job));
  process.stdout.write(JSON.stringify({
    peer: 'ort', config: job.name, threads: job.threads, ms_per_step: median(s), ms_min: s[0], ms_max: s[s.length - 1],
    steps: job.steps, repeat: job.repeat, version, floor_ms: floor,
  }) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
