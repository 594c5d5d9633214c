//! Writes the seed corpus of every fuzz target into `fuzz/corpus/<target>/`:
//! `cargo run --release --manifest-path fuzz/Cargo.toml --example gen_corpus`.
//!
//! Seeds are valid inputs of every kind a target parses (blobs of each transfer, weight
//! width, noise on/off; every host message and the device's answers; PsychRNN weight
//! files; pickles; model JSON; train TOML), so the fuzzer starts deep in the parsers.
//! Deterministic: rerunning rewrites the same files. Crash regressions found while fuzzing
//! live next to them as `crash-*` files and are not touched.

use std::cell::Cell;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use neuroloop::interop::npy::Array;
use neuroloop::interop::{npz, pickle, psychrnn};
use neuroloop::train::config::TrainConfig;
use neuroloop::FloatModel;
use neuroloop_core::blob::{self, tests_support::tiny_blob, CRC};
use neuroloop_core::protocol::{HostMsg, Mode, Rule, Source, Streams, MAX_CHUNK, PROTOCOL_VERSION};
use neuroloop_firmware::testing::{
    encode_host, extreme_inputs, random_blob, saturated_blob, NetSpec,
};
use neuroloop_firmware::{
    serve, App, Config, Io, NoActuators, Pending, Serial, Slots, DEFAULT_BLOB,
};
use neuroloop_fuzz::{BlobCase, FuzzTicker, FIX_CRC, RESET_MIDWAY, TX_CAPACITY};

fn dir(target: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    std::fs::create_dir_all(&d).expect("create corpus dir");
    d
}

fn put(target: &str, name: &str, bytes: &[u8]) {
    std::fs::write(dir(target).join(format!("seed-{name}")), bytes).expect("write seed");
}

/// `blob` with its body changed by `f` (re-encoded, so the CRC is right).
fn variant(blob: &[u8], f: impl FnOnce(&mut blob::Body<'_>)) -> Vec<u8> {
    let (mut body, _, _) = blob::decode(blob).expect("seed blob decodes");
    f(&mut body);
    blob::encode_to_vec(&body).expect("variant encodes")
}

fn blobs() -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("tiny".to_string(), tiny_blob())];
    for (n_in, n_rec, n_out, wbytes, transfer, seed) in [
        (1, 3, 1, 1, 0, 1),
        (2, 8, 2, 2, 1, 2),
        (3, 5, 2, 1, 2, 3),
        (2, 16, 1, 2, 3, 4),
        (1, 1, 1, 2, 0, 5),
    ] {
        let spec = NetSpec::new(n_in, n_rec, n_out, wbytes, transfer, seed);
        let b = random_blob(&spec);
        out.push((
            format!("random-{n_in}x{n_rec}x{n_out}-w{wbytes}-t{transfer}"),
            b,
        ));
        let sat = saturated_blob(&spec);
        out.push((format!("saturated-{n_in}x{n_rec}x{n_out}-w{wbytes}"), sat));
    }
    let base = random_blob(&NetSpec::new(2, 6, 2, 2, 1, 9));
    out.push((
        "noise".into(),
        variant(&base, |b| {
            b.quant.noise_mul = 40_000;
            b.quant.seed = 77;
        }),
    ));
    out.push((
        "fracs".into(),
        variant(&base, |b| {
            b.quant.state_frac = 15;
            b.quant.input_frac = 0;
            b.quant.output_frac = 7;
            b.quant.alpha_q15 = 32768;
        }),
    ));
    out
}

fn blob_step() {
    for (name, b) in blobs() {
        let inputs: Vec<i16> = extreme_inputs(4, 3, 11).concat();
        put(
            "blob_step",
            &format!("{name}"),
            &BlobCase::join(7, &b, &inputs),
        );
        put(
            "blob_step",
            &format!("{name}-fixcrc-reset"),
            &BlobCase::join(FIX_CRC | RESET_MIDWAY | 15, &b, &[4096, -4096, 32767]),
        );
    }
}

/// Host messages of every kind, as a session that uploads `blob` and runs it.
fn session(blob: &[u8]) -> Vec<Vec<u8>> {
    let crc = CRC.checksum(blob);
    let mut msgs = vec![
        HostMsg::Hello {
            protocol: PROTOCOL_VERSION,
        },
        HostMsg::GetInfo,
        HostMsg::UploadBegin {
            len: blob.len() as u32,
            crc,
            persist: false,
        },
    ];
    for (i, c) in blob.chunks(MAX_CHUNK).enumerate() {
        msgs.push(HostMsg::UploadChunk {
            offset: (i * MAX_CHUNK) as u32,
            bytes: c,
        });
    }
    msgs.push(HostMsg::UploadCommit);
    let mut rules = heapless::Vec::new();
    let _ = rules.push(Rule::Pwm {
        source: Source::Output(0),
        channel: 0,
        lo: -4096,
        hi: 4096,
    });
    let _ = rules.push(Rule::Ttl {
        source: Source::Rate(1),
        pin: 0,
        on: 100,
        off: 50,
    });
    let _ = rules.push(Rule::Sync { pin: 1, every: 3 });
    msgs.push(HostMsg::SetStimulusMap { rules });
    let mut streams = Streams {
        every: 1,
        events: true,
        ..Streams::default()
    };
    let _ = streams.state_units.push(0);
    let _ = streams.rate_units.push(1);
    msgs.push(HostMsg::Start {
        mode: Mode::Lockstep,
        streams: streams.clone(),
    });
    for k in 0..3u32 {
        let values = heapless::Vec::from_slice(&[4096, -(k as i16) * 1000]).unwrap();
        msgs.push(HostMsg::Input { seq: k, values });
    }
    msgs.push(HostMsg::Stop);
    msgs.push(HostMsg::Start {
        mode: Mode::Timer { rate_hz: 1000 },
        streams,
    });
    msgs.push(HostMsg::Ping);
    msgs.push(HostMsg::GetStats);
    msgs.push(HostMsg::ResetState);
    msgs.push(HostMsg::Stop);
    msgs.into_iter()
        .enumerate()
        .map(|(i, m)| encode_host(i as u16 + 1, m))
        .collect()
}

/// Serial that records what the device sends.
#[derive(Default)]
struct Recorder {
    rx: VecDeque<u8>,
    tx: Vec<u8>,
}

impl Serial for Recorder {
    fn read(&mut self) -> Option<u8> {
        self.rx.pop_front()
    }
    fn try_queue(&mut self, frame: &[u8]) -> bool {
        self.tx.extend_from_slice(frame);
        true
    }
    fn tx_free(&self) -> usize {
        TX_CAPACITY
    }
    fn tx_capacity(&self) -> usize {
        TX_CAPACITY
    }
}

/// Run the firmware app on `host` bytes (as the `firmware_app` target does, minus the
/// checks); returns the device's bytes.
fn device_reply(host: &[u8]) -> Vec<u8> {
    let (mut a, mut b) = (vec![0u8; 8192], vec![0u8; 8192]);
    let mut state = vec![0i16; 408];
    let mut slots = Slots::new(DEFAULT_BLOB, &mut a, &mut b);
    let mut app = App::new(Config { board: "fuzz" }, &slots.split().model, &mut state).unwrap();
    let mut io = Io {
        serial: Recorder::default(),
        ticker: FuzzTicker::default(),
        actuators: NoActuators,
    };
    io.serial.rx.extend(host);
    let mut next = Pending::Boot;
    for _ in 0..4 {
        io.ticker.pending += 1;
        loop {
            let idled = Cell::new(false);
            next = serve(&mut slots, &mut app, &mut io, next, || {
                idled.set(true);
                true
            });
            if idled.get() {
                break;
            }
        }
    }
    io.serial.tx
}

fn protocol_and_app() {
    let small = random_blob(&NetSpec::new(2, 4, 2, 1, 1, 3));
    let big = random_blob(&NetSpec::new(2, 24, 2, 2, 0, 4));
    for (name, blob) in [("small", &small), ("big", &big)] {
        let frames = session(blob);
        let wire = frames.concat();
        put("firmware_app", &format!("session-{name}"), &wire);
        put("protocol", &format!("host-session-{name}"), &wire);
        put(
            "protocol",
            &format!("device-session-{name}"),
            &device_reply(&wire),
        );
    }
    // Short exchanges: one message each (and the answer), a bad-CRC upload, garbage.
    for (i, f) in session(&small).iter().enumerate() {
        put("protocol", &format!("host-msg-{i:02}"), f);
    }
    let mut bad = session(&small);
    bad[2] = encode_host(
        3,
        HostMsg::UploadBegin {
            len: small.len() as u32,
            crc: 1,
            persist: false,
        },
    );
    put("firmware_app", "session-bad-crc", &bad.concat());
    let hello = encode_host(1, HostMsg::Hello { protocol: 99 });
    put("firmware_app", "hello-wrong-version", &hello);
    put("protocol", "device-nack", &device_reply(&hello));
}

fn interop() {
    let mut m = FloatModel::zeros("seed", 2, 4, 2);
    for (k, w) in m.w_rec.iter_mut().enumerate() {
        *w = (k as f32 * 0.37).sin() * 0.5;
    }
    for (k, w) in m.w_in.iter_mut().enumerate() {
        *w = k as f32 * 0.25 - 0.5;
    }
    m.w_out[0] = 1.0;
    m.b_rec[1] = 0.1;
    let npz_bytes = psychrnn::export(&m).expect("export");
    let mut seeds = vec![("psychrnn-small".to_string(), npz_bytes.clone())];
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/psychrnn");
    for f in ["native_dale_exported.npz", "dale_weights.npz"] {
        let bytes = std::fs::read(fixtures.join(f)).expect("fixture");
        seeds.push((f.trim_end_matches(".npz").to_string(), bytes));
    }
    for (name, bytes) in &seeds {
        put(
            "npy_npz",
            &format!("npz-{name}"),
            &[&[1u8][..], bytes].concat(),
        );
    }
    let arrays = npz::read(&npz_bytes).expect("own export reads");
    let mut kinds = std::collections::BTreeSet::new();
    for (key, a) in &arrays {
        // One seed per element type and rank.
        if kinds.insert((a.data.type_name(), a.shape.len())) {
            let name = format!("npy-{}", key.replace('/', "_"));
            put("npy_npz", &name, &[&[0u8][..], &a.to_npy()].concat());
        }
    }
    let i64s = Array {
        shape: vec![2, 3],
        data: neuroloop::interop::npy::Data::I64(vec![1, -2, 3, 4, 5, 6]),
    };
    put("npy_npz", "npy-i64", &[&[0u8][..], &i64s.to_npy()].concat());
    let f64s = Array {
        shape: vec![],
        data: neuroloop::interop::npy::Data::F64(vec![0.8]),
    };
    put(
        "npy_npz",
        "npy-f64-0d",
        &[&[0u8][..], &f64s.to_npy()].concat(),
    );

    put("pickle", "none-object-array", &pickle::none_object_array());
    put("pickle", "bare-none", b"\x80\x02N.");
    let mut float = b"\x80\x03G".to_vec();
    float.extend_from_slice(&0.8f64.to_be_bytes());
    float.push(b'.');
    put("pickle", "bare-float", &float);
    // The object-array pickle with the float 0.8 in place of None (NumPy 2 module name).
    let none = pickle::none_object_array();
    let mut p = none.clone();
    if let Some(at) = p.windows(2).rposition(|w| w == b"Na") {
        p.splice(at..at + 1, float[2..11].iter().copied());
    }
    assert_eq!(pickle::object_scalar(&p), Ok(pickle::Scalar::Float(0.8)));
    put("pickle", "float-object-array", &p);
    let from = b"numpy.core.multiarray";
    let at = none
        .windows(from.len())
        .position(|w| w == from)
        .expect("module name");
    let mut np2 = none.clone();
    np2.splice(
        at..at + from.len(),
        b"numpy._core.multiarray".iter().copied(),
    );
    assert_eq!(pickle::object_scalar(&np2), Ok(pickle::Scalar::None));
    put("pickle", "none-object-array-np2", &np2);

    let json = serde_json::to_vec(&m).expect("model json");
    put("model_config", "model-json", &[&[0u8][..], &json].concat());
    let dale = std::fs::read(fixtures.join("native_dale.json")).expect("fixture");
    put(
        "model_config",
        "model-json-dale",
        &[&[0u8][..], &dale].concat(),
    );
    for task in [
        "perceptual-discrimination",
        "delayed-discrimination",
        "match-to-category",
    ] {
        let c = TrainConfig::for_task(task);
        let toml = toml::to_string(&c).expect("config toml");
        put(
            "model_config",
            &format!("train-{task}"),
            &[&[1u8][..], toml.as_bytes()].concat(),
        );
    }
    let doc = "seed = 1\n[task]\nname = \"perceptual-discrimination\"\ndt = 10.0\ntau = 100.0\n\
               t = 2000.0\n[model]\nn_rec = 50\ntransfer = \"relu\"\nrec_noise = 0.0\n\
               dale_ratio = 0.8\nautapses = true\n[init]\n\
               initializer = \"gaussian_spectral_radius\"\nspec_rad = 1.1\n[train]\n\
               batch = 50\ntrials = 50000\nlearning_rate = 0.001\n\
               loss = \"mean_squared_error\"\nl2_firing_rate = 0.0\ncheckpoint_every = 100\n";
    put(
        "model_config",
        "train-doc",
        &[&[1u8][..], doc.as_bytes()].concat(),
    );
}

fn main() {
    blob_step();
    protocol_and_app();
    interop();
    eprintln!(
        "corpus written to {}",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .display()
    );
}
