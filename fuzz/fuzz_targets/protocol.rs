//! Frame + message decode: arbitrary bytes through the COBS `FrameReader`, each frame
//! decoded as a `HostMsg` and as a `DeviceMsg`. Whatever decodes must re-encode into a
//! frame, and that frame must decode and re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neuroloop_core::protocol::{frame, DeviceMsg, FrameReader, HostMsg, Packet};
use serde::Serialize;

fn encode<M: Serialize>(p: &Packet<M>) -> Vec<u8> {
    let mut buf = vec![0u8; frame::MAX_FRAME];
    let n = frame::encode(p, &mut buf)
        .expect("a decoded message fits a frame")
        .len();
    buf.truncate(n);
    buf
}

/// If `stuffed` decodes as `$m`, check that encode ∘ decode is stable on it.
macro_rules! round_trip {
    ($m:ty, $stuffed:expr) => {{
        let mut first = $stuffed.to_vec();
        if let Ok(p) = frame::decode::<$m>(&mut first) {
            let wire = encode(&p);
            let mut again = wire.clone();
            let p2 = frame::decode::<$m>(&mut again).expect("a re-encoded message decodes");
            assert_eq!(wire, encode(&p2), "encode ∘ decode is not stable");
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    let mut rx = FrameReader::<{ frame::MAX_FRAME }>::new();
    for &b in data {
        if let Some(Ok(f)) = rx.push(b) {
            round_trip!(HostMsg<'_>, f);
            round_trip!(DeviceMsg<'_>, f);
        }
    }
});
