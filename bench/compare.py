#!/usr/bin/python3
"""Side-by-side recur vs PyTorch LSTM timings, as a Markdown table.

Runs the Go benchmarks of nn/bench_recurrent_test.go (BenchmarkLSTMTrain,
BenchmarkLSTMInfer, BenchmarkLSTMVarLen) once per GOMAXPROCS value in a fresh
process (the kernel sizes its worker team once per process), keeps the faster,
then runs bench/torch_bench.py (PyTorch's better of 1 and 2 threads) in the same
time window, and prints one table with the speed-ups and the issue's targets.
The variable-length ratio comes from BenchmarkLSTMVarLen's interleaved run
(the two batches in alternating blocks of steps, medians), which a change in
the machine's load between two separate runs does not skew.
Run from the repository root on a quiet machine:

    /usr/bin/python3 bench/compare.py            # about 5 minutes
    /usr/bin/python3 bench/compare.py --quick    # fewer steps, noisier
    /usr/bin/python3 bench/compare.py --json     # raw records, one per line
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# config -> (target, kind): "speedup" = recur steps/s over PyTorch's at least
# target; "max_ms" = recur at most target ms; "max_ratio" = varlen/padded.
TARGETS = {
    "train/T50B32I64H256": (2.0, "speedup"),
    "train/T100B64I128H512": (1.5, "speedup"),
    "train/T35B20I200H200L2": (2.0, "speedup"),
    "train/T28B128I28H128": (2.0, "speedup"),
    "infer/T50B1I32H128": (0.150, "max_ms"),
    "varlen/T50B32I64H256": (0.6, "max_ratio"),
}

LINE = re.compile(r"^Benchmark(LSTMTrain|LSTMInfer|LSTMVarLen)/(\S+?)(?:-\d+)?\s+\d+\s+(.*)$")
VARLEN = "varlen/T50B32I64H256"


def run_go(procs, bench, benchtime):
    env = dict(os.environ, GOMAXPROCS=str(procs))
    cmd = ["go", "test", "./nn", "-run", "^$", "-bench", bench, "-benchtime", benchtime, "-count", "1"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"compare: {' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    return p.stdout


def go_bench(procs, benchtime, blocks):
    """Returns {config: {"ms": float, "gflops": float, ...}} for one GOMAXPROCS."""
    stdout = run_go(procs, "^BenchmarkLSTM(Train|Infer)$|^BenchmarkLSTMVarLen$/.*/(padded|varlen)$", benchtime)
    stdout += run_go(procs, "^BenchmarkLSTMVarLen$/.*/interleaved$", blocks)
    out = {}
    for line in stdout.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        kind = {"LSTMTrain": "train", "LSTMInfer": "infer", "LSTMVarLen": "varlen"}[m.group(1)]
        metrics = {}
        toks = m.group(3).split()
        for v, unit in zip(toks[::2], toks[1::2]):
            try:
                metrics[unit] = float(v)
            except ValueError:
                pass
        ms = metrics.get("ms/step")
        if ms is None and "µs/seq" in metrics:
            ms = metrics["µs/seq"] / 1e3
        out[f"{kind}/{m.group(2)}"] = {"ms": ms, "gflops": metrics.get("GFLOP/s"), "procs": procs,
                                       "ratio": metrics.get("varlen/padded"),
                                       "padded_ms": metrics.get("padded-ms/step"),
                                       "varlen_ms": metrics.get("varlen-ms/step")}
    return out


def torch_bench(quick):
    cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_bench.py")]
    if quick:
        cmd.append("--quick")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"compare: torch_bench failed:\n{p.stderr}", file=sys.stderr)
    best = {}
    for line in p.stdout.splitlines():
        rec = json.loads(line)
        if rec.get("best"):
            best[rec["config"]] = rec
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", default="1,2", help="GOMAXPROCS values to try (default 1,2)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true", help="print raw records instead of a table")
    args = ap.parse_args()
    benchtime = "3x" if args.quick else "10x"
    blocks = "4x" if args.quick else "20x"

    recur, per_procs = {}, {}
    for p in [int(x) for x in args.procs.split(",") if x]:
        per_procs[p] = go_bench(p, benchtime, blocks)
        for cfg, rec in per_procs[p].items():
            if rec["ms"] is not None and (cfg not in recur or rec["ms"] < recur[cfg]["ms"]):
                recur[cfg] = rec
    torch = torch_bench(args.quick)
    if args.json:
        for cfg in sorted(set(recur) | set(torch)):
            print(json.dumps({"config": cfg, "recur": recur.get(cfg), "torch": torch.get(cfg)}))
        return 0

    print("| configuration | recur ms | recur GFLOP/s | PyTorch ms | PyTorch GFLOP/s | speed-up | target | met |")
    print("|---|---|---|---|---|---|---|---|")
    for cfg in sorted(recur):
        r, t = recur[cfg], torch.get(cfg)
        if r["ms"] is None:
            continue
        speed = f"{t['ms_per_step_median'] / r['ms']:.2f}x" if t else "-"
        target, met = "", ""
        goal = TARGETS.get(cfg)
        if goal and goal[1] == "speedup" and t:
            target, met = f">= {goal[0]}x", "yes" if t["ms_per_step_median"] / r["ms"] >= goal[0] else "no"
        elif goal and goal[1] == "max_ms":
            target, met = f"<= {goal[0] * 1e3:.0f} µs", "yes" if r["ms"] <= goal[0] else "no"
        print(f"| {cfg} (GOMAXPROCS={r['procs']}) | {r['ms']:.3f} | {r['gflops'] or 0:.1f} | "
              f"{t['ms_per_step_median'] if t else '-'} | {t['gflops'] if t else '-'} | {speed} | {target} | {met} |")
    # The variable-length ratio compares the two batches at the same
    # GOMAXPROCS: a user runs one setting, not the best of each.
    goal = TARGETS[VARLEN][0]
    for p, res in sorted(per_procs.items()):
        il = res.get(VARLEN + "/interleaved")
        if il and il["ratio"]:
            print(f"\nvariable lengths, GOMAXPROCS={p}: {il['varlen_ms']:.2f} ms vs {il['padded_ms']:.2f} ms fully padded "
                  f"(interleaved, medians) = {il['ratio']:.3f}x (target <= {goal}x: {'yes' if il['ratio'] <= goal else 'no'})")
        pad, var = res.get(VARLEN + "/padded"), res.get(VARLEN + "/varlen")
        if pad and var:
            print(f"  separate runs: {var['ms']:.2f} ms vs {pad['ms']:.2f} ms = {var['ms'] / pad['ms']:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
