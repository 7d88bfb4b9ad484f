"""Writes the torch.save fixtures of pytorch/testdata with PyTorch 1.13.

    /usr/bin/python3 pytorch/testdata/make.py pytorch/testdata

Each NAME.pt is what torch.save wrote; NAME.json holds its tensors (keys in
order, shapes, values as float64) for pytorch/statedict_test.go to compare
with. (Debian's python3-torch.)
"""
import collections
import json
import sys

import torch

torch.manual_seed(17)


class Classifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(7, 3)
        self.lstm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
        self.fc = torch.nn.Linear(8, 2)


class Tagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(2, 3)
        self.head = torch.nn.Linear(3, 2)


def save(dirname, name, obj, tensors):
    torch.save(obj, f"{dirname}/{name}.pt")
    with open(f"{dirname}/{name}.json", "w") as f:
        json.dump([{"key": k, "shape": list(t.shape), "data": t.double().flatten().tolist()} for k, t in tensors], f)


def main(d):
    m = Classifier()
    sd = m.state_dict()
    save(d, "classifier", sd, list(sd.items()))
    g = Tagger()
    sd = g.state_dict()
    # A checkpoint dict with a nested state dict, numbers and lists.
    ckpt = {"model": sd, "epoch": 3, "history": [0.5, 0.25]}
    save(d, "checkpoint", ckpt, [("model." + k, v) for k, v in sd.items()])
    # Other element types and views: a transposed (non-contiguous) tensor,
    # a slice at an offset of a shared storage, float64, float16, bfloat16, int64.
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    od = collections.OrderedDict()
    od["transposed"] = base.t()
    od["slice"] = base[1:3, 2:5]
    od["double"] = torch.linspace(-1, 1, 5, dtype=torch.float64)
    od["half"] = torch.tensor([0.5, -2.0, 65504.0, 1e-7], dtype=torch.float16)
    od["bfloat16"] = torch.tensor([1.5, -3.25], dtype=torch.bfloat16)
    od["long"] = torch.tensor([[1, -2], [3, 4]], dtype=torch.int64)
    od["scalar"] = torch.tensor(2.5)
    save(d, "views", od, list(od.items()))
    # Refused: a global outside the allow-list (the model object itself).
    torch.save(g, f"{d}/module.pt")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
