#!/usr/bin/python3
"""Extra PyTorch reference cases for the recurrent layers, other shapes.

Writes lstm.json, gru.json and cells.json in the recur-torch-ref/1 format
(testdata/torch/README.md) with the same case names as the shipped files but
shapes drawn from the even-seed pool (T in {2,5,6}, B in {3,5}, I in {2,4,7},
H in {3,5,7}: sizes that are no multiple of the SIMD width), so the Go tests
can be pointed at them:

    /usr/bin/python3 bench/torch_refgen.py --seed 3 --out /tmp/ref
    RECUR_TORCH_REF=/tmp/ref go test -count=1 ./nn -run TorchReference

It is a cross-check, not the reference: the shipped files remain the contract.
"""
import argparse
import json
import os
import random

import torch

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--seed", type=int, default=2)
ap.add_argument("--out", required=True)
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
torch.set_default_dtype(torch.float64)
torch.manual_seed(args.seed)
rnd = random.Random(args.seed)
def T(x):
    x = x.detach()
    return {"shape": list(x.shape), "dtype": "float64", "data": [float(v) for v in x.reshape(-1).tolist()]}
def TI(x):
    return {"shape": list(x.shape), "dtype": "int64", "data": [int(v) for v in x.reshape(-1).tolist()]}
def seq_case(mod, name, L, bi, proj, packed, zero, Tn=None, Bn=None):
    Tn = Tn or rnd.choice([2,5,6]); Bn = Bn or rnd.choice([3,5]); I = rnd.choice([2,4,7]); H = rnd.choice([3,5,7])
    if proj: proj = rnd.choice([p for p in [1,2,3] if p < H])
    kw = dict(num_layers=L, bidirectional=bi)
    if mod == "lstm": m = torch.nn.LSTM(I, H, proj_size=proj, **kw)
    else: m = torch.nn.GRU(I, H, **kw)
    D = 2 if bi else 1; Ho = proj if proj else H
    x = torch.randn(Tn, Bn, I, requires_grad=True)
    h0 = (torch.zeros(L*D, Bn, Ho) if zero else torch.randn(L*D, Bn, Ho)*0.5).requires_grad_()
    c0 = (torch.zeros(L*D, Bn, H) if zero else torch.randn(L*D, Bn, H)*0.5).requires_grad_()
    lengths = None
    if packed:
        lengths = torch.tensor([Tn, 1] + [rnd.randint(1, Tn) for _ in range(Bn-2)])
        lengths = lengths[torch.randperm(Bn)]
        xin = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
    else: xin = x
    out, st = m(xin, (h0, c0)) if mod == "lstm" else m(xin, h0)
    if packed: out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=Tn)
    hn, cn = (st if mod == "lstm" else (st, None))
    R, Rh = torch.randn_like(out), torch.randn_like(hn)
    loss = (out*R).sum() + (hn*Rh).sum()
    tens = {}
    if mod == "lstm":
        Rc = torch.randn_like(cn); loss = loss + (cn*Rc).sum(); tens.update(Rc=T(Rc), c_n=T(cn), c0=T(c0))
    loss.backward()
    names = [n for n, _ in m.named_parameters()]
    for n, p in m.named_parameters(): tens[n] = T(p); tens["grad."+n] = T(p.grad)
    tens.update(input=T(x), h0=T(h0), R=T(R), Rh=T(Rh), output=T(out), h_n=T(hn), loss=T(loss), **{"grad.input": T(x.grad), "grad.h0": T(h0.grad)})
    if mod == "lstm": tens["grad.c0"] = T(c0.grad)
    if packed: tens["lengths"] = TI(lengths)
    cfg = {"module": "nn.LSTM" if mod == "lstm" else "nn.GRU", "T": Tn, "B": Bn, "input_size": I, "hidden_size": H, "num_layers": L,
           "bidirectional": bi, "num_directions": D, "batch_first": False, "bias": True, "dropout": 0.0, "zero_initial_state": zero,
           "packed": packed, "param_names": names, "loss": "..."}
    if mod == "lstm": cfg["proj_size"] = proj
    return {"name": name, "config": cfg, "tensors": tens}
for mod in ["lstm", "gru"]:
    cases = []
    specs = [("l1_state",1,False,0,False,False,{}),("l1_zero",1,False,0,False,True,{}),("l1_T1_B1",1,False,0,False,False,{"Tn":1,"Bn":1}),
             ("l1_B1_long",1,False,0,False,False,{"Tn":9,"Bn":1}),("l2_state",2,False,0,False,False,{}),("l2_zero",2,False,0,False,True,{}),
             ("bi_l1_state",1,True,0,False,False,{}),("bi_l1_zero",1,True,0,False,True,{}),("bi_l2_state",2,True,0,False,False,{}),
             ("bi_l2_zero_T1",2,True,0,False,True,{"Tn":1}),("packed_l1",1,False,0,True,False,{}),("packed_bi_l2",2,True,0,True,False,{})]
    if mod == "lstm": specs += [("proj_l2_state",2,False,1,False,False,{}),("proj_bi_l1_state",1,True,1,False,False,{})]
    for (n,L,bi,proj,packed,zero,kw) in specs:
        cases.append(seq_case(mod, mod+"_"+n, L, bi, proj, packed, zero, **kw))
    json.dump({"format":"recur-torch-ref/1","family":mod,"seed":args.seed,"dtype":"float64","cases":cases}, open(f"{args.out}/{mod}.json","w"))
cases = []
for kind in ["lstmcell","grucell"]:
    for v in ["state","zero","nobias","B1"]:
        B = 1 if v == "B1" else rnd.choice([3,5]); I = rnd.choice([2,4,7]); H = rnd.choice([3,5,7]); bias = v != "nobias"
        m = (torch.nn.LSTMCell if kind == "lstmcell" else torch.nn.GRUCell)(I, H, bias=bias)
        x = torch.randn(B, I, requires_grad=True)
        hx = (torch.zeros(B,H) if v=="zero" else torch.randn(B,H)*0.5).requires_grad_()
        cx = (torch.zeros(B,H) if v=="zero" else torch.randn(B,H)*0.5).requires_grad_()
        tens = {}
        if kind == "lstmcell":
            h1, c1 = m(x, (hx, cx)); Rh, Rc = torch.randn_like(h1), torch.randn_like(c1); loss = (h1*Rh).sum()+(c1*Rc).sum()
            tens.update(cx=T(cx), c1=T(c1), Rc=T(Rc))
        else:
            h1 = m(x, hx); Rh = torch.randn_like(h1); loss = (h1*Rh).sum()
        loss.backward()
        if kind == "lstmcell": tens["grad.cx"] = T(cx.grad)
        names = [n for n,_ in m.named_parameters()]
        for n,p in m.named_parameters(): tens[n]=T(p); tens["grad."+n]=T(p.grad)
        tens.update(input=T(x), hx=T(hx), h1=T(h1), Rh=T(Rh), loss=T(loss), **{"grad.input":T(x.grad),"grad.hx":T(hx.grad)})
        cases.append({"name":f"{kind}_{v}","config":{"module":"nn.LSTMCell" if kind=="lstmcell" else "nn.GRUCell","B":B,"input_size":I,"hidden_size":H,"bias":bias,"zero_initial_state":v=="zero","param_names":names,"loss":"..."},"tensors":tens})
json.dump({"format":"recur-torch-ref/1","family":"cells","seed":args.seed,"dtype":"float64","cases":cases}, open(f"{args.out}/cells.json", "w"))
print("ok")
