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
minutes (or at --until) is stopped, and the ratio becomes a lower bound: its minutes
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
reported, and beside each epoch's wall-clock minutes the CPU seconds the
process used since training began (less sensitive to other work on a
shared machine). Everything is written under --out (default /tmp/ttq-RECIPE):
each side's log, run directory and curve, and summary.json.
"""

import argparse
import csv
import gzip
import json
import math
import os
import shutil
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


def torch_lines(log):
    """torch_recipes.py's JSON lines: epoch 0 marks the start, "progress"
    lines come every 100 steps, the others at each epoch's end."""
    rows = []
    try:
        with open(log) as f:
            for line in f:
                if line.startswith("{"):
                    rows.append(json.loads(line))
    except FileNotFoundError:
        pass
    return rows


def default_sigint():
    """Lets a child act on SIGINT even when this script was started in the
    background of a shell, which makes it (and so its children) ignore it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop(p):
    """Stops p with SIGINT (recur saves a checkpoint and exits), then kills."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def cpu_seconds(pid):
    """User + system CPU seconds of process pid and its waited-for children
    so far (None once it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


class CPU:
    """The CPU seconds a process has used since training began, noted for
    each row of its curve when the poll first sees it (a poll every 0.5 s,
    so within about 0.5 s of CPU per thread). Wall-clock minutes on a
    shared machine grow with the other work's load; CPU seconds much less,
    so they are reported beside them."""

    def __init__(self, pid, begun):
        self.pid, self.begun, self.start, self.at = pid, begun, None, {}

    def poll(self, rows):
        c = cpu_seconds(self.pid)
        if c is None:
            return
        if self.start is None and self.begun():
            self.start = c
        for r in rows:
            if r["epoch"] > 0 and r["epoch"] not in self.at and self.start is not None:
                self.at[r["epoch"]] = round(c - self.start, 1)

    def annotate(self, rows):
        for r in rows:
            r["cpu_seconds"] = self.at.get(r["epoch"])
        return rows


def watch(p, curve, done, cap_s, load, cpu):
    """Polls until p exits, done(curve()) or cap_s seconds since it started;
    returns the final curve and whether the cap stopped it."""
    t0 = time.monotonic()
    while True:
        load.poll()
        rows = curve()
        cpu.poll(rows)
        if done(rows):
            stop(p)
            return cpu.annotate(curve()), False
        if p.poll() is not None:
            return cpu.annotate(curve()), False
        if cap_s and time.monotonic() - t0 > cap_s:
            stop(p)
            return cpu.annotate(curve()), True
        time.sleep(0.5)


def nonempty(path):
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False


def run_recur(args, threads, out, done):
    run_dir = os.path.join(out, "recur-run")
    # A run directory left by an earlier run would show its finished epochs
    # to the watcher, which would stop this run before it began.
    shutil.rmtree(run_dir, ignore_errors=True)
    env = dict(os.environ, GOMAXPROCS=str(threads))
    log_path = os.path.join(out, "recur.log")
    log = open(log_path, "w")
    p = subprocess.Popen(recur_cmd(args, args.data, run_dir), stdout=log, stderr=subprocess.STDOUT, env=env,
                         preexec_fn=default_sigint)
    load = Load()
    # recur prints its first line (the data and model) when training begins.
    cpu = CPU(p.pid, lambda: nonempty(log_path))
    rows, capped = watch(p, lambda: recur_curve(run_dir, TARGETS[args.recipe][0]), done, cap_seconds(args), load, cpu)
    log.close()
    return {"side": "recur", "threads": threads, "curve": rows, "capped": capped, "load": load.summary(),
            "exit": p.returncode, "command": "GOMAXPROCS=%d " % threads + " ".join(recur_cmd(args, args.data, run_dir))}


def torch_cmd(args, data, threads):
    return ["/usr/bin/python3", os.path.join(HERE, "torch_recipes.py"), args.recipe, data, "--threads", str(threads)]


def run_torch(args, threads, out, done):
    path = os.path.join(out, "torch-%d.jsonl" % threads)
    metric = TARGETS[args.recipe][0]
    with open(path, "w") as log:
        p = subprocess.Popen(torch_cmd(args, args.data, threads), stdout=log, stderr=subprocess.STDOUT,
                             preexec_fn=default_sigint)
        load = Load()

        def curve():
            return [{"epoch": r["epoch"], "seconds": r["seconds"], "value": r.get(metric), "step": r.get("steps"),
                     "unix": r.get("unix")} for r in torch_lines(path) if not r.get("progress")]

        cpu = CPU(p.pid, lambda: any(r["epoch"] == 0 for r in curve()))
        rows, capped = watch(p, curve, done, cap_seconds(args), load, cpu)
        stopped_at = time.time()
    began = next((r["unix"] for r in rows if r["epoch"] == 0), None)
    res = {"side": "pytorch", "threads": threads, "curve": [r for r in rows if r["epoch"] > 0], "capped": capped,
           "load": load.summary(), "exit": p.returncode, "command": " ".join(torch_cmd(args, args.data, threads))}
    if began is not None:
        res["stopped_seconds"] = round(stopped_at - began, 1)
    ticks = [r for r in torch_lines(path) if r.get("progress")]
    if ticks:
        # Its speed over the whole run (training steps only, the
        # validations between epochs included in the seconds).
        res["speed"] = {"steps": ticks[-1]["steps"], "seconds": ticks[-1]["seconds"],
                        "ms_per_step": round(1000 * ticks[-1]["seconds"] / ticks[-1]["steps"], 1)}
    return res


def cap_seconds(args):
    """The seconds a side may run from now: --cap-min, and no later than
    --until (0: no limit)."""
    caps = [args.cap_min * 60] if args.cap_min else []
    if getattr(args, "until", None):
        h, m = (int(v) for v in args.until.split(":"))
        now = time.gmtime()
        left = (h * 60 + m) * 60 - (now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec)
        caps.append(max(left, 1))
    return min(caps) if caps else 0


def first_reaching(recipe, curve):
    return next((r for r in curve if reached(recipe, r["value"])), None)


def summarize(recipe, res):
    hit = first_reaching(recipe, res["curve"])
    res["reached"] = hit is not None
    if hit:
        res["minutes"] = round(hit["seconds"] / 60, 2)
        res["epoch"] = hit["epoch"]
        res["cpu_seconds"] = hit.get("cpu_seconds")
    else:
        # Not reached: the time it ran without reaching it bounds its
        # time to target from below.
        last = res.get("stopped_seconds") or (res["curve"][-1]["seconds"] if res["curve"] else 0)
        res["minutes_at_least"] = round(last / 60, 2)


def projection(recur, torch):
    """An estimate, not a measurement: PyTorch's minutes to the target if
    it needed as many steps as recur did (the same recipe), at the speed it
    ran before it was stopped, without its validation passes."""
    if not recur.get("reached") or torch.get("reached") or "speed" not in torch:
        return None
    steps = next(r["step"] for r in recur["curve"] if r["epoch"] == recur["epoch"])
    minutes = steps * torch["speed"]["ms_per_step"] / 60000
    return {"steps": steps, "minutes": round(minutes, 1), "ratio": round(minutes / recur["minutes"], 2)}


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
    print("  epoch  minutes  CPU s  %s" % metric)
    for r in res["curve"]:
        v, c = r["value"], r.get("cpu_seconds")
        print("  %5d  %7.2f  %5s  %s" % (r["epoch"], r["seconds"] / 60, "%.0f" % c if c is not None else "-",
                                         "%.4f" % v if v is not None else "-"))
    if "speed" in res:
        sp = res["speed"]
        print("  speed: %d training steps in %.2f min, %.1f ms/step" % (sp["steps"], sp["seconds"] / 60, sp["ms_per_step"]))
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
    summary["projection"] = projection(summary["recur"], summary["pytorch"])
    summary["uptime_after"] = uptime()
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("%s, target %s; %s" % (args.recipe, summary["target"], summary["date"]))
    for side in order:
        print_side(summary[side], metric)
    print("\nminutes to target: recur %s, PyTorch %s; PyTorch / recur: %s" % (
        minutes(summary["recur"]), minutes(summary["pytorch"]), summary["ratio"]))
    if summary["projection"]:
        pr = summary["projection"]
        print("estimate (not measured): PyTorch at its measured %.1f ms/step would need %.1f min for recur's %d steps"
              " to the target, %.2fx recur's time" % (summary["pytorch"]["speed"]["ms_per_step"], pr["minutes"],
                                                     pr["steps"], pr["ratio"]))
    r, t = summary["recur"].get("cpu_seconds"), summary["pytorch"].get("cpu_seconds")
    if r and t:
        print("CPU seconds to target: recur %.0f, PyTorch %.0f; PyTorch / recur: %.2fx" % (r, t, t / r))
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
                cpu = 1000 * r["cpu_seconds"] / r["step"] if r.get("cpu_seconds") is not None else float("nan")
                results.append({"round": rnd + 1, "side": side, "threads": threads, "steps": r["step"],
                                "seconds": r["seconds"], "ms_per_step": round(ms, 2), "cpu_ms_per_step": round(cpu, 2),
                                "load": res["load"]})
                print("round %d  %-7s  threads %d  %d steps  %.1f s  %.2f ms/step (CPU %.2f)  load %.2f-%.2f" % (
                    rnd + 1, side, threads, r["step"], r["seconds"], ms, cpu, res["load"]["min"], res["load"]["max"]))
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
    run.add_argument("--until", help="stop a side at this UTC time, HH:MM (as the cap does)")
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
