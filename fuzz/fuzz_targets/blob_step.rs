//! Blob decode + step: any bytes either fail `Model::from_bytes` with an error or give a
//! model that `Network` steps (1–16 steps, inputs from the fuzz data) without panicking.
//! Built with debug assertions, so any arithmetic overflow in the step is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neuroloop_core::blob::{self, CRC, CRC_LEN};
use neuroloop_core::{Model, Network};
use neuroloop_fuzz::{BlobCase, FIX_CRC, RESET_MIDWAY};

fuzz_target!(|data: &[u8]| {
    let Some(case) = BlobCase::split(data) else {
        return;
    };
    let mut blob = case.blob.to_vec();
    if case.ctl & FIX_CRC != 0 && blob.len() >= CRC_LEN {
        let n = blob.len() - CRC_LEN;
        let crc = CRC.checksum(&blob[..n]);
        blob[n..].copy_from_slice(&crc.to_le_bytes());
    }
    let Ok(model) = Model::from_bytes(&blob) else {
        return;
    };
    // A decoded body re-encodes to a blob that decodes to the same body.
    let again = blob::encode_to_vec(model.body()).expect("a decoded body re-encodes");
    let (body2, _, _) = blob::decode(&again).expect("a re-encoded body decodes");
    assert_eq!(
        format!("{:?}", model.body()),
        format!("{body2:?}"),
        "re-encoding changed the body"
    );

    let (n_in, n_out) = (model.n_in(), model.n_out());
    let mut buf = vec![0i16; model.state_len()];
    let mut net = Network::new(model, &mut buf).expect("state_len words are enough");
    let mut input = vec![0i16; n_in];
    let steps = case.steps();
    for s in 0..steps {
        if case.ctl & RESET_MIDWAY != 0 && s == steps / 2 {
            net.reset();
        }
        for (j, u) in input.iter_mut().enumerate() {
            *u = case.input(s * n_in + j);
        }
        let y = net.step(&input).expect("input has n_in values");
        assert_eq!(y.len(), n_out);
    }
});
