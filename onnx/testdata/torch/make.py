"""Writes the ONNX files of onnx/testdata/torch with PyTorch's own exporter.

Each model is small and seeded; NAME.onnx is torch.onnx.export's file
(opset 14) and NAME.json holds the inputs it was run on and PyTorch's
outputs, which recur's import must reproduce (onnx/torch_test.go).

    /usr/bin/python3 onnx/testdata/torch/make.py onnx/testdata/torch

(Debian's python3-torch 1.13 and python3-onnx.)
"""
import json
import sys

import torch

torch.manual_seed(17)


class Classifier(torch.nn.Module):
    """Embedding, a two-layer batch-first LSTM, a linear map of the top h_n."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(12, 4)
        self.rnn = torch.nn.LSTM(4, 5, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(5, 3)

    def forward(self, ids):
        _, (h, _) = self.rnn(self.emb(ids))
        return self.head(h[-1])


class BiClassifier(torch.nn.Module):
    """Embedding, a bidirectional GRU, both final states, softmax."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 3)
        self.rnn = torch.nn.GRU(3, 4, batch_first=True, bidirectional=True)
        self.head = torch.nn.Linear(8, 2)

    def forward(self, ids):
        _, h = self.rnn(self.emb(ids))
        return torch.softmax(self.head(torch.cat((h[-2], h[-1]), dim=1)), dim=-1)


class Tagger(torch.nn.Module):
    """Numeric sequences, a ReLU RNN, a linear map at every step."""

    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(3, 4, nonlinearity="relu", batch_first=True)
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y)


class Forecaster(torch.nn.Module):
    """Time-major numeric windows, a two-layer LSTM, a linear map of h_n."""

    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.LSTM(2, 6, num_layers=2)
        self.head = torch.nn.Linear(6, 2)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return self.head(h[-1])


class LM(torch.nn.Module):
    """Embedding, an LSTM with its state in and out, logits at every step."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(9, 4)
        self.rnn = torch.nn.LSTM(4, 4, batch_first=True)
        self.head = torch.nn.Linear(4, 9)

    def forward(self, ids, h0, c0):
        y, (h, c) = self.rnn(self.emb(ids), (h0, c0))
        return self.head(y), h, c


def export(dirname, name, model, inputs, input_names, output_names, dynamic):
    model.eval()
    with torch.no_grad():
        outs = model(*inputs)
    if not isinstance(outs, tuple):
        outs = (outs,)
    torch.onnx.export(model, tuple(inputs), f"{dirname}/{name}.onnx", input_names=input_names,
                      output_names=output_names, dynamic_axes=dynamic, opset_version=14)
    data = {"inputs": {n: {"dims": list(t.shape), "data": t.flatten().tolist()} for n, t in zip(input_names, inputs)},
            "outputs": {n: {"dims": list(t.shape), "data": t.flatten().tolist()} for n, t in zip(output_names, outs)}}
    with open(f"{dirname}/{name}.json", "w") as f:
        json.dump(data, f)


def main(dirname):
    ids = torch.randint(0, 12, (3, 5))
    export(dirname, "classify_lstm", Classifier(), [ids], ["input_ids"], ["logits"], {"input_ids": {0: "batch", 1: "time"}})
    ids = torch.randint(0, 10, (2, 4))
    export(dirname, "classify_gru_bi", BiClassifier(), [ids], ["input_ids"], ["probabilities"], {"input_ids": {0: "batch", 1: "time"}})
    x = torch.randn(2, 6, 3)
    export(dirname, "tag_rnn_relu", Tagger(), [x], ["input"], ["outputs"], {"input": {0: "batch", 1: "time"}})
    x = torch.randn(7, 3, 2)
    export(dirname, "forecast_lstm", Forecaster(), [x], ["input"], ["forecast"], {"input": {0: "time", 1: "batch"}})
    ids = torch.randint(0, 9, (2, 3))
    h0, c0 = torch.randn(1, 2, 4), torch.randn(1, 2, 4)
    export(dirname, "lm_lstm", LM(), [ids, h0, c0], ["input_ids", "h0", "c0"], ["logits", "hn", "cn"],
           {"input_ids": {0: "batch", 1: "time"}, "h0": {1: "batch"}, "c0": {1: "batch"}})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
