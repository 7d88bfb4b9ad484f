#!/usr/bin/python3
"""Time to quality, recur against PyTorch (issue 14): trains one recipe with
recur and then with PyTorch (bench/torch_recipes.py, the same model, init,
optimizer, schedule, batches and validation split), one after the other on
the same machine, and prints each side's validation curve with the seconds
since training began, the minutes each took to reach the reference figure,
and the ratio.

    /usr/bin/python3 bench/ttq.py run mnist-row [flags]
    /usr/bin/python3 bench/ttq.py run ptb-small [flags]
    /usr/bin/python3 bench/ttq.py probe mnist-row|ptb-small [--threads 1,2] [--rounds 2]

Targets: mnist-row validation accuracy >= 0.985, ptb-small validation
perplexity <= 120.7. recur's side is `recur train --config
recipes/RECIPE.yaml`, whose run directory records each epoch's validation
metrics (metrics.csv) and the seconds since training began (times.csv); it
is stopped (SIGINT) once an epoch reaches the target. PyTorch's side stops
itself there. A side that has not reached the target after --cap-min
minutes is stopped, and the ratio becomes a lower bound: its minutes
without reaching the target over the other's minutes to it. Neither side
times reading the data.

probe picks each side's thread setting: one epoch of the recipe (for
ptb-small, of a small corpus with the full vocabulary, so a step costs what
it costs in the real run) at each thread count, interleaved over --rounds,
reporting ms per step (the epoch's seconds, its validation included, over
its steps); the best round counts.

recur's threads are GOMAXPROCS; PyTorch's are OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS (with OMP_WAIT_POLICY=PASSIVE) set before torch is
imported. The load average is sampled every 10 s during each run and
reported. Everything is written under --out (default /tmp/ttq-RECIPE):
each side's log, run directory and curve, and summary.json.
"""

import argparse
import csv
import gzip
import json
import math
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# recipe: (validation metric as in metrics.csv, target, larger is better)
TARGETS = {
    "mnist-row": ("val_accuracy", 0.985, True),
    "ptb-small": ("val_ppl", 120.7, False),
}


def reached(recipe, value):
    _, target, larger = TARGETS[recipe]
    if value is None or math.isnan(value):
        return False
    return value >= target if larger else value <= target


def read_csv(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except FileNotFoundError:
        return []


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


class Load:
    """Samples the 1-minute load average every 10 s."""

    def __init__(self):
        self.samples, self.next = [], 0.0

    def poll(self):
        if time.monotonic() >= self.next:
            with open("/proc/loadavg") as f:
                self.samples.append(float(f.read().split()[0]))
            self.next = time.monotonic() + 10

    def summary(self):
        s = self.samples or [float("nan")]
        return {"min": min(s), "mean": round(sum(s) / len(s), 2), "max": max(s), "samples": len(s)}


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def recur_cmd(args, data, out):
    cmd = [args.recur, "train", "--config", os.path.join(ROOT, "recipes", args.recipe + ".yaml"),
           "--out", out, "--overwrite", "--no-report"]
    if args.recipe == "mnist-row":
        return cmd + ["--data", data]
    return cmd + ["--data", ptb_file(data, "train"), "--valid", ptb_file(data, "valid"), "--test", ptb_file(data, "test")]


def ptb_file(d, split):
    p = os.path.join(d, "ptb.%s.txt" % split)
    return p if os.path.exists(p) else p + ".gz"


def recur_curve(run_dir, metric):
    """Rows of (epoch, seconds, value, step) from recur's run directory."""
    secs = {int(r["epoch"]): float(r["seconds"]) for r in read_csv(os.path.join(run_dir, "times.csv"))}
    rows = []
    for r in read_csv(os.path.join(run_dir, "metrics.csv")):
        e = int(float(r["epoch"]))
        if e in secs:
            rows.append({"epoch": e, "seconds": secs[e], "value": num(r.get(metric)), "step": int(float(r["step"]))})
    return rows


def torch_curve(log):
    """Rows from torch_recipes.py's JSON lines; epoch 0 marks the start."""
    rows = []
    try:
        with open(log) as f:
            for line in f:
                if line.startswith("{"):
                    rows.append(json.loads(line))
    except FileNotFoundError:
        pass
    return rows


def stop(p):
    """Stops p with SIGINT (recur saves a checkpoint and exits), then kills."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def watch(p, curve, done, cap_s, load):
    """Polls until p exits, done(curve()) or cap_s seconds since the start
    of training; returns the final curve and whether the cap stopped it."""
    t0 = time.monotonic()
    while True:
        load.poll()
        rows = curve()
        if done(rows):
            stop(p)
            return curve(), False
        if p.poll() is not None:
            return curve(), False
        if cap_s and time.monotonic() - t0 > cap_s:
            stop(p)
            return curve(), True
        time.sleep(0.5)


def run_recur(args, threads, out, done):
    run_dir = os.path.join(out, "recur-run")
    env = dict(os.environ, GOMAXPROCS=str(threads))
    log = open(os.path.join(out, "recur.log"), "w")
    p = subprocess.Popen(recur_cmd(args, args.data, run_dir), stdout=log, stderr=subprocess.STDOUT, env=env)
    load = Load()
    rows, capped = watch(p, lambda: recur_curve(run_dir, TARGETS[args.recipe][0]), done, args.cap_min * 60, load)
    log.close()
    return {"side": "recur", "threads": threads, "curve": rows, "capped": capped, "load": load.summary(),
            "exit": p.returncode, "command": "GOMAXPROCS=%d " % threads + " ".join(recur_cmd(args, args.data, run_dir))}


def torch_cmd(args, data, threads):
    return ["/usr/bin/python3", os.path.join(HERE, "torch_recipes.py"), args.recipe, data, "--threads", str(threads)]


def run_torch(args, threads, out, done):
    path = os.path.join(out, "torch-%d.jsonl" % threads)
    metric = TARGETS[args.recipe][0]
    with open(path, "w") as log:
        p = subprocess.Popen(torch_cmd(args, args.data, threads), stdout=log, stderr=subprocess.STDOUT)
        load = Load()

        def curve():
            return [{"epoch": r["epoch"], "seconds": r["seconds"], "value": r.get(metric), "step": r.get("steps"),
                     "unix": r.get("unix")} for r in torch_curve(path)]

        rows, capped = watch(p, curve, done, args.cap_min * 60, load)
        stopped_at = time.time()
    began = next((r["unix"] for r in rows if r["epoch"] == 0), None)
    res = {"side": "pytorch", "threads": threads, "curve": [r for r in rows if r["epoch"] > 0], "capped": capped,
           "load": load.summary(), "exit": p.returncode, "command": " ".join(torch_cmd(args, args.data, threads))}
    if began is not None:
        res["stopped_seconds"] = round(stopped_at - began, 1)
    return res


def first_reaching(recipe, curve):
    return next((r for r in curve if reached(recipe, r["value"])), None)


def summarize(recipe, res):
    hit = first_reaching(recipe, res["curve"])
    res["reached"] = hit is not None
    if hit:
        res["minutes"] = round(hit["seconds"] / 60, 2)
        res["epoch"] = hit["epoch"]
    else:
        # Not reached: the time it ran without reaching it bounds its
        # time to target from below.
        last = res.get("stopped_seconds") or (res["curve"][-1]["seconds"] if res["curve"] else 0)
        res["minutes_at_least"] = round(last / 60, 2)


def ratio(recur, torch):
    if recur.get("reached") and torch.get("reached"):
        return "%.2fx" % (torch["minutes"] / recur["minutes"])
    if recur.get("reached"):
        return ">= %.2fx (PyTorch did not reach the target)" % (torch["minutes_at_least"] / recur["minutes"])
    if torch.get("reached"):
        return "<= %.2fx (recur did not reach the target)" % (torch["minutes"] / recur["minutes_at_least"])
    return "undecided (neither reached the target)"


def print_side(res, metric):
    print("\n%s (threads %d): %s" % (res["side"], res["threads"], res["command"]))
    print("  load average (1 min) during the run: min %.2f mean %.2f max %.2f" % (
        res["load"]["min"], res["load"]["mean"], res["load"]["max"]))
    print("  epoch  minutes  %s" % metric)
    for r in res["curve"]:
        v = r["value"]
        print("  %5d  %7.2f  %s" % (r["epoch"], r["seconds"] / 60, "%.4f" % v if v is not None else "-"))
    if res["reached"]:
        print("  target reached at epoch %d after %.2f min" % (res["epoch"], res["minutes"]))
    else:
        print("  target not reached; stopped after %.2f min%s" % (res["minutes_at_least"], " (cap)" if res["capped"] else ""))


def cmd_run(args):
    out = args.out or "/tmp/ttq-" + args.recipe
    os.makedirs(out, exist_ok=True)
    metric = TARGETS[args.recipe][0]
    summary = {"recipe": args.recipe, "target": "%s %s %g" % (metric, ">=" if TARGETS[args.recipe][2] else "<=", TARGETS[args.recipe][1]),
               "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "uptime_before": uptime()}
    done = lambda rows: first_reaching(args.recipe, rows) is not None
    sides = {"recur": lambda: run_recur(args, args.recur_threads, out, done),
             "pytorch": lambda: run_torch(args, args.torch_threads, out, done)}
    order = ["recur", "pytorch"] if args.first == "recur" else ["pytorch", "recur"]
    for side in order:
        summary[side] = sides[side]()
        summarize(args.recipe, summary[side])
        summary[side]["uptime_after"] = uptime()
    summary["ratio"] = ratio(summary["recur"], summary["pytorch"])
    summary["uptime_after"] = uptime()
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("%s, target %s; %s" % (args.recipe, summary["target"], summary["date"]))
    for side in order:
        print_side(summary[side], metric)
    print("\nminutes to target: recur %s, PyTorch %s; PyTorch / recur: %s" % (
        minutes(summary["recur"]), minutes(summary["pytorch"]), summary["ratio"]))
    return 0


def minutes(res):
    return "%.2f" % res["minutes"] if res["reached"] else "> %.2f" % res["minutes_at_least"]


def probe_data(args, out):
    """The data of a probe epoch: MNIST as it is; for PTB the first 5,400
    training lines (about 300 steps of 20x20) plus one line holding every
    training word, so that the vocabulary, and with it a step's cost, is the
    full corpus's, and the first 200 validation lines."""
    if args.recipe == "mnist-row":
        return args.data
    d = os.path.join(out, "ptb-probe")
    os.makedirs(d, exist_ok=True)
    lines = read_lines(ptb_file(args.data, "train"))
    vocab = sorted({w for line in lines for w in line.split()})
    with open(os.path.join(d, "ptb.train.txt"), "w") as f:
        f.writelines(lines[:5400])
        f.write(" " + " ".join(vocab) + " \n")
    valid = read_lines(ptb_file(args.data, "valid"))[:200]
    for split in ("valid", "test"):
        with open(os.path.join(d, "ptb.%s.txt" % split), "w") as f:
            f.writelines(valid)
    return d


def read_lines(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt") as f:
        return f.readlines()


def cmd_probe(args):
    out = args.out or "/tmp/ttq-probe-" + args.recipe
    os.makedirs(out, exist_ok=True)
    args.data = probe_data(args, out)
    args.cap_min = 0
    one_epoch = lambda rows: any(r["epoch"] >= 1 for r in rows)
    results = []
    print("probe %s, one epoch per run; %s" % (args.recipe, uptime()))
    for rnd in range(args.rounds):
        for threads in args.threads:
            for side, fn in (("recur", run_recur), ("pytorch", run_torch)):
                res = fn(args, threads, out, one_epoch)
                r = next((r for r in res["curve"] if r["epoch"] == 1), None)
                if r is None:
                    print("%s threads %d: no epoch finished (exit %s); see %s" % (side, threads, res["exit"], out), file=sys.stderr)
                    return 1
                ms = 1000 * r["seconds"] / r["step"]
                results.append({"round": rnd + 1, "side": side, "threads": threads, "steps": r["step"],
                                "seconds": r["seconds"], "ms_per_step": round(ms, 2), "load": res["load"]})
                print("round %d  %-7s  threads %d  %d steps  %.1f s  %.2f ms/step  load %.2f-%.2f" % (
                    rnd + 1, side, threads, r["step"], r["seconds"], ms, res["load"]["min"], res["load"]["max"]))
    for side in ("recur", "pytorch"):
        best = {t: min(x["ms_per_step"] for x in results if x["side"] == side and x["threads"] == t) for t in args.threads}
        pick = min(best, key=best.get)
        print("%s: best ms/step by threads %s -> %d threads" % (side, best, pick))
    with open(os.path.join(out, "probe.json"), "w") as f:
        json.dump(results, f, indent=1)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("run", "probe"):
        p = sub.add_parser(name)
        p.add_argument("recipe", choices=sorted(TARGETS))
        p.add_argument("--data", help="MNIST's IDX directory or PTB's directory (default /work/shared/data/mnist or ptb)")
        p.add_argument("--recur", default=os.path.join(ROOT, "recur"), help="the recur binary (default ./recur)")
        p.add_argument("--out", help="output directory (default /tmp/ttq-RECIPE or /tmp/ttq-probe-RECIPE)")
    run, probe = sub.choices["run"], sub.choices["probe"]
    run.add_argument("--recur-threads", type=int, default=2)
    run.add_argument("--torch-threads", type=int, default=2)
    run.add_argument("--cap-min", type=float, default=0, help="stop a side after this many minutes (0: no cap)")
    run.add_argument("--first", choices=["recur", "pytorch"], default="recur", help="which side runs first")
    probe.add_argument("--threads", default="1,2", help="thread counts to try, comma-separated")
    probe.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if args.data is None:
        args.data = "/work/shared/data/" + ("mnist" if args.recipe == "mnist-row" else "ptb")
    if not os.path.isfile(args.recur):
        ap.error("--recur %s: no such binary (go build -o recur ./cmd/recur)" % args.recur)
    if args.cmd == "probe":
        args.threads = [int(t) for t in args.threads.split(",") if t]
        return cmd_probe(args)
    return cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
