//! Gated cells end to end on the host: a resumed GRU/LSTM run equals an uninterrupted one
//! (frozen tensors and clipping included), the model file records the cell and its tensors
//! (and a file without a cell still loads as leaky), bad combinations name their key, and
//! every command that needs a fixed-point (leaky) model refuses a gated one by name.

use neuroloop::model::{Cell, FloatModel};
use neuroloop::train::checkpoint::Checkpoint;
use neuroloop::train::config::TrainConfig;
use neuroloop::train::Trainer;
use std::process::Command;

const GATED: [Cell; 3] = [Cell::Gru, Cell::Lstm, Cell::LstmPsychrnn];

fn small(cell: Cell) -> TrainConfig {
    let mut cfg = TrainConfig::for_task("perceptual-discrimination");
    cfg.model.cell = cell;
    cfg.model.n_rec = 10;
    cfg.train.batch = 6;
    cfg.train.trials = 6 * 11;
    cfg.train.threads = 2;
    cfg
}

#[test]
fn gated_resume_equals_uninterrupted() {
    for cell in GATED {
        let mut cfg = small(cell);
        // A frozen tensor and a non-default trainable flag go through the same paths.
        cfg.train.trainable.insert("b_out".into(), false);
        cfg.train.l2_rec = 0.01;
        cfg.train.l2_firing_rate = 0.01;
        let mut a = Trainer::new(cfg.clone()).unwrap();
        a.run(None, &mut |_| {}).unwrap();
        let mut b = Trainer::new(cfg.clone()).unwrap();
        for _ in 0..4 {
            b.step().unwrap();
        }
        let ck: Checkpoint =
            serde_json::from_slice(&serde_json::to_vec(&b.checkpoint()).unwrap()).unwrap();
        assert_eq!(ck.model.cell, cell);
        let mut c = Trainer::resume(ck, Some(cfg.clone())).unwrap();
        c.run(None, &mut |_| {}).unwrap();
        let (ma, mc) = (a.model(), c.model());
        assert_eq!(ma, mc, "{cell}: resumed run differs");
        let m0 = Trainer::new(cfg).unwrap().model();
        assert_ne!(ma.w_rec, m0.w_rec, "{cell}: training changed nothing");
        assert_eq!(ma.b_out, m0.b_out, "{cell}: b_out is frozen");
        assert_eq!(ma.w_rec.len(), cell.gates() * 100);
        assert_eq!(ma.init_state.len(), cell.states() * 10);
        assert_eq!(ma.b_hn.len(), if cell == Cell::Gru { 10 } else { 0 });
    }
}

#[test]
fn resume_with_another_cell_names_the_key() {
    let cfg = small(Cell::Gru);
    let t = Trainer::new(cfg.clone()).unwrap();
    let mut other = cfg;
    other.model.cell = Cell::Lstm;
    let e = Trainer::resume(t.checkpoint(), Some(other))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("model.cell"), "{e}");
}

#[test]
fn model_file_records_the_cell_and_old_files_load_as_leaky() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.json");
    for cell in GATED {
        let m = Trainer::new(small(cell)).unwrap().model();
        m.save(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains(&format!("\"cell\":\"{}\"", cell.name())),
            "{cell}"
        );
        assert_eq!(neuroloop::model::load(&p).unwrap(), m);
        // A truncated gate tensor is named with its expected shape.
        let mut bad = m.clone();
        bad.w_rec.pop();
        let e = bad.save(&p).unwrap_err().to_string();
        assert!(
            e.contains("w_rec") && e.contains(&format!("{} gates", cell.name())),
            "{e}"
        );
    }
    // A leaky model's file has no cell key (files written before gated cells existed are
    // the same), and it loads as leaky.
    let leaky = Trainer::new(small(Cell::Leaky)).unwrap().model();
    leaky.save(&p).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(
        !text.contains("\"cell\"") && !text.contains("b_hn"),
        "{text}"
    );
    assert_eq!(neuroloop::model::load(&p).unwrap().cell, Cell::Leaky);
    // A gated cell with leaky-only properties is refused naming the field.
    let mut noisy = Trainer::new(small(Cell::Gru)).unwrap().model();
    noisy.rec_noise = 0.1;
    let e = noisy.validate().unwrap_err().to_string();
    assert!(e.contains("rec_noise") && e.contains("gru"), "{e}");
}

#[test]
fn config_refuses_leaky_only_keys_for_gated_cells() {
    for (key, set) in [
        (
            "model.rec_noise",
            (|c: &mut TrainConfig| c.model.rec_noise = 0.1) as fn(&mut TrainConfig),
        ),
        ("model.dale_ratio", |c| c.model.dale_ratio = Some(0.8)),
        ("model.autapses", |c| c.model.autapses = false),
        ("model.rec_connectivity", |c| {
            c.model.rec_connectivity = Some(vec![vec![1.0; 10]; 10])
        }),
    ] {
        let mut cfg = small(Cell::Lstm);
        set(&mut cfg);
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains(key) && e.contains("lstm"), "{key}: {e}");
    }
    let e = TrainConfig::from_toml(
        "[task]\nname = \"perceptual-discrimination\"\n[model]\ncell = \"rnn\"\n",
        "c.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("cell") && e.contains("lstm-psychrnn"), "{e}");
}

#[test]
fn gated_models_quantize_but_do_not_export_to_psychrnn() {
    let m: FloatModel = Trainer::new(small(Cell::Gru)).unwrap().model();
    let q = neuroloop::quantize::quantize(
        &m,
        &neuroloop::quantize::QuantConfig::default(),
        &[vec![0.5; 2 * 20]],
    )
    .unwrap();
    let blob = neuroloop_core::Model::from_bytes(&q.bytes).unwrap();
    assert_eq!(blob.cell(), neuroloop_core::CellKind::Gru);
    let e = neuroloop::interop::psychrnn::export_arrays(&m)
        .unwrap_err()
        .to_string();
    assert!(e.contains("gru") && e.contains("export"), "{e}");
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neuroloop"))
}

/// `neuroloop export FORMAT MODEL -o OUT`.
fn export(format: &str, model: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    bin()
        .args(["export", format])
        .arg(model)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn cli_trains_a_gated_model_quantizes_and_exports_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("g.json");
    let st = bin()
        .args(["train", "--task", "perceptual-discrimination", "--cell"])
        .args(["lstm-psychrnn", "--n-rec", "8", "--batch", "4", "--trials"])
        .args(["12", "--threads", "1", "-o"])
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let m = neuroloop::model::load(&model).unwrap();
    assert_eq!(m.cell, Cell::LstmPsychrnn);
    let blob = dir.path().join("g.nlb");
    let out = bin()
        .args(["quantize", "--weights", "i8", "--allow-drop", "-o"])
        .arg(&blob)
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&blob).unwrap();
    let q = neuroloop_core::Model::from_bytes(&bytes).unwrap();
    assert_eq!(q.cell(), neuroloop_core::CellKind::Lstm);
    assert_eq!(
        q.transfer(),
        neuroloop::Transfer::Sigmoid,
        "PsychRNN's h = o·σ(c)"
    );
    // PsychRNN's own LSTM layout takes it; PyTorch has no `h = o·σ(c)` module.
    let npz = dir.path().join("g.npz");
    let out = export("psychrnn", &model, &npz);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "export psychrnn: {err}");
    assert!(npz.exists(), "export psychrnn wrote no file");
    let torch = dir.path().join("t.npz");
    let out = export("torch", &model, &torch);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "export torch: {err}");
    assert!(
        err.contains("lstm-psychrnn") && !err.contains("panicked"),
        "export torch: {err}"
    );
    assert!(!torch.exists(), "export torch wrote a file");
    // eval and run work on it.
    let out = bin()
        .args([
            "eval",
            "--trials",
            "20",
            "--cell",
            "lstm-psychrnn",
            "--model",
        ])
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
