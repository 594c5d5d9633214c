#!/usr/bin/env python3
"""Regenerate the PyTorch interop fixtures in tests/fixtures/torch/ with PyTorch itself.

Needs PyTorch + NumPy (see README.md beside this file) and, for the `export` phase, a
built `neuroloop` binary. The Rust tests never run Python: they read the committed files.

    python tools/torch/make_fixtures.py make                         # torch-made models
    python tools/torch/make_fixtures.py export --neuroloop target/release/neuroloop
    python tools/torch/make_fixtures.py all --neuroloop ...          # both

`make` writes (float32 throughout, as torch computes)
  gru_weights.npz     state_dict of Net(rnn=nn.GRU(3, 16, batch_first=True), fc=nn.Linear(16, 2)),
                      briefly trained: keys rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0,
                      rnn.bias_hh_l0, fc.weight, fc.bias
  gru_reference.npz   x [4, 60, 3] and torch's outputs [4, 60, 2] and hidden states [4, 60, 16]
                      (zero initial state)
  lstm_weights.npz    a bare nn.LSTM(3, 20) state_dict (weight_ih_l0, ...; batch_first=False),
                      briefly trained, plus an nn.Linear(20, 2) readout saved as out.weight,
                      out.bias, and an initial state h0, c0 of shape (1, 1, 20)
  lstm_reference.npz  x [4, 60, 3] and torch's outputs and hidden states from hx = (h0, c0)
`export` writes (through the neuroloop CLI, then torch's load_state_dict)
  gru_exported.npz, lstm_exported.npz          `neuroloop export torch` of the imported models
  gru_exported_sim.npz, lstm_exported_sim.npz  torch outputs after loading those files into
                                                fresh modules (h0/c0 popped and passed as hx)
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "torch")

N_IN, N_OUT, STEPS, BATCH = 3, 2, 60, 4
SEED = 20261130


class GruNet(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.rnn = nn.GRU(N_IN, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, N_OUT)

    def forward(self, x, hx=None):
        h, _ = self.rnn(x, hx)
        return self.fc(h), h


class LstmNet(nn.Module):
    """batch_first=False, to show that the layout of the inputs does not change the weights."""

    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(N_IN, hidden)
        self.out = nn.Linear(hidden, N_OUT)

    def forward(self, x, hx=None):
        h, _ = self.lstm(x.transpose(0, 1), hx)
        h = h.transpose(0, 1)
        return self.out(h), h


def toy_batch(g, n):
    """A small integration task: report the sign of the running mean of two noisy inputs."""
    x = torch.randn(n, STEPS, N_IN, generator=g) * 0.5
    x[..., 0] += torch.sign(torch.randn(n, 1, generator=g)) * 0.3
    x[..., 1] += torch.sign(torch.randn(n, 1, generator=g)) * 0.3
    m = torch.cumsum(x[..., :2], dim=1) / torch.arange(1, STEPS + 1).view(1, -1, 1)
    return x, torch.tanh(3 * m)


def train(net, hx=None, steps=300):
    g = torch.Generator().manual_seed(SEED + 1)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(steps):
        x, y = toy_batch(g, 32)
        hxb = None if hx is None else tuple(h.expand(-1, 32, -1).contiguous() for h in hx)
        loss = ((net(x, hxb)[0] - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"  trained {steps} Adam steps, final loss {loss.item():.4f}")


def np32(t):
    return t.detach().numpy().astype(np.float32)


def batch_hx(hx, n):
    return None if hx is None else tuple(h.expand(-1, n, -1).contiguous() for h in hx)


def make():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(SEED)
    g = torch.Generator().manual_seed(SEED + 2)
    x, _ = toy_batch(g, BATCH)

    print("gru:")
    gru = GruNet(16)
    train(gru)
    with torch.no_grad():
        y, h = gru(x)
    np.savez(os.path.join(OUT, "gru_weights.npz"), **{k: np32(v) for k, v in gru.state_dict().items()})
    np.savez(os.path.join(OUT, "gru_reference.npz"), x=np32(x), outputs=np32(y), states=np32(h))

    print("lstm:")
    lstm = LstmNet(20)
    h0 = (torch.randn(1, 1, 20) * 0.3).requires_grad_()
    c0 = (torch.randn(1, 1, 20) * 0.3).requires_grad_()
    train(lstm, (h0, c0))
    with torch.no_grad():
        y, h = lstm(x, batch_hx((h0, c0), BATCH))
    w = {k: np32(v) for k, v in lstm.lstm.state_dict().items()}
    w.update({f"out.{k}": np32(v) for k, v in lstm.out.state_dict().items()})
    w.update(h0=np32(h0), c0=np32(c0))
    np.savez(os.path.join(OUT, "lstm_weights.npz"), **w)
    np.savez(os.path.join(OUT, "lstm_reference.npz"), x=np32(x), outputs=np32(y), states=np32(h))
    for name in ("gru", "lstm"):
        print(f"{name}: keys", sorted(np.load(os.path.join(OUT, f"{name}_weights.npz")).files))


def export(neuroloop):
    def nl(*args):
        cmd = [neuroloop, *args]
        print("$", " ".join(cmd))
        subprocess.run(cmd, check=True)

    for name, net, prefixes in (
        ("gru", GruNet(16), ["--rnn-prefix", "rnn.", "--readout-prefix", "fc."]),
        ("lstm", LstmNet(20), ["--rnn-prefix=lstm.", "--readout-prefix", "out."]),
    ):
        tmp = os.path.join(OUT, f".{name}_imported.json")
        nl("import", "torch", os.path.join(OUT, f"{name}_weights.npz"), "--dt", "10", "-o", tmp, "--force")
        exported = os.path.join(OUT, f"{name}_exported.npz")
        nl("export", "torch", tmp, "-o", exported, "--force", *prefixes)
        os.remove(tmp)
        w = dict(np.load(exported))
        hx = None
        if "h0" in w:
            hx = (torch.from_numpy(w.pop("h0")), torch.from_numpy(w.pop("c0")))
        net.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()}, strict=True)
        ref = np.load(os.path.join(OUT, f"{name}_reference.npz"))
        x = torch.from_numpy(ref["x"])
        with torch.no_grad():
            y, _ = net(x, batch_hx(hx, x.shape[0]))
        print(f"{name}: torch on the exported file vs torch on the original, max abs "
              f"{float(np.max(np.abs(np32(y) - ref['outputs']))):.3g}")
        np.savez(os.path.join(OUT, f"{name}_exported_sim.npz"), outputs=np32(y))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("phase", choices=["make", "export", "all"])
    p.add_argument("--neuroloop", help="path of a built neuroloop binary (export phase)")
    a = p.parse_args()
    print("torch", torch.__version__, "numpy", np.__version__)
    torch.set_num_threads(1)
    if a.phase in ("make", "all"):
        make()
    if a.phase in ("export", "all"):
        if not a.neuroloop:
            sys.exit("the export phase needs --neuroloop PATH (cargo build -p neuroloop)")
        export(a.neuroloop)
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):>8}  {name}")


if __name__ == "__main__":
    main()
