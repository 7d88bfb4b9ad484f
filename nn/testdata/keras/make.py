"""Writes Keras-layout recurrent weights as numpy arrays, with the outputs
Keras computes from them, for nn/keras_npy_test.go.

    /usr/bin/python3 nn/testdata/keras/make.py nn/testdata/keras

Each layer's arrays are what layer.get_weights() returns, saved with
np.save: LSTM kernel (I, 4H), recurrent_kernel (H, 4H), bias (4H), gates
i, f, c, o; GRU (reset_after=True, the Keras 2+ default) kernel (I, 3H),
recurrent_kernel (H, 3H), bias (2, 3H) = [input; recurrent], gates z, r, h;
GRU reset_after=False with one bias (3H); SimpleRNN kernel (I, H),
recurrent_kernel (H, H), bias (H). x is (T, I); NAME_h is (T, H), the
layer's output at every step (return_sequences=True) from zero states,
computed below with the equations of keras/src/layers/rnn/{lstm,gru,
simple_rnn}.py in float64. (Keras itself is not a Debian package.)
"""
import sys

import numpy as np

rng = np.random.default_rng(17)
I, H, T = 3, 4, 6


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm(x, k, u, b):
    h, c, out = np.zeros(H), np.zeros(H), []
    for xt in x:
        z = xt @ k + h @ u + b
        i, f, cc, o = sigmoid(z[:H]), sigmoid(z[H:2 * H]), np.tanh(z[2 * H:3 * H]), sigmoid(z[3 * H:])
        c = f * c + i * cc
        h = o * np.tanh(c)
        out.append(h)
    return np.array(out)


def gru(x, k, u, b, reset_after):
    h, out = np.zeros(H), []
    bx, bh = (b[0], b[1]) if reset_after else (b, np.zeros(3 * H))
    for xt in x:
        mx, mh = xt @ k + bx, h @ u + bh
        z = sigmoid(mx[:H] + mh[:H])
        r = sigmoid(mx[H:2 * H] + mh[H:2 * H])
        if reset_after:
            hh = np.tanh(mx[2 * H:] + r * mh[2 * H:])
        else:
            hh = np.tanh(mx[2 * H:] + (r * h) @ u[:, 2 * H:])
        h = z * h + (1 - z) * hh
        out.append(h)
    return np.array(out)


def simple_rnn(x, k, u, b):
    h, out = np.zeros(H), []
    for xt in x:
        h = np.tanh(xt @ k + h @ u + b)
        out.append(h)
    return np.array(out)


def main(d):
    f32 = lambda *s: rng.uniform(-0.8, 0.8, s).astype(np.float32)
    x = f32(T, I)
    np.save(f"{d}/x.npy", x)
    xd = x.astype(np.float64)
    layers = {
        "lstm": ([f32(I, 4 * H), f32(H, 4 * H), f32(4 * H)], lstm),
        "gru": ([f32(I, 3 * H), f32(H, 3 * H), f32(2, 3 * H)], lambda x, k, u, b: gru(x, k, u, b, True)),
        "gru_reset_before": ([f32(I, 3 * H), f32(H, 3 * H), f32(3 * H)], lambda x, k, u, b: gru(x, k, u, b, False)),
        "simple_rnn": ([f32(I, H), f32(H, H), f32(H)], simple_rnn),
    }
    for name, (weights, f) in layers.items():
        for part, w in zip(["kernel", "recurrent_kernel", "bias"], weights):
            np.save(f"{d}/{name}_{part}.npy", w)
        np.save(f"{d}/{name}_h.npy", f(xd, *[w.astype(np.float64) for w in weights]))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
