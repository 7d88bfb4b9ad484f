#!/usr/bin/python3
"""PyTorch side of the time-to-quality comparison of issue 14: the same
recipes as recipes/mnist-row.yaml and recipes/ptb-small.yaml, trained with
PyTorch on the CPU, printing one JSON line per epoch with the wall-clock
seconds since training began and the validation figure, and stopping at
the first epoch that reaches the reference:

    row-MNIST   validation accuracy >= 0.985 (LSTM 1x128, Adam 2e-3 with
                cosine decay over 20 epochs, batch 128, clip 1; the last
                5,000 training images validate, as recur's
                --val-fraction 0.0833 does)
    PTB small   validation perplexity <= 120.7 (Zaremba et al.: 2x200,
                U(-0.1, 0.1) init, SGD lr 20 on the per-word mean loss
                halved after every epoch from the fifth, clip 0.25, 20x20)

    /usr/bin/python3 bench/torch_recipes.py mnist-row DIR [--threads N]
    /usr/bin/python3 bench/torch_recipes.py ptb-small DIR [--threads N]

DIR holds MNIST's IDX files or PTB's ptb.{train,valid}.txt(.gz). The thread
count is set before torch is imported (OMP_NUM_THREADS and friends), as
bench/torch_models.py does. Reading the data is not timed; building the
model and every epoch (training and validation) are.
"""

import argparse
import gzip
import json
import os
import sys
import time


def opener(path):
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rb")
    return open(path, "rb")


def read_idx(path):
    import numpy as np
    with opener(path) as f:
        b = f.read()
    ndim = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def mnist_row(args, torch):
    import numpy as np
    x = read_idx(os.path.join(args.dir, "train-images-idx3-ubyte")).astype(np.float32) / 255
    y = read_idx(os.path.join(args.dir, "train-labels-idx1-ubyte")).astype(np.int64)
    # The last 5,000 images validate (recur shuffles before cutting; the
    # share is the same).
    rng = np.random.default_rng(1)
    perm = rng.permutation(len(x))
    x, y = x[perm], y[perm]
    xv, yv, xt, yt = x[-5000:], y[-5000:], x[:-5000], y[:-5000]
    xt, yt, xv, yv = map(torch.from_numpy, (xt, yt, xv, yv))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(28, 128)
            self.head = torch.nn.Linear(128, 10)

        def forward(self, x):  # x (B, 28, 28): rows are steps
            _, (h, _) = self.rnn(x.transpose(0, 1))
            return self.head(h[-1])

    start = time.perf_counter()
    torch.manual_seed(1)
    net = Net()
    epochs, bs = 20, 128
    steps = epochs * ((len(xt) + bs - 1) // bs)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(1, epochs + 1):
        net.train()
        order = torch.randperm(len(xt))
        for i in range(0, len(xt), bs):
            idx = order[i:i + bs]
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            acc = (net(xv).argmax(1) == yv).float().mean().item()
        report(args, epoch, start, {"valid_accuracy": acc})
        if acc >= 0.985:
            return


def ptb_small(args, torch):
    def words(name):
        with opener(os.path.join(args.dir, name)) as f:
            return f.read().decode().replace("\n", " <eos> ").split()

    train, valid = words("ptb.train.txt"), words("ptb.valid.txt")
    vocab = {w: i for i, w in enumerate(sorted(set(train)))}
    V = len(vocab)

    def batchify(ws, B):
        ids = torch.tensor([vocab[w] for w in ws], dtype=torch.long)
        n = len(ids) // B
        return ids[:n * B].view(B, n).t().contiguous()  # (n, B)

    tr, va = batchify(train, 20), batchify(valid, 1)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(V, 200)
            self.rnn = torch.nn.LSTM(200, 200, 2)
            self.head = torch.nn.Linear(200, V)
            for p in self.parameters():
                torch.nn.init.uniform_(p, -0.1, 0.1)

        def forward(self, x, h):
            out, h = self.rnn(self.emb(x), h)
            return self.head(out), h

    start = time.perf_counter()
    torch.manual_seed(1)
    net = Net()
    lr, T = 20.0, 20
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(1, 14):
        if epoch > 4:
            lr /= 2
        net.train()
        h = None
        for i in range(0, tr.size(0) - 1, T):
            x, y = tr[i:i + T], tr[i + 1:i + 1 + T]
            if len(y) < len(x):
                x = x[:len(y)]
            if h is not None:
                h = tuple(s.detach() for s in h)
            net.zero_grad()
            out, h = net(x, h)
            loss = loss_fn(out.view(-1, V), y.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 0.25)
            with torch.no_grad():
                for p in net.parameters():
                    p -= lr * p.grad
        net.eval()
        total, n, h = 0.0, 0, None
        with torch.no_grad():
            for i in range(0, va.size(0) - 1, 80):
                x, y = va[i:i + 80], va[i + 1:i + 81]
                x = x[:len(y)]
                out, h = net(x, h)
                total += loss_fn(out.view(-1, V), y.reshape(-1)).item() * len(y)
                n += len(y)
        ppl = float(__import__("math").exp(total / n))
        report(args, epoch, start, {"valid_ppl": ppl})
        if ppl <= 120.7:
            return


def report(args, epoch, start, metrics):
    line = {"recipe": args.recipe, "threads": args.threads, "epoch": epoch, "seconds": round(time.perf_counter() - start, 1)}
    line.update(metrics)
    print(json.dumps(line), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("recipe", choices=["mnist-row", "ptb-small"])
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = str(args.threads)
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import torch
    torch.set_num_threads(args.threads)
    {"mnist-row": mnist_row, "ptb-small": ptb_small}[args.recipe](args, torch)


if __name__ == "__main__":
    sys.exit(main())
