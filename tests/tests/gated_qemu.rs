//! GRU and LSTM blobs on the QEMU firmware (mps2-an386, Cortex-M4F, core feature `dsp`)
//! through the wire protocol (issue 12, must-show 5): lockstep telemetry — outputs, 16
//! state units and 16 rate units — bit-identical to the host core's trajectory, step by
//! step, for i8 and i16 weights at odd sizes, saturating blobs on extreme inputs, the
//! PsychRNN LSTM variant, and the largest LSTM a RAM slot holds; timer mode on a gated
//! blob (every step's telemetry equal to the core's replay); an LSTM too large for the
//! slots refused at `UploadBegin` while the running model keeps stepping bit-exactly.
//!
//! What "state" and "rate" units stream per cell (`docs/protocol.md`): GRU `h` and `h`
//! (Q15); LSTM the cell state `c` (at `state_frac`) and the hidden state `h` (Q15).
//!
//! Run by `cargo xtask qemu-test` (it builds the firmware and sets `NEUROLOOP_FW_QEMU_ELF`);
//! ignored by a plain `cargo test`.

#[path = "../src/qemu.rs"]
mod qemu;

use neuroloop_core::protocol::{
    DeviceMsg, HostMsg, Mode, NackReason, Streams, Telemetry, MAX_UNITS,
};
use neuroloop_core::{CellKind, Model, Network};
use neuroloop_firmware::testing::{
    discrimination_inputs, extreme_inputs, random_blob, saturated_blob, NetSpec,
};
use qemu::Firmware;

/// Outputs, the selected state units and the selected rate units of one step.
type Frame = [Vec<i16>; 3];

/// 16 units spread over `0..n_rec`, the first and the last included.
fn spread_units(n_rec: usize) -> heapless::Vec<u16, MAX_UNITS> {
    (0..16).map(|k| (k * (n_rec - 1) / 15) as u16).collect()
}

fn streams(units: &heapless::Vec<u16, MAX_UNITS>) -> Streams {
    Streams {
        every: 1,
        state_units: units.clone(),
        rate_units: units.clone(),
        events: false,
    }
}

fn frame(t: &Telemetry) -> Frame {
    [t.outputs.to_vec(), t.state.to_vec(), t.rates.to_vec()]
}

/// The host core's trajectory of `blob` on `inputs`: per step, outputs and `units` of
/// state and rates.
fn core_run(blob: &[u8], inputs: &[Vec<i16>], units: &[u16]) -> Vec<Frame> {
    let model = Model::from_bytes(blob).expect("blob decodes");
    let mut buf = vec![0i16; model.state_len()];
    let mut net = Network::new(model, &mut buf).expect("state buffer");
    let pick = |v: &[i16]| units.iter().map(|&i| v[i as usize]).collect::<Vec<_>>();
    inputs
        .iter()
        .map(|u| {
            let y = net.step(u).expect("input length").to_vec();
            [y, pick(net.state()), pick(net.rates())]
        })
        .collect()
}

/// The first step and field where `got` differs from `want` (or their lengths differ).
fn first_difference(got: &[Frame], want: &[Frame]) -> Option<String> {
    if got.len() != want.len() {
        return Some(format!("{} steps, want {}", got.len(), want.len()));
    }
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        for (f, name) in ["outputs", "state", "rates"].iter().enumerate() {
            if g[f] != w[f] {
                return Some(format!("step {k}, {name}: {:?}, want {:?}", g[f], w[f]));
            }
        }
    }
    None
}

/// Asserts `got` equals `want` bit for bit, and that the comparison is sharp: the same
/// trajectory with one value one LSB off (in the state, the rates and the outputs, at a
/// step in the middle) is caught, and the values vary (not a constant trajectory).
fn assert_bit_exact(name: &str, got: &[Frame], want: &[Frame]) {
    if let Some(d) = first_difference(got, want) {
        panic!("{name}: firmware telemetry differs from the host core: {d}");
    }
    for field in 0..3 {
        let mut off = want.to_vec();
        let k = off.len() / 2;
        let v = &mut off[k][field][0];
        *v = v.wrapping_add(1);
        assert!(
            first_difference(got, &off).is_some(),
            "{name}: a one-LSB difference in field {field} goes unnoticed"
        );
        let values: std::collections::BTreeSet<i16> =
            want.iter().flat_map(|f| f[field].iter().copied()).collect();
        assert!(
            values.len() > 10,
            "{name}: field {field} varies ({values:?})"
        );
    }
}

/// Upload `blob`, check `Info`, run `inputs` in lockstep with 16 + 16 units, compare with
/// the host core; returns the mean step in SysTick clocks.
fn lockstep_case(fw: &mut Firmware, spec: &NetSpec, blob: &[u8], inputs: &[Vec<i16>]) -> f64 {
    fw.upload(blob);
    let (crc, dims) = fw.hello(|i| (i.model_crc, (i.n_in, i.n_rec, i.n_out)));
    assert_eq!(crc, Model::from_bytes(blob).unwrap().crc(), "{}", spec.name);
    assert_eq!(
        dims,
        (spec.n_in as u16, spec.n_rec as u16, spec.n_out as u16)
    );
    let units = spread_units(spec.n_rec);
    let tel = fw.lockstep_with(inputs, streams(&units));
    let got: Vec<Frame> = tel.iter().map(frame).collect();
    let want = core_run(blob, inputs, &units);
    assert_bit_exact(&spec.name, &got, &want);
    if spec.cell == CellKind::Lstm {
        assert!(
            want.iter().any(|f| f[1] != f[2]),
            "{}: LSTM state units (c) and rate units (h) differ",
            spec.name
        );
    } else {
        assert!(
            want.iter().all(|f| f[1] == f[2]),
            "{}: GRU state and rate units are both h",
            spec.name
        );
    }
    let ticks: Vec<u32> = tel.iter().map(|t| t.tick).collect();
    assert_eq!(ticks, (1..=inputs.len() as u32).collect::<Vec<_>>());
    tel.iter().map(|t| t.step_clocks as f64).sum::<f64>() / tel.len() as f64
}

/// Must-show 5: GRU and LSTM, i8 and i16, odd sizes, 150 lockstep steps of task inputs;
/// saturating GRU and LSTM blobs on 100 steps of extreme inputs; the PsychRNN LSTM
/// (`h = o·σ(c)`); the largest LSTM (i8) a RAM slot holds, 20 steps.
#[test]
#[ignore = "needs the QEMU firmware: cargo xtask qemu-test"]
fn gated_lockstep_bit_exact() {
    let mut fw = Firmware::start();
    let mut psy = NetSpec::gated(CellKind::Lstm, 2, 29, 1, 2, 105);
    psy.transfer = 2;
    let random = [
        NetSpec::gated(CellKind::Gru, 3, 45, 2, 1, 101),
        NetSpec::gated(CellKind::Gru, 2, 67, 3, 2, 102),
        NetSpec::gated(CellKind::Lstm, 3, 41, 2, 2, 103),
        NetSpec::gated(CellKind::Lstm, 2, 53, 2, 1, 104),
        psy,
    ];
    for (k, spec) in random.iter().enumerate() {
        let blob = random_blob(spec);
        let inputs = discrimination_inputs(150, spec.n_in, 200 + k as u64);
        let clocks = lockstep_case(&mut fw, spec, &blob, &inputs);
        eprintln!(
            "{}: {} B, 150 steps bit-exact, mean step {clocks:.0} clocks ≈ {:.0} instructions",
            spec.name,
            blob.len(),
            clocks * 40.0
        );
    }
    let saturated = [
        NetSpec::gated(CellKind::Gru, 3, 37, 2, 2, 111),
        NetSpec::gated(CellKind::Gru, 5, 51, 3, 1, 112),
        NetSpec::gated(CellKind::Lstm, 3, 43, 2, 2, 113),
        NetSpec::gated(CellKind::Lstm, 4, 35, 2, 1, 114),
    ];
    for (k, spec) in saturated.iter().enumerate() {
        let blob = saturated_blob(spec);
        let inputs = extreme_inputs(100, spec.n_in, 300 + k as u64);
        lockstep_case(&mut fw, spec, &blob, &inputs);
        eprintln!("{} (saturated): 100 steps bit-exact", spec.name);
    }
    // The largest i8 LSTM that fits a RAM slot (its state fits by the board's sizing).
    let slot = fw.hello(|i| i.ram_slot_bytes) as usize;
    let (spec, blob) = (150..=260)
        .rev()
        .map(|n| {
            let s = NetSpec::gated(CellKind::Lstm, 2, n, 2, 1, 120);
            let b = random_blob(&s);
            (s, b)
        })
        .find(|(_, b)| b.len() <= slot)
        .expect("an LSTM fits the slot");
    let inputs = discrimination_inputs(20, 2, 400);
    let clocks = lockstep_case(&mut fw, &spec, &blob, &inputs);
    eprintln!(
        "largest LSTM in a {slot} B slot: {} ({} B), 20 steps bit-exact, {:.0} instructions/step",
        spec.name,
        blob.len(),
        clocks * 40.0
    );
}

/// Timer mode on an LSTM (i16, N_rec 64): 3 000 ticks at 1 kHz with telemetry on every
/// step — 0 misses, 0 drops, every tick — and the whole trajectory equals the core's replay
/// of the inputs the device used (zeros after `ResetState` until the `Input` arrived).
#[test]
#[ignore = "needs the QEMU firmware: cargo xtask qemu-test"]
fn gated_timer_mode_matches_the_core() {
    const SEQ: u32 = 1_000_000;
    const TICKS: u32 = 3_000;
    let mut fw = Firmware::start();
    let spec = NetSpec::gated(CellKind::Lstm, 2, 64, 2, 2, 130);
    let blob = random_blob(&spec);
    fw.upload(&blob);
    let units = spread_units(spec.n_rec);
    fw.expect_ack(HostMsg::ResetState);
    fw.expect_ack(HostMsg::Start {
        mode: Mode::Timer { rate_hz: 1000 },
        streams: streams(&units),
    });
    let values = vec![2048i16, -1024];
    fw.send(HostMsg::Input {
        seq: SEQ,
        values: heapless::Vec::from_slice(&values).unwrap(),
    });
    let mut tel = Vec::new();
    while tel.last().is_none_or(|t: &Telemetry| t.tick < TICKS) {
        match fw.recv().packet().unwrap().msg {
            DeviceMsg::Telemetry(t) => tel.push(t),
            DeviceMsg::Heartbeat(_) | DeviceMsg::Event(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    fw.expect_ack(HostMsg::Stop);
    let s = fw.stats();
    assert_eq!((s.deadline_misses, s.telemetry_dropped), (0, 0), "{s:?}");
    let ticks: Vec<u32> = tel.iter().map(|t| t.tick).collect();
    assert_eq!(
        ticks,
        (1..=TICKS).collect::<Vec<_>>(),
        "every tick, in order"
    );
    let switch = tel
        .iter()
        .position(|t| t.input_seq == SEQ)
        .expect("input used");
    assert!(switch < 100, "the input reaches the loop within 100 ticks");
    assert!(tel[switch..].iter().all(|t| t.input_seq == SEQ));
    let inputs: Vec<Vec<i16>> = (0..tel.len())
        .map(|k| {
            if k < switch {
                vec![0; 2]
            } else {
                values.clone()
            }
        })
        .collect();
    let got: Vec<Frame> = tel.iter().map(frame).collect();
    assert_bit_exact(&spec.name, &got, &core_run(&blob, &inputs, &units));
    eprintln!(
        "{} timer 1 kHz: {TICKS} ticks bit-exact, input from tick {}, longest tick {} clocks",
        spec.name,
        switch + 1,
        s.max_step_clocks
    );
}

/// An LSTM too large for the slots (i16, N_rec 150: more than 164 KiB) is refused at
/// `UploadBegin` with `TooLarge` naming its size and the limit, for a RAM and a flash
/// slot; the running GRU keeps its CRC and steps bit-exactly.
#[test]
#[ignore = "needs the QEMU firmware: cargo xtask qemu-test"]
fn gated_too_large_upload_is_refused() {
    let mut fw = Firmware::start();
    let gru = NetSpec::gated(CellKind::Gru, 2, 33, 2, 2, 140);
    let blob = random_blob(&gru);
    let inputs = discrimination_inputs(60, 2, 141);
    lockstep_case(&mut fw, &gru, &blob, &inputs);
    let crc = fw.model_crc();
    let big = random_blob(&NetSpec::gated(CellKind::Lstm, 2, 150, 2, 2, 142));
    let (ram, flash) = fw.hello(|i| (i.ram_slot_bytes, i.flash_slot_bytes));
    assert!(big.len() as u32 > ram.max(flash), "{} B", big.len());
    for (persist, max) in [(false, ram), (true, flash)] {
        let reason = fw.expect_nack(HostMsg::UploadBegin {
            len: big.len() as u32,
            crc: neuroloop_core::blob::CRC.checksum(&big),
            persist,
        });
        let want = NackReason::TooLarge {
            len: big.len() as u32,
            max,
        };
        assert_eq!(reason, format!("{want:?}"));
    }
    assert_eq!(fw.model_crc(), crc, "the GRU still runs");
    lockstep_case(&mut fw, &gru, &blob, &inputs);
}
