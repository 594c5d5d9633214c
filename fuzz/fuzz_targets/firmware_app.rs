//! The firmware app on the host, fed arbitrary host bytes: the data is the serial
//! stream, delivered in slices; after each slice one timer tick is queued and the app is
//! served (`neuroloop_firmware::serve`, as `run` does: uploads committed, decoded and
//! swapped) until it is idle. Every frame the device queues must decode (checked by
//! `FuzzSerial`).
#![no_main]

use std::cell::Cell;

use libfuzzer_sys::fuzz_target;
use neuroloop_firmware::{serve, App, Config, Io, NoActuators, Pending, Slots, DEFAULT_BLOB};
use neuroloop_fuzz::{FuzzSerial, FuzzTicker};

/// Upload slot size (uploads larger than this are refused by the app).
const SLOT: usize = 8 * 1024;
/// Bytes delivered between two rounds of serving.
const SLICE: usize = 61;
/// `serve` rounds (one per committed upload) without reaching idle that count as a hang.
const MAX_ROUNDS: usize = 10_000;

fuzz_target!(|data: &[u8]| {
    let (mut a, mut b) = (vec![0u8; SLOT], vec![0u8; SLOT]);
    let mut state = vec![0i16; 2 * 200 + 8];
    let mut slots = Slots::new(DEFAULT_BLOB, &mut a, &mut b);
    let mut app =
        App::new(Config { board: "fuzz" }, &slots.split().model, &mut state).expect("state buffer");
    let mut io = Io {
        serial: FuzzSerial::default(),
        ticker: FuzzTicker::default(),
        actuators: NoActuators,
    };
    let mut next = Pending::Boot;
    for slice in data.chunks(SLICE) {
        io.serial.rx.extend(slice);
        io.ticker.pending += 1;
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(rounds < MAX_ROUNDS, "app never became idle");
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
});
