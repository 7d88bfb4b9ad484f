#!/usr/bin/python3
"""PyTorch side of `recur bench`: whole-model training steps and batch-1
inference, built exactly as internal/benchrun builds them in Go.

A training step is forward + loss + backward + Adam (lr 1e-3), float32; an
inference configuration ("forecast", "classify") is one forward pass under
torch.no_grad(). Each configuration runs once per thread count in its own
process, with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and
OMP_WAIT_POLICY=PASSIVE set before torch is imported (on a 2-vCPU VM torch's
OpenMP pool and OpenBLAS's own pool fight otherwise), and the better thread
count is reported. Output: one JSON object per configuration and line.

    /usr/bin/python3 bench/torch_models.py --config all --repeat 3
    /usr/bin/python3 bench/torch_models.py --spec '{"name":"x","kind":"lstm","T":50,"B":32,"I":64,"H":256,"L":1}'

--spec takes the JSON that `recur bench --json` prints under "config", which
is how `recur bench --compare-pytorch` calls this script.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

# The standard configurations; the same table as internal/benchrun/config.go.
STANDARD = [
    {"name": "lstm-t50", "kind": "lstm", "T": 50, "B": 32, "I": 64, "H": 256, "L": 1},
    {"name": "lstm-t100", "kind": "lstm", "T": 100, "B": 64, "I": 128, "H": 512, "L": 1},
    {"name": "lstm-t35-l2", "kind": "lstm", "T": 35, "B": 20, "I": 200, "H": 200, "L": 2},
    {"name": "lstm-t28", "kind": "lstm", "T": 28, "B": 128, "I": 28, "H": 128, "L": 1},
    {"name": "ptb-lm", "kind": "lm", "T": 35, "B": 20, "E": 200, "H": 200, "L": 2, "V": 10000},
    {"name": "bi-classifier", "kind": "classifier", "T": 100, "B": 32, "E": 128, "H": 256, "L": 2,
     "V": 10000, "C": 4, "bidirectional": True},
    {"name": "seq2seq", "kind": "seq2seq", "T": 20, "Tt": 20, "B": 64, "E": 256, "H": 256, "L": 1, "V": 1000},
    {"name": "forecast-b1", "kind": "forecast", "T": 50, "B": 1, "I": 1, "H": 128, "L": 2},
    {"name": "classify-b1", "kind": "classify", "T": 200, "B": 1, "E": 100, "H": 128, "L": 1, "V": 10000, "C": 4},
]
KINDS = {"lstm", "lm", "classifier", "seq2seq", "forecast", "classify"}
INFERENCE = {"forecast", "classify"}
REQUIRED = {
    "lstm": "TBIHL", "forecast": "TBIHL", "lm": "TBEHLV", "classifier": "TBEHLVC",
    "classify": "TBEHLVC", "seq2seq": "TBEHLV",
}


def check_spec(spec):
    """Returns an error message for a spec that cannot be built, else None."""
    if not isinstance(spec, dict):
        return "spec must be a JSON object"
    kind = spec.get("kind")
    if kind not in KINDS:
        return "spec %r: unknown kind %r (want one of %s)" % (spec.get("name"), kind, ", ".join(sorted(KINDS)))
    fields = list(REQUIRED[kind]) + (["Tt"] if kind == "seq2seq" else [])
    for f in fields:
        v = spec.get(f)
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            return "spec %r: %s=%r must be a positive integer" % (spec.get("name"), f, v)
    if not spec.get("name"):
        return "spec: name is required"
    return None


def build(spec):
    """Builds the model, data and one step function for spec."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(1)
    kind = spec["kind"]
    T, B, H, L = spec["T"], spec["B"], spec["H"], spec["L"]
    bi = bool(spec.get("bidirectional"))

    if kind in ("lstm", "forecast"):
        I = spec["I"]
        lstm = nn.LSTM(I, H, L)
        x = torch.rand(T, B, I) * 2 - 1
        if kind == "forecast":
            head = nn.Linear(H, 1)

            def infer():
                with torch.no_grad():
                    out, _ = lstm(x)
                    head(out[-1])
                return 0.0
            return infer
        y = torch.rand(T, B, H) * 2 - 1
        params = list(lstm.parameters())

        def forward():
            out, _ = lstm(x)
            return F.mse_loss(out, y)
    elif kind == "lm":
        V, E = spec["V"], spec["E"]
        emb, lstm, dec = nn.Embedding(V, E), nn.LSTM(E, H, L), nn.Linear(H, V)
        ids = torch.randint(0, V, (T, B))
        targets = torch.randint(0, V, (T * B,))
        params = list(emb.parameters()) + list(lstm.parameters()) + list(dec.parameters())

        def forward():
            out, _ = lstm(emb(ids))
            return F.cross_entropy(dec(out).view(T * B, V), targets)
    elif kind in ("classifier", "classify"):
        V, E, C = spec["V"], spec["E"], spec["C"]
        D = 2 if bi else 1
        emb, lstm, head = nn.Embedding(V, E), nn.LSTM(E, H, L, bidirectional=bi), nn.Linear(D * H, C)
        ids = torch.randint(0, V, (T, B))
        labels = torch.randint(0, C, (B,))

        def logits():
            out, _ = lstm(emb(ids))
            return head(out.mean(0))
        if kind == "classify":
            def infer():
                with torch.no_grad():
                    logits()
                return 0.0
            return infer
        params = list(emb.parameters()) + list(lstm.parameters()) + list(head.parameters())

        def forward():
            return F.cross_entropy(logits(), labels)
    else:  # seq2seq: nn.Seq2Seq with Luong "general" attention and input feeding
        V, E, Tt = spec["V"], spec["E"], spec["Tt"]
        src_emb, tgt_emb = nn.Embedding(V, E), nn.Embedding(V, E)
        enc = nn.LSTM(E, H, L)
        cell = nn.LSTMCell(E + H, H)
        attn_w = nn.Linear(H, H, bias=False)
        combine = nn.Linear(2 * H, H, bias=False)
        out_layer = nn.Linear(H, V)
        mods = [src_emb, enc, tgt_emb, cell, attn_w, combine, out_layer]
        params = [p for m in mods for p in m.parameters()]
        src = torch.randint(0, V, (T, B))
        tgt_in = torch.randint(0, V, (Tt, B))
        targets = torch.randint(0, V, (Tt * B,))

        def forward():
            out, (hn, cn) = enc(src_emb(src))
            keys = out.transpose(0, 1)                # (B, Ts, H)
            proj = attn_w(keys)                       # (B, Ts, H)
            h, c = hn[-1], cn[-1]
            feed = torch.zeros(B, H)
            emb = tgt_emb(tgt_in)                     # (Tt, B, E)
            logits = []
            for t in range(Tt):
                h, c = cell(torch.cat([emb[t], feed], 1), (h, c))
                scores = torch.bmm(proj, h.unsqueeze(2)).squeeze(2)   # (B, Ts)
                w = torch.softmax(scores, 1)
                ctx = torch.bmm(w.unsqueeze(1), keys).squeeze(1)      # (B, H)
                feed = torch.tanh(combine(torch.cat([ctx, h], 1)))
                logits.append(out_layer(feed))
            return F.cross_entropy(torch.stack(logits).view(Tt * B, V), targets)

    opt = torch.optim.Adam(params, lr=1e-3)

    def step():
        opt.zero_grad()
        loss = forward()
        loss.backward()
        opt.step()
        return loss.item()
    return step


def worker(spec, threads, steps, repeat, warmup):
    """Times spec in this process (torch imported here, after the env is set)."""
    import torch
    torch.set_num_threads(threads)
    step = build(spec)
    loss = 0.0
    for _ in range(max(warmup, 0)):
        loss = step()
    if steps <= 0:
        t0 = time.perf_counter()
        loss = step()
        per = max(time.perf_counter() - t0, 1e-6)
        steps = max(1, min(10000, int(0.3 / per)))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = step()
        times.append((time.perf_counter() - t0) * 1e3 / steps)
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"ms_per_step": statistics.median(times), "ms_min": min(times), "ms_max": max(times),
            "steps": steps, "repeat": repeat, "peak_rss_mb": rss_kb / 1024.0,
            "loss": loss, "torch_version": torch.__version__}


def thread_env(threads):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(threads)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def measure(spec, args):
    """Runs spec at each thread count in a subprocess; returns the better."""
    by = {}
    for n in args.threads:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--spec", json.dumps(spec),
               "--threads", str(n), "--steps", str(args.steps), "--repeat", str(args.repeat),
               "--warmup", str(args.warmup)]
        p = subprocess.run(cmd, env=thread_env(n), capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("worker for %s at %d threads failed:\n%s" % (spec["name"], n, p.stderr[-2000:]))
        by[n] = json.loads(p.stdout.strip().splitlines()[-1])
    best = min(by, key=lambda n: by[n]["ms_per_step"])
    r = dict(by[best])
    r.update({"config": spec["name"], "threads": best,
              "ms_by_threads": {str(n): by[n]["ms_per_step"] for n in by}})
    return r


def parse_threads(s):
    try:
        ts = [int(x) for x in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("--threads %r: want positive integers separated by commas" % s)
    if not ts or any(t < 1 for t in ts):
        raise argparse.ArgumentTypeError("--threads %r: want positive integers separated by commas" % s)
    return ts


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", help="standard configuration name(s), comma-separated, or all")
    ap.add_argument("--spec", help="a configuration as JSON (recur bench --json's config object)")
    ap.add_argument("--steps", type=int, default=0, help="steps per repeat; 0: about 0.3 s worth")
    ap.add_argument("--repeat", type=int, default=5, help="timed repeats; the median is reported")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--threads", type=parse_threads, default=[1, 2], help="thread counts to try, e.g. 1,2")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if (args.config is None) == (args.spec is None):
        ap.error("give exactly one of --config and --spec")
    if args.repeat < 1:
        ap.error("--repeat=%d must be at least 1" % args.repeat)
    if args.steps < 0 or args.warmup < 0:
        ap.error("--steps and --warmup must not be negative")
    if args.spec is not None:
        try:
            specs = [json.loads(args.spec)]
        except ValueError as e:
            ap.error("--spec: %s" % e)
    else:
        byname = {c["name"]: c for c in STANDARD}
        specs = []
        for n in args.config.split(","):
            n = n.strip()
            if n == "all":
                specs.extend(STANDARD)
            elif n in byname:
                specs.append(byname[n])
            else:
                ap.error("--config: unknown configuration %r (want all or one of %s)" % (n, ", ".join(byname)))
    for s in specs:
        msg = check_spec(s)
        if msg:
            ap.error(msg)
    if args.worker:
        if len(specs) != 1 or len(args.threads) != 1:
            ap.error("--worker takes one --spec and one thread count")
        print(json.dumps(worker(specs[0], args.threads[0], args.steps, args.repeat, args.warmup)))
        return 0
    for s in specs:
        print(json.dumps(measure(s, args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
