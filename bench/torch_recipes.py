#!/usr/bin/python3
"""PyTorch side of the time-to-quality comparison of issue 14: the same
recipes as recipes/mnist-row.yaml and recipes/ptb-small.yaml, trained with
PyTorch on the CPU, printing one JSON line per epoch with the wall-clock
seconds since training began and the validation figure, and stopping at
the first epoch that reaches the reference:

    row-MNIST   validation accuracy >= 0.985 (LSTM 1x128 and a Linear
                head on the last step's h, PyTorch's default init, Adam
                2e-3 with cosine decay to 0 over 20 epochs' steps, batch
                128 reshuffled every epoch, clip 1; the last
                int(0.0833 * 60000) = 4998 training images, in file order,
                validate, as recur's --val-fraction 0.0833 cuts them)
    PTB small   validation perplexity <= 120.7 (Zaremba et al.: 2x200,
                embedding and every weight matrix from U(-0.1, 0.1), the
                biases at PyTorch's default U(-1/sqrt(200), 1/sqrt(200)) as
                recur's --init, --init-embed and --init-head leave them;
                recur's vocabulary (<pad>, <unk>, <bos>, <eos>, then the
                training words); SGD lr 20 on the per-word mean loss
                halved after every epoch from the fifth, clip 0.25, 20
                streams of 20 steps; validation as one stream in chunks of
                80 steps with the state carried)

    /usr/bin/python3 bench/torch_recipes.py mnist-row DIR [--threads N]
    /usr/bin/python3 bench/torch_recipes.py ptb-small DIR [--threads N]

DIR holds MNIST's IDX files or PTB's ptb.{train,valid}.txt(.gz). The thread
count is set before torch is imported (OMP_NUM_THREADS and friends), as
bench/torch_models.py does. Reading the data is not timed; building the
model and every epoch (training and validation) are. A line with epoch 0
marks the start of the timed part; each line has the optimizer steps so
far, and lines marked "progress" (every 100 steps) tell the speed within
an epoch. The validation figures carry recur's metrics.csv names (val_accuracy,
val_ppl); bench/ttq.py runs both sides and compares them.
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
    # recur's --val-fraction 0.0833 holds out the last int(0.0833 * n)
    # images in file order (dataset.MNIST.HoldOut), unshuffled.
    nv = int(0.0833 * len(x))
    xv, yv, xt, yt = x[-nv:], y[-nv:], x[:-nv], y[:-nv]
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
    report(args, 0, start, 0, {})
    torch.manual_seed(1)
    net = Net()
    epochs, bs = 20, 128
    steps = epochs * ((len(xt) + bs - 1) // bs)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    loss_fn = torch.nn.CrossEntropyLoss()
    step = 0
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
            step += 1
            progress(args, epoch, start, step)
        net.eval()
        with torch.no_grad():
            acc = (net(xv).argmax(1) == yv).float().mean().item()
        report(args, epoch, start, step, {"val_accuracy": acc})
        if acc >= 0.985:
            return


def ptb_small(args, torch):
    def words(name):
        with opener(os.path.join(args.dir, name)) as f:
            return f.read().decode().replace("\n", " <eos> ").split()

    train, valid = words("ptb.train.txt"), words("ptb.valid.txt")
    # recur's vocabulary: its four specials first (PTB's text has <unk>
    # and <eos> itself), then the training words; the order of the ids
    # does not matter, their number sizes the head.
    specials = ["<pad>", "<unk>", "<bos>", "<eos>"]
    words_ = specials + sorted(set(train) - set(specials))
    vocab = {w: i for i, w in enumerate(words_)}
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
            # recur's --init, --init-embed and --init-head set the weight
            # matrices; the LSTM's and the head's biases keep PyTorch's
            # default draw, as in recur.
            for name, p in self.named_parameters():
                if "weight" in name:
                    torch.nn.init.uniform_(p, -0.1, 0.1)

        def forward(self, x, h):
            out, h = self.rnn(self.emb(x), h)
            return self.head(out), h

    start = time.perf_counter()
    report(args, 0, start, 0, {})
    torch.manual_seed(1)
    net = Net()
    lr, T = 20.0, 20
    loss_fn = torch.nn.CrossEntropyLoss()
    step = 0
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
            step += 1
            progress(args, epoch, start, step)
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
        report(args, epoch, start, step, {"val_ppl": ppl})
        if ppl <= 120.7:
            return


def progress(args, epoch, start, steps):
    """Every 100 steps, a line marked "progress" with the steps so far in
    the current epoch's training, so that a run stopped mid-epoch still
    tells its speed."""
    if steps % 100 == 0:
        report(args, epoch, start, steps, {"progress": True})


def report(args, epoch, start, steps, metrics):
    """Prints one JSON line: the seconds since start, the optimizer steps
    so far, the wall clock (unix, so that a caller that stops this process
    knows how long it trained) and the validation figures."""
    line = {"recipe": args.recipe, "threads": args.threads, "epoch": epoch, "steps": steps,
            "seconds": round(time.perf_counter() - start, 3), "unix": round(time.time(), 3)}
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
    try:
        {"mnist-row": mnist_row, "ptb-small": ptb_small}[args.recipe](args, torch)
    except KeyboardInterrupt:  # stopped by bench/ttq.py at its time cap
        return 130


if __name__ == "__main__":
    sys.exit(main())
