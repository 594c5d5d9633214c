#!/usr/bin/env python3
"""Regenerate the PsychRNN interop fixtures in tests/fixtures/psychrnn/.

Needs PsychRNN 1.0.0 + TensorFlow (see README.md beside this file) and, for the
`export` phase, a built `neuroloop` binary. The Rust tests never run Python: they read the
committed files this script writes.

    python tools/psychrnn/make_fixtures.py train               # PsychRNN-trained models
    python tools/psychrnn/make_fixtures.py export --neuroloop target/debug/neuroloop
    python tools/psychrnn/make_fixtures.py lstm --neuroloop target/debug/neuroloop
    python tools/psychrnn/make_fixtures.py all --neuroloop ...  # all three

`train` writes
  basic_weights.npz    PsychRNN `model.save` of a Basic RNN trained on PerceptualDiscrimination
                       (N_rec 50, dt 10, tau 100, relu, no noise; includes the */Adam* slots)
  basic_reference.npz  a test batch (compressed): x, y, mask (task), outputs + states_head
                       (first 2 trials) from model.test,
                       decisions (PsychRNN's accuracy rule: argmax of the masked time mean)
  dale_weights.npz     a Basic RNN with dale_ratio 0.8, autapses off, sparse rec/in masks and
                       an output mask that reads excitatory units only
  dale_reference.npz   x and model.test outputs for that model
`export` writes (through the neuroloop CLI, then PsychRNN's BasicSimulator)
  basic_exported.npz       `neuroloop export psychrnn` of `neuroloop import psychrnn basic_weights.npz`
  basic_exported_sim.npz   BasicSimulator(weights_path=basic_exported.npz) on basic_reference x
  native_dale.json         a native neuroloop float model with raw weights, Dale + masks
  native_dale_exported.npz `neuroloop export psychrnn native_dale.json`
  native_dale_sim.npz      BasicSimulator outputs of that file on random inputs x
It also loads each exported file back with PsychRNN's own `Basic(load_weights_path=...)`
(np.load with allow_pickle, so dale_ratio's pickle is read by numpy) and checks that
`model.test` matches BasicSimulator.
`lstm` writes (PsychRNN's LSTM model, then the neuroloop CLI)
  lstm_weights.npz         PsychRNN `model.save` of an LSTM (N_rec 24, N_batch 8) trained on
                           PerceptualDiscrimination; init_hidden/init_cell are [8, 24]
  lstm_reference.npz       a test batch of 8 trials: x, mask, `model.test` outputs and states
                           (trial b starts from row b of init_hidden/init_cell), and
                           LSTMSimulator(weights_path=lstm_weights.npz) outputs and states
                           (every trial starts from row 0)
  lstm_exported.npz        `neuroloop export psychrnn` of `neuroloop import psychrnn lstm_weights.npz`
  lstm_exported_sim.npz    LSTMSimulator outputs of lstm_exported.npz on the reference x
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "psychrnn")

DT, TAU, T = 10, 100, 1000  # ms; 100 steps per trial
SEED = 20240501


def f32(a):
    return np.asarray(a, dtype=np.float32)


def psychrnn_decisions(outputs, mask):
    """PerceptualDiscrimination.accuracy_function's choice."""
    return np.argmax(np.mean(outputs * mask, axis=1), axis=1)


def train():
    import tensorflow as tf
    from psychrnn.backend.models.basic import Basic
    from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination

    os.makedirs(OUT, exist_ok=True)

    # ---- plain Basic model, trained ---------------------------------------------------
    np.random.seed(SEED)
    tf.compat.v1.reset_default_graph()
    tf.compat.v1.set_random_seed(SEED)
    n_batch = 50
    task = PerceptualDiscrimination(dt=DT, tau=TAU, T=T, N_batch=n_batch)
    params = task.get_task_params()
    params.update(name="basic", N_rec=50, rec_noise=0.0)
    model = Basic(params)
    model.train(task, {"training_iters": 10000, "learning_rate": 0.01, "verbosity": False})
    weights = os.path.join(OUT, "basic_weights.npz")
    model.save(weights)

    x, y, mask, _ = task.get_trial_batch()
    outputs, states = model.test(x)
    dec = psychrnn_decisions(outputs, mask)
    acc = task.accuracy_function(y, outputs, mask)
    print(f"basic: accuracy on the reference batch {acc:.3f}")
    np.savez_compressed(
        os.path.join(OUT, "basic_reference.npz"),
        x=f32(x),
        y=f32(y),
        mask=f32(mask),
        outputs=f32(outputs),
        states_head=f32(states[:2]),
        decisions=dec.astype(np.int64),
    )
    model.destruct()

    # ---- Dale's law + connectivity masks ----------------------------------------------
    np.random.seed(SEED + 1)
    tf.compat.v1.reset_default_graph()
    tf.compat.v1.set_random_seed(SEED + 1)
    n_rec = 20
    task = PerceptualDiscrimination(dt=DT, tau=TAU, T=T, N_batch=10)
    params = task.get_task_params()
    rec_conn = (np.random.rand(n_rec, n_rec) < 0.5).astype(np.float64)
    in_conn = (np.random.rand(n_rec, 2) < 0.7).astype(np.float64)
    # Outputs read from excitatory units only (PsychRNN 1.0.0 builds Dale_out from
    # Dale_rec, so without this mask inhibitory units would drive the outputs negatively).
    out_conn = (np.random.rand(2, n_rec) < 0.8).astype(np.float64)
    out_conn[:, int(0.8 * n_rec):] = 0.0
    params.update(
        name="dale",
        N_rec=n_rec,
        rec_noise=0.0,
        dale_ratio=0.8,
        autapses=False,
        rec_connectivity=rec_conn,
        input_connectivity=in_conn,
        output_connectivity=out_conn,
    )
    model = Basic(params)
    model.train(task, {"training_iters": 1000, "learning_rate": 0.01, "verbosity": False})
    model.save(os.path.join(OUT, "dale_weights.npz"))
    x, y, mask, _ = task.get_trial_batch()
    outputs, _ = model.test(x)
    np.savez(os.path.join(OUT, "dale_reference.npz"), x=f32(x), outputs=f32(outputs))
    w = np.load(os.path.join(OUT, "dale_weights.npz"), allow_pickle=True)
    print("dale: dale_ratio", w["dale_ratio"], "Dale_out == Dale_rec:", np.array_equal(w["Dale_out"], w["Dale_rec"]))
    model.destruct()


def native_dale_model():
    """A native neuroloop float model with raw (unconstrained) weights + Dale + masks."""
    rng = np.random.RandomState(SEED + 2)
    n_in, n_rec, n_out = 3, 12, 2
    m = {
        "format": "neuroloop-float-model",
        "version": 1,
        "name": "native_dale",
        "task": "",
        "n_in": n_in,
        "n_rec": n_rec,
        "n_out": n_out,
        "dt": 10.0,
        "tau": 50.0,
        "rec_noise": 0.0,
        "transfer": "relu",
        "w_in": f32(rng.randn(n_rec * n_in) * 0.5).tolist(),
        "w_rec": f32(rng.randn(n_rec * n_rec) * 0.3).tolist(),
        "w_out": f32(rng.randn(n_out * n_rec) * 0.5).tolist(),
        "b_rec": f32(rng.randn(n_rec) * 0.1).tolist(),
        "b_out": f32(rng.randn(n_out) * 0.1).tolist(),
        "init_state": f32(0.1 + 0.01 * rng.randn(n_rec)).tolist(),
        "constraints": {
            "dale_ratio": 0.75,
            "input_connectivity": (rng.rand(n_rec * n_in) < 0.7).astype(float).tolist(),
            "rec_connectivity": (rng.rand(n_rec * n_rec) < 0.6).astype(float).tolist(),
            "output_connectivity": None,
            "autapses": False,
        },
        "summary": "fixture for PsychRNN export (tools/psychrnn/make_fixtures.py)",
    }
    return m


def check_loads_in_psychrnn_basic(path, x, expect, name):
    """Load an exported file with PsychRNN's own Basic (allow_pickle) and compare model.test."""
    import tensorflow as tf
    from psychrnn.backend.models.basic import Basic

    w = np.load(path, allow_pickle=True)
    tf.compat.v1.reset_default_graph()
    params = {
        "name": name,
        "N_in": w["W_in"].shape[1],
        "N_rec": w["W_rec"].shape[0],
        "N_out": w["W_out"].shape[0],
        "N_steps": x.shape[1],
        "N_batch": x.shape[0],
        "dt": DT,
        "tau": TAU if name != "native_dale" else 50,
        "rec_noise": 0.0,
        "load_weights_path": path,
    }
    model = Basic(params)
    out, _ = model.test(x)
    model.destruct()
    err = float(np.max(np.abs(out - expect)))
    print(f"{name}: PsychRNN Basic(load_weights_path) vs BasicSimulator max abs {err:.3g}; "
          f"dale_ratio read by numpy: {w['dale_ratio']!r}")
    assert err < 1e-4, err


def export(neuroloop):
    from psychrnn.backend.simulation import BasicSimulator

    def nl(*args):
        cmd = [neuroloop, *args]
        print("$", " ".join(cmd))
        subprocess.run(cmd, check=True)

    tmp_model = os.path.join(OUT, ".basic_imported.json")
    nl("import", "psychrnn", os.path.join(OUT, "basic_weights.npz"), "--dt", str(DT), "--tau", str(TAU),
       "-o", tmp_model)
    exported = os.path.join(OUT, "basic_exported.npz")
    nl("export", "psychrnn", tmp_model, "-o", exported)
    os.remove(tmp_model)
    ref = np.load(os.path.join(OUT, "basic_reference.npz"))
    sim = BasicSimulator(weights_path=exported, params={"dt": DT, "tau": TAU, "rec_noise": 0.0})
    out, states = sim.run_trials(ref["x"].astype(np.float64))
    print("basic: BasicSimulator(exported) vs PsychRNN model.test max abs",
          float(np.max(np.abs(out - ref["outputs"]))))
    np.savez(os.path.join(OUT, "basic_exported_sim.npz"), outputs=f32(out))
    check_loads_in_psychrnn_basic(exported, ref["x"], out, "basic_reload")

    native = os.path.join(OUT, "native_dale.json")
    with open(native, "w") as f:
        json.dump(native_dale_model(), f, indent=1)
    exported = os.path.join(OUT, "native_dale_exported.npz")
    nl("export", "psychrnn", native, "-o", exported)
    rng = np.random.RandomState(SEED + 3)
    x = f32(rng.rand(4, 30, 3))
    sim = BasicSimulator(weights_path=exported, params={"dt": 10.0, "tau": 50.0, "rec_noise": 0.0})
    out, states = sim.run_trials(x.astype(np.float64))
    np.savez(os.path.join(OUT, "native_dale_sim.npz"), x=x, outputs=f32(out), states=f32(states))
    check_loads_in_psychrnn_basic(exported, x, out, "native_dale")


LSTM_N_REC, LSTM_BATCH = 24, 8


def lstm(neuroloop):
    import tensorflow as tf
    from psychrnn.backend.models.lstm import LSTM
    from psychrnn.backend.simulation import LSTMSimulator
    from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination

    np.random.seed(SEED + 4)
    tf.compat.v1.reset_default_graph()
    tf.compat.v1.set_random_seed(SEED + 4)
    task = PerceptualDiscrimination(dt=DT, tau=TAU, T=T, N_batch=LSTM_BATCH)
    params = task.get_task_params()
    params.update(name="lstm", N_rec=LSTM_N_REC, rec_noise=0.0)
    model = LSTM(params)
    model.train(task, {"training_iters": 4000, "learning_rate": 0.01, "verbosity": False})
    weights = os.path.join(OUT, "lstm_weights.npz")
    model.save(weights)
    x, y, mask, _ = task.get_trial_batch()
    outputs, states = model.test(x)
    acc = task.accuracy_function(y, outputs, mask)
    model.destruct()
    w = np.load(weights, allow_pickle=True)
    print("lstm: keys", sorted(w.files))
    print("lstm: init_hidden", w["init_hidden"].shape, "rows differ by up to",
          float(np.max(np.abs(w["init_hidden"] - w["init_hidden"][:1]))))
    sim = LSTMSimulator(weights_path=weights, params={"dt": DT, "tau": TAU, "rec_noise": 0.0})
    sim_out, sim_states = sim.run_trials(x)
    print(f"lstm: accuracy on the reference batch {acc:.3f} (model.test), "
          f"{task.accuracy_function(y, sim_out, mask):.3f} (LSTMSimulator, row 0 for every trial)")
    print("lstm: model.test vs LSTMSimulator, trial 0 max abs",
          float(np.max(np.abs(outputs[0] - sim_out[0]))),
          "; all trials max abs", float(np.max(np.abs(outputs - sim_out))))
    np.savez_compressed(
        os.path.join(OUT, "lstm_reference.npz"),
        x=f32(x),
        mask=f32(mask),
        outputs=f32(outputs),
        states=f32(states),
        sim_outputs=f32(sim_out),
        sim_states=f32(sim_states),
    )

    def nl(*args):
        cmd = [neuroloop, *args]
        print("$", " ".join(cmd))
        subprocess.run(cmd, check=True)

    tmp_model = os.path.join(OUT, ".lstm_imported.json")
    nl("import", "psychrnn", weights, "--dt", str(DT), "--tau", str(TAU), "-o", tmp_model, "--force")
    exported = os.path.join(OUT, "lstm_exported.npz")
    nl("export", "psychrnn", tmp_model, "-o", exported, "--force")
    os.remove(tmp_model)
    sim = LSTMSimulator(weights_path=exported, params={"dt": DT, "tau": TAU, "rec_noise": 0.0})
    out, _ = sim.run_trials(x)
    print("lstm: LSTMSimulator(exported) vs LSTMSimulator(PsychRNN save) max abs",
          float(np.max(np.abs(out - sim_out))))
    np.savez(os.path.join(OUT, "lstm_exported_sim.npz"), outputs=f32(out))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("phase", choices=["train", "export", "lstm", "all"])
    p.add_argument("--neuroloop", help="path of a built neuroloop binary (export phase)")
    a = p.parse_args()
    if a.phase in ("train", "all"):
        train()
    if a.phase in ("export", "all"):
        if not a.neuroloop:
            sys.exit("the export phase needs --neuroloop PATH (cargo build -p neuroloop)")
        export(a.neuroloop)
    if a.phase in ("lstm", "all"):
        if not a.neuroloop:
            sys.exit("the lstm phase needs --neuroloop PATH (cargo build -p neuroloop)")
        lstm(a.neuroloop)
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):>8}  {name}")


if __name__ == "__main__":
    main()
