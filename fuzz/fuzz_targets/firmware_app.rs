//! The firmware app on the host, fed arbitrary host bytes: the data is the serial
//! stream, delivered in slices; after each slice the app is polled until idle (uploads
//! committed and adopted as `neuroloop_firmware::run` does) and one timer tick is given.
//! Every frame the device sends must decode (checked by `FuzzSerial`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use neuroloop_firmware::{App, Config, Io, NoActuators, Poll, Slots, DEFAULT_BLOB};
use neuroloop_fuzz::{FuzzSerial, FuzzTicker};

/// Upload slot size (uploads larger than this are refused by the app).
const SLOT: usize = 8 * 1024;
/// Bytes delivered between two rounds of polling.
const SLICE: usize = 61;
/// Polls without reaching `Idle` that count as a hang.
const MAX_POLLS: usize = 100_000;

fuzz_target!(|data: &[u8]| {
    let (mut a, mut b) = (vec![0u8; SLOT], vec![0u8; SLOT]);
    let mut state = vec![0i16; 2 * 200 + 8];
    let mut slots = Slots::new(DEFAULT_BLOB, &mut a, &mut b);
    let mut app = {
        let (model, _) = slots.split();
        App::new(Config { board: "fuzz" }, &model, &mut state).expect("state buffer")
    };
    let mut io = Io {
        serial: FuzzSerial::default(),
        ticker: FuzzTicker::default(),
        actuators: NoActuators,
    };
    for slice in data.chunks(SLICE) {
        io.serial.rx.extend(slice);
        io.ticker.pending += 1;
        let mut polls = 0;
        loop {
            let swap = {
                let (model, staging) = slots.split();
                loop {
                    polls += 1;
                    assert!(polls < MAX_POLLS, "app never became idle");
                    match app.poll(&model, staging, &mut io) {
                        Poll::Idle => break None,
                        Poll::Busy => {}
                        Poll::Swap { len } => break Some(len),
                    }
                }
            };
            match swap {
                Some(len) => {
                    slots.commit(len);
                    let (model, _) = slots.split();
                    app.adopt(&model);
                }
                None => break,
            }
        }
    }
});
