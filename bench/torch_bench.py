#!/usr/bin/python3
"""PyTorch reference timings for recur's LSTM benchmarks.

Runs the configurations of nn/bench_recurrent_test.go with PyTorch on the CPU,
float32: a training step is forward over the sequence + MSE on the last layer's
output + backward + Adam; inference is a forward under no_grad.

Each configuration runs in a fresh subprocess per thread count (1 and 2 by
default), because on a small VM torch's OpenMP pool and OpenBLAS's own pool
fight over the cores unless OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
OMP_WAIT_POLICY=PASSIVE are set *before* torch is imported. Every run prints one
JSON line; after the runs of a configuration a line with "best": true repeats
the faster thread count (the figure to compare against).

    /usr/bin/python3 bench/torch_bench.py              # everything
    /usr/bin/python3 bench/torch_bench.py --quick      # fewer steps
    /usr/bin/python3 bench/torch_bench.py --config T50B32I64H256 --threads 2

Needs python3-torch (Debian: apt-get install python3-torch).
"""

import argparse
import json
import os
import subprocess
import sys
import time

# name -> (kind, T, B, I, H, L); names match the Go sub-benchmarks.
CONFIGS = {
    "train/T50B32I64H256": ("train", 50, 32, 64, 256, 1),
    "train/T100B64I128H512": ("train", 100, 64, 128, 512, 1),
    "train/T35B20I200H200L2": ("train", 35, 20, 200, 200, 2),
    "train/T28B128I28H128": ("train", 28, 128, 28, 128, 1),
    "infer/T50B1I32H128": ("infer", 50, 1, 32, 128, 1),
    "varlen/T50B32I64H256/padded": ("padded", 50, 32, 64, 256, 1),
    "varlen/T50B32I64H256/varlen": ("varlen", 50, 32, 64, 256, 1),
}


def lstm_flops(T, B, I, H, L):
    """Forward FLOPs: 2*T*B*(I_k+H)*4H summed over layers."""
    f = 0
    for k in range(L):
        f += 2 * T * B * ((I if k == 0 else H) + H) * 4 * H
    return f


def worker(name, threads, min_steps, min_seconds):
    import torch  # imported here, after the environment is set

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    kind, T, B, I, H, L = CONFIGS[name]
    lstm = torch.nn.LSTM(I, H, num_layers=L)
    x = torch.rand(T, B, I) * 2 - 1
    y = torch.rand(T, B, H) * 2 - 1
    gen = torch.Generator().manual_seed(3)
    lengths = torch.randint(1, T + 1, (B,), generator=gen)
    opt = torch.optim.Adam(lstm.parameters(), lr=1e-3)
    mse = torch.nn.MSELoss()

    def step():
        if kind == "infer":
            with torch.no_grad():
                lstm(x)
            return
        opt.zero_grad()
        if kind == "varlen":
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
            out, _ = lstm(packed)
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
        else:
            out, _ = lstm(x)
        loss = mse(out, y)
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    times = []
    start = time.perf_counter()
    while len(times) < min_steps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    flops = lstm_flops(T, B, I, H, L)
    if kind in ("train", "padded"):
        flops *= 3
    elif kind == "varlen":
        flops *= 3 * float(lengths.sum()) / (T * B)
    return {
        "config": name,
        "threads": threads,
        "ms_per_step_median": round(med * 1e3, 4),
        "gflops": round(flops / med / 1e9, 2),
        "steps": len(times),
        "torch": torch.__version__,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", action="append", help="run only these configurations (repeatable)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--quick", action="store_true", help="fewer steps (noisier)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    min_steps, min_seconds = (3, 0.5) if args.quick else (10, 3.0)

    if args.worker:
        print(json.dumps(worker(args.worker, int(args.threads), min_steps, min_seconds)), flush=True)
        return 0

    names = args.config or list(CONFIGS)
    for n in names:
        if n not in CONFIGS:
            print(f"torch_bench: unknown config {n!r}; known: {', '.join(CONFIGS)}", file=sys.stderr)
            return 2
    threads = [int(t) for t in args.threads.split(",") if t]
    status = 0
    for n in names:
        best = None
        for t in threads:
            env = dict(os.environ, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t),
                       MKL_NUM_THREADS=str(t), OMP_WAIT_POLICY="PASSIVE")
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", n, "--threads", str(t)]
            if args.quick:
                cmd.append("--quick")
            p = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if p.returncode != 0:
                print(f"torch_bench: {n} threads={t} failed:\n{p.stderr}", file=sys.stderr)
                status = 1
                continue
            rec = json.loads(p.stdout.strip().splitlines()[-1])
            print(json.dumps(rec), flush=True)
            if best is None or rec["ms_per_step_median"] < best["ms_per_step_median"]:
                best = rec
        if best is not None:
            print(json.dumps(dict(best, best=True)), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
