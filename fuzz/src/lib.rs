//! Shared pieces of the neuroloop fuzz targets: how a target splits its input, and the
//! host mocks the firmware app runs on. The corpus generator (`examples/gen_corpus.rs`)
//! builds seeds with the same functions, so seeds and targets agree on the layout.
//!
//! Written by hand because it is glue between libFuzzer's byte input and our APIs.

use std::collections::VecDeque;

use neuroloop_core::protocol::{frame, DeviceMsg, FrameReader};
use neuroloop_firmware::{Serial, Ticker};

/// Bit of the `blob_step` control byte: overwrite the blob's CRC with the right one, so
/// mutations get past the CRC check and reach the body validation and the step.
pub const FIX_CRC: u8 = 0x80;
/// Bit of the `blob_step` control byte: reset the network after the first half of the steps.
pub const RESET_MIDWAY: u8 = 0x40;

/// A `blob_step` input, split.
#[derive(Debug)]
pub struct BlobCase<'a> {
    /// Control byte: [`FIX_CRC`], [`RESET_MIDWAY`], low 4 bits = steps − 1.
    pub ctl: u8,
    /// The blob bytes.
    pub blob: &'a [u8],
    /// Input values, little-endian `i16`s, used cyclically (zeros when empty).
    pub inputs: &'a [u8],
}

impl<'a> BlobCase<'a> {
    /// Layout: `ctl`, blob length (`u16` LE), blob, input bytes. A length past the end
    /// takes the rest as the blob.
    pub fn split(data: &'a [u8]) -> Option<Self> {
        let (&ctl, rest) = data.split_first()?;
        let (len, rest) = match rest {
            [a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
            _ => return None,
        };
        let (blob, inputs) = rest.split_at(len.min(rest.len()));
        Some(BlobCase { ctl, blob, inputs })
    }

    /// The inverse of [`BlobCase::split`].
    pub fn join(ctl: u8, blob: &[u8], inputs: &[i16]) -> Vec<u8> {
        let mut v = vec![ctl];
        v.extend_from_slice(&(blob.len() as u16).to_le_bytes());
        v.extend_from_slice(blob);
        for x in inputs {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v
    }

    /// Steps to run: 1 ..= 16.
    pub fn steps(&self) -> usize {
        usize::from(self.ctl & 0x0f) + 1
    }

    /// Input value number `k` (cyclic over the input bytes).
    pub fn input(&self, k: usize) -> i16 {
        let n = self.inputs.len() / 2;
        if n == 0 {
            return 0;
        }
        let i = 2 * (k % n);
        i16::from_le_bytes([self.inputs[i], self.inputs[i + 1]])
    }
}

/// Transmit queue capacity of [`FuzzSerial`], bytes (as a UART board's ring).
pub const TX_CAPACITY: usize = 2048;

/// Serial port mock: the host bytes wait in `rx`; every frame the device queues must
/// decode as a [`DeviceMsg`] (the device never sends garbage, whatever it received). The
/// transmit queue drains at once, so it is never full.
#[derive(Default)]
pub struct FuzzSerial {
    /// Bytes from the host, not yet read by the device.
    pub rx: VecDeque<u8>,
    reader: Box<FrameReader<{ frame::MAX_FRAME }>>,
    /// Frames the device sent.
    pub frames_out: usize,
}

impl Serial for FuzzSerial {
    fn read(&mut self) -> Option<u8> {
        self.rx.pop_front()
    }
    fn try_queue(&mut self, bytes: &[u8]) -> bool {
        assert!(
            bytes.len() <= TX_CAPACITY,
            "device queued a {} B frame, more than the {TX_CAPACITY} B queue",
            bytes.len()
        );
        let mut whole = 0;
        for &b in bytes {
            match self.reader.push(b) {
                None => {}
                Some(Ok(f)) => {
                    if let Err(e) = frame::decode::<DeviceMsg<'_>>(f) {
                        panic!("device sent an undecodable frame: {e}");
                    }
                    self.frames_out += 1;
                    whole += 1;
                }
                Some(Err(e)) => panic!("device sent a bad frame: {e}"),
            }
        }
        assert_eq!(whole, 1, "a queued frame must hold exactly one whole frame");
        true
    }
    fn tx_free(&self) -> usize {
        TX_CAPACITY
    }
    fn tx_capacity(&self) -> usize {
        TX_CAPACITY
    }
}

/// Ticker mock: a clock advancing 7 µs per read; ticks queued by the target.
#[derive(Default)]
pub struct FuzzTicker {
    clock: u32,
    /// Ticks to hand out on the next `take_ticks`.
    pub pending: u32,
    running: bool,
}

impl Ticker for FuzzTicker {
    fn clock_hz(&self) -> u32 {
        1_000_000
    }
    fn now(&mut self) -> u32 {
        self.clock = self.clock.wrapping_add(7);
        self.clock
    }
    fn start(&mut self, rate_hz: u32) -> bool {
        self.running = rate_hz <= 100_000;
        self.running
    }
    fn stop(&mut self) {
        self.running = false;
    }
    fn take_ticks(&mut self) -> u32 {
        if self.running {
            std::mem::take(&mut self.pending)
        } else {
            0
        }
    }
}
