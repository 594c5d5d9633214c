//! GRU and LSTM models through the app on the host (mock serial; the core run is the
//! reference): uploads swap in, lockstep telemetry — outputs, selected state units (GRU
//! `h`, LSTM cell state `c`) and rates (`h`) — equals the core's, and an LSTM whose
//! scratch does not fit the state buffer is refused by name while a GRU of the same
//! shape runs.

mod common;

use common::*;
use neuroloop_core::blob::CRC;
use neuroloop_core::protocol::{DeviceMsg, HostMsg, Mode, NackReason, Streams, MAX_UNITS};
use neuroloop_core::{CellKind, Model, Network};
use neuroloop_firmware::flash::NoFlash;
use neuroloop_firmware::testing::{
    discrimination_inputs, extreme_inputs, random_blob, saturated_blob, NetSpec,
};

/// Lockstep `inputs` streaming `units` of state and rates; returns (outputs, state, rates)
/// per step.
fn lockstep_units(d: &mut Dev<NoFlash>, inputs: &[Vec<i16>], units: &[u16]) -> Vec<[Vec<i16>; 3]> {
    let units: heapless::Vec<u16, MAX_UNITS> = heapless::Vec::from_slice(units).unwrap();
    d.expect_ack(HostMsg::ResetState);
    d.expect_ack(HostMsg::Start {
        mode: Mode::Lockstep,
        streams: Streams {
            every: 1,
            state_units: units.clone(),
            rate_units: units,
            events: false,
        },
    });
    let mut out = Vec::new();
    for (k, u) in inputs.iter().enumerate() {
        let f = d.request(HostMsg::Input {
            seq: k as u32,
            values: heapless::Vec::from_slice(u).unwrap(),
        });
        let t = telemetry(&f[0]);
        out.push([t.outputs.to_vec(), t.state.to_vec(), t.rates.to_vec()]);
    }
    d.expect_ack(HostMsg::Stop);
    out
}

/// The core's run: (outputs, state, rates) of `units` per step.
fn core_units(blob: &[u8], inputs: &[Vec<i16>], units: &[u16]) -> Vec<[Vec<i16>; 3]> {
    let model = Model::from_bytes(blob).unwrap();
    let mut buf = vec![0i16; model.state_len()];
    let mut net = Network::new(model, &mut buf).unwrap();
    let pick = |v: &[i16]| units.iter().map(|&i| v[i as usize]).collect::<Vec<_>>();
    inputs
        .iter()
        .map(|u| {
            let y = net.step(u).unwrap().to_vec();
            [y, pick(net.state()), pick(net.rates())]
        })
        .collect()
}

#[test]
fn gated_uploads_stream_outputs_states_and_rates_like_the_core() {
    let mut d = Dev::new();
    let mut psy = NetSpec::gated(CellKind::Lstm, 2, 23, 2, 2, 4);
    psy.transfer = 2;
    let cases = [
        (NetSpec::gated(CellKind::Gru, 3, 29, 2, 1, 1), false),
        (NetSpec::gated(CellKind::Lstm, 2, 31, 3, 2, 2), false),
        (psy, false),
        (NetSpec::gated(CellKind::Gru, 2, 33, 1, 2, 3), true),
        (NetSpec::gated(CellKind::Lstm, 3, 27, 2, 1, 5), true),
    ];
    for (spec, saturated) in cases {
        let (blob, inputs) = if saturated {
            (saturated_blob(&spec), extreme_inputs(60, spec.n_in, 8))
        } else {
            (random_blob(&spec), discrimination_inputs(80, spec.n_in, 8))
        };
        let f = d.upload(&blob, CRC.checksum(&blob), blob.len());
        assert!(
            matches!(f[0].packet().unwrap().msg, DeviceMsg::Ack { .. }),
            "{}: upload",
            spec.name
        );
        let last = spec.n_rec as u16 - 1;
        let units = [0, 1, last / 2, last];
        let got = lockstep_units(&mut d, &inputs, &units);
        let want = core_units(&blob, &inputs, &units);
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{}: step {k} (outputs, state, rates)", spec.name);
        }
        assert_eq!(got.len(), inputs.len());
        if spec.cell == CellKind::Lstm {
            assert!(
                want.iter().any(|s| s[1] != s[2]),
                "{}: LSTM state (c) and rates (h) differ",
                spec.name
            );
        }
    }
}

/// The mock device has 408 state words: an LSTM of 100 units and 120 outputs needs 420
/// (its scratch included) and is refused naming both numbers; the running model stays.
/// A GRU of the same shape (320 words) runs.
#[test]
fn lstm_needing_more_state_than_the_device_has_is_refused() {
    let mut d = Dev::new();
    let lstm = random_blob(&NetSpec::gated(CellKind::Lstm, 1, 100, 120, 1, 6));
    assert!(lstm.len() <= SLOT, "{} B", lstm.len());
    let crc_before = d.info().0;
    let f = d.upload(&lstm, CRC.checksum(&lstm), lstm.len());
    match f[0].packet().unwrap().msg {
        DeviceMsg::Nack {
            reason: NackReason::BadBlob { detail },
            ..
        } => assert_eq!(detail, "model needs 420 state words, device has 408"),
        other => panic!("{other:?}"),
    }
    assert_eq!(d.info().0, crc_before, "the running model stays");
    let gru = random_blob(&NetSpec::gated(CellKind::Gru, 1, 100, 120, 1, 6));
    let f = d.upload(&gru, CRC.checksum(&gru), gru.len());
    assert!(matches!(f[0].packet().unwrap().msg, DeviceMsg::Ack { .. }));
    let inputs = discrimination_inputs(20, 1, 2);
    let got: Vec<Vec<i16>> = d.lockstep_outputs(&inputs);
    let want: Vec<Vec<i16>> = core_units(&gru, &inputs, &[])
        .into_iter()
        .map(|[y, _, _]| y)
        .collect();
    assert_eq!(got, want);
}
