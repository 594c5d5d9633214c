//! RAM and flash budgets: runtime state for a leaky N_rec 128 net ≤ 4·N_rec + 2·N_out + 64
//! bytes (no heap), blob ≤ raw weight bytes + 1 % + 256 B.

mod common;
use common::Spec;
use neuroloop_core::{Model, State};

#[test]
fn state_ram_for_n128_fits_budget() {
    for (n_out, wbytes) in [(1, 1), (2, 2), (8, 1)] {
        let n_rec = 128;
        let bytes = Spec::random(3, n_rec, n_out, wbytes, 1).encode();
        let model = Model::from_bytes(&bytes).unwrap();
        let mut buf = vec![0i16; model.state_len()];
        let buf_bytes = core::mem::size_of_val(buf.as_slice());
        let state = State::new(&model, &mut buf).unwrap();
        // The caller-owned buffer plus the State struct itself is all the RAM a network
        // needs (Model is a view of the blob in flash).
        let ram = buf_bytes + core::mem::size_of_val(&state);
        let budget = 4 * n_rec + 2 * n_out + 64;
        eprintln!("n_rec {n_rec} n_out {n_out}: state RAM {ram} B (budget {budget} B)");
        assert!(ram <= budget, "state RAM {ram} B > budget {budget} B");
    }
}

#[test]
fn blob_overhead_fits_budget() {
    for (n_in, n_rec, n_out, wbytes) in [
        (3, 128, 2, 1),
        (3, 128, 2, 2),
        (2, 64, 1, 1),
        (4, 256, 3, 2),
    ] {
        let bytes = Spec::random(n_in, n_rec, n_out, wbytes, 2).encode();
        let model = Model::from_bytes(&bytes).unwrap();
        let raw = model.param_bytes();
        let budget = raw + raw / 100 + 256;
        eprintln!(
            "n_rec {n_rec} w{}: blob {} B, raw params {raw} B, budget {budget} B",
            wbytes * 8,
            bytes.len()
        );
        assert!(bytes.len() <= budget, "blob {} B > {budget} B", bytes.len());
    }
}

#[test]
fn too_small_state_buffer_is_an_error() {
    let bytes = Spec::random(3, 16, 2, 1, 1).encode();
    let model = Model::from_bytes(&bytes).unwrap();
    let mut buf = vec![0i16; model.state_len() - 1];
    assert!(State::new(&model, &mut buf).is_err());
}
