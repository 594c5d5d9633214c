//! Shared test harness: a device (the app over mock serial, ticker, pins and optionally
//! a mock NOR flash that loses power on cue) driven through the wire protocol.
#![allow(dead_code)]

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

use embedded_hal::digital::{ErrorType as PinErrorType, OutputPin};
use embedded_hal::pwm::{ErrorType as PwmErrorType, SetDutyCycle};
use neuroloop_core::protocol::{
    DeviceMsg, HostMsg, Mode, ModelStore, Stats, Streams, Telemetry, MAX_CHUNK,
};
use neuroloop_firmware::flash::{FlashSlot, FlashSlots, NoFlash};
use neuroloop_firmware::testing::{encode_host, Deframer, RxFrame};
use neuroloop_firmware::{
    serve, App, Config, Io, Outputs, Pending, Serial, Slots, Ticker, DEFAULT_BLOB,
};

/// A serial port with a transmit queue of `cap` bytes drained to `tx` (the wire) at
/// `link` bytes per `tx_pump` (the app pumps once per poll).
pub struct MockSerial {
    pub rx: VecDeque<u8>,
    pub queue: VecDeque<u8>,
    pub cap: usize,
    pub link: usize,
    pub tx: Vec<u8>,
}
impl Default for MockSerial {
    fn default() -> Self {
        MockSerial {
            rx: VecDeque::new(),
            queue: VecDeque::new(),
            cap: 4096,
            link: usize::MAX,
            tx: Vec::new(),
        }
    }
}
impl MockSerial {
    pub fn drain(&mut self, n: usize) {
        let n = n.min(self.queue.len());
        self.tx.extend(self.queue.drain(..n));
    }
}
impl Serial for MockSerial {
    fn read(&mut self) -> Option<u8> {
        self.rx.pop_front()
    }
    fn try_queue(&mut self, frame: &[u8]) -> bool {
        if self.tx_free() < frame.len() {
            return false;
        }
        self.queue.extend(frame);
        true
    }
    fn tx_free(&self) -> usize {
        self.cap - self.queue.len()
    }
    fn tx_capacity(&self) -> usize {
        self.cap
    }
    fn tx_pump(&mut self) {
        self.drain(self.link);
    }
}

/// Clock advances `per_read` on every `now()`; `take_ticks` returns the queued counts in
/// turn (0 when none is queued).
pub struct MockTicker {
    pub clock: u32,
    pub per_read: u32,
    pub ticks: VecDeque<u32>,
    pub rate: Option<u32>,
}
impl Ticker for MockTicker {
    fn clock_hz(&self) -> u32 {
        1_000_000
    }
    fn now(&mut self) -> u32 {
        self.clock = self.clock.wrapping_add(self.per_read);
        self.clock
    }
    fn start(&mut self, rate_hz: u32) -> bool {
        self.rate = Some(rate_hz);
        rate_hz <= 100_000
    }
    fn stop(&mut self) {
        self.rate = None;
    }
    fn take_ticks(&mut self) -> u32 {
        self.ticks.pop_front().unwrap_or(0)
    }
}

#[derive(Default)]
pub struct MockPin(pub bool);
impl PinErrorType for MockPin {
    type Error = core::convert::Infallible;
}
impl OutputPin for MockPin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0 = false;
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.0 = true;
        Ok(())
    }
}

#[derive(Default)]
pub struct MockPwm(pub u16);
impl PwmErrorType for MockPwm {
    type Error = core::convert::Infallible;
}
impl SetDutyCycle for MockPwm {
    fn max_duty_cycle(&self) -> u16 {
        1000
    }
    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), Self::Error> {
        self.0 = duty;
        Ok(())
    }
}

pub type Board = Io<MockSerial, MockTicker, Outputs<MockPwm, MockPin, 1, 2>>;

pub struct Dev<F: FlashSlot = NoFlash> {
    pub slots: Slots<'static, F>,
    pub app: App<'static>,
    pub io: Board,
    pub next: Pending,
    pub deframer: Deframer,
    pub seq: u16,
    pub heartbeats: Vec<neuroloop_core::protocol::Heartbeat>,
}

pub const SLOT: usize = 64 * 1024;

fn leak<T: Copy>(v: T, n: usize) -> &'static mut [T] {
    Box::leak(vec![v; n].into_boxed_slice())
}

impl Dev<NoFlash> {
    /// A device without flash, RAM slots of [`SLOT`] bytes.
    pub fn new() -> Self {
        Dev::boot(Slots::new(DEFAULT_BLOB, leak(0, SLOT), leak(0, SLOT)))
    }
}

impl<F: FlashSlot> Dev<F> {
    /// A device with flash slots (RAM slots of 4 KiB): boots what the flash holds.
    pub fn with_flash(flash: FlashSlots<F>) -> Self {
        let (a, b) = (leak(0, 4096), leak(0, 4096));
        Dev::boot(Slots::with_flash(DEFAULT_BLOB, a, b, flash))
    }

    /// Power off: the flash, for the next [`Dev::with_flash`].
    pub fn power_off(self) -> FlashSlots<F> {
        self.slots.into_flash().expect("a device with flash")
    }

    fn boot(mut slots: Slots<'static, F>) -> Self {
        let state: &'static mut [i16] = leak(0, 2 * 200 + 8);
        let app = App::new(Config { board: "mock" }, &slots.split().model, state).unwrap();
        let io = Io {
            serial: MockSerial::default(),
            ticker: MockTicker {
                clock: 0,
                per_read: 10,
                ticks: VecDeque::new(),
                rate: None,
            },
            actuators: Outputs {
                pwm: [MockPwm::default()],
                pins: [MockPin::default(), MockPin::default()],
            },
        };
        Dev {
            slots,
            app,
            io,
            next: Pending::Boot,
            deframer: Deframer::default(),
            seq: 0,
            heartbeats: Vec::new(),
        }
    }

    /// Poll until idle, committing uploads as `neuroloop_firmware::run` does.
    pub fn pump(&mut self) {
        loop {
            let idled = std::cell::Cell::new(false);
            self.next = serve(
                &mut self.slots,
                &mut self.app,
                &mut self.io,
                self.next,
                || {
                    idled.set(true);
                    true
                },
            );
            if idled.get() {
                return;
            }
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.io.serial.rx.extend(bytes);
    }

    /// Send one message, run the device, return the frames it sent.
    pub fn request(&mut self, msg: HostMsg<'_>) -> Vec<RxFrame> {
        self.seq = self.seq.wrapping_add(1);
        let wire = encode_host(self.seq, msg);
        self.send_raw(&wire);
        self.pump();
        self.take_frames()
    }

    /// The frames on the wire (the link catches up first), heartbeats set aside.
    pub fn take_frames(&mut self) -> Vec<RxFrame> {
        self.io.serial.drain(usize::MAX);
        let tx = std::mem::take(&mut self.io.serial.tx);
        let mut out = Vec::new();
        self.deframer.feed(&tx, &mut out);
        out.retain(|f| match f.packet().unwrap().msg {
            DeviceMsg::Heartbeat(h) => {
                self.heartbeats.push(h);
                false
            }
            _ => true,
        });
        out
    }

    pub fn expect_ack(&mut self, msg: HostMsg<'_>) {
        let seq = self.seq.wrapping_add(1);
        let f = self.request(msg);
        assert_eq!(f.len(), 1);
        assert!(
            matches!(f[0].packet().unwrap().msg, DeviceMsg::Ack { re, .. } if re == seq),
            "{:?}",
            f[0].packet()
        );
    }

    pub fn expect_nack(&mut self, msg: HostMsg<'_>) -> String {
        let f = self.request(msg);
        assert_eq!(f.len(), 1);
        match f[0].packet().unwrap().msg {
            DeviceMsg::Nack { re, reason } => {
                assert_eq!(re, self.seq);
                format!("{reason:?}")
            }
            other => panic!("expected Nack, got {other:?}"),
        }
    }

    pub fn upload(&mut self, blob: &[u8], crc: u32, send: usize) -> Vec<RxFrame> {
        self.upload_to(blob, crc, send, false)
    }

    /// As [`Dev::upload`], into flash with `persist`.
    pub fn upload_to(&mut self, blob: &[u8], crc: u32, send: usize, persist: bool) -> Vec<RxFrame> {
        self.expect_ack(HostMsg::UploadBegin {
            len: blob.len() as u32,
            crc,
            persist,
        });
        for (i, c) in blob[..send].chunks(MAX_CHUNK).enumerate() {
            self.expect_ack(HostMsg::UploadChunk {
                offset: (i * MAX_CHUNK) as u32,
                bytes: c,
            });
        }
        self.request(HostMsg::UploadCommit)
    }

    /// The counters (frames before the reply, e.g. queued telemetry, are skipped).
    pub fn stats(&mut self) -> Stats {
        let f = self.request(HostMsg::GetStats);
        f.iter()
            .find_map(|f| match f.packet().unwrap().msg {
                DeviceMsg::Stats { stats, .. } => Some(stats),
                _ => None,
            })
            .expect("a Stats reply")
    }

    pub fn lockstep_outputs(&mut self, inputs: &[Vec<i16>]) -> Vec<Vec<i16>> {
        self.expect_ack(HostMsg::ResetState);
        self.expect_ack(HostMsg::Start {
            mode: Mode::Lockstep,
            streams: Streams {
                every: 1,
                ..Streams::default()
            },
        });
        let mut outs = Vec::new();
        for (k, u) in inputs.iter().enumerate() {
            let f = self.request(HostMsg::Input {
                seq: k as u32,
                values: heapless::Vec::from_slice(u).unwrap(),
            });
            assert_eq!(f.len(), 1, "one telemetry frame per input");
            let t = telemetry(&f[0]);
            assert_eq!((t.tick, t.input_seq), (k as u32 + 1, k as u32));
            outs.push(t.outputs.to_vec());
        }
        self.expect_ack(HostMsg::Stop);
        outs
    }

    pub fn info(&mut self) -> (u32, ModelStore) {
        let f = self.request(HostMsg::GetInfo);
        match f[0].packet().unwrap().msg {
            DeviceMsg::Info(i) => (i.model_crc, i.model_store),
            other => panic!("expected Info, got {other:?}"),
        }
    }
}

pub fn telemetry(f: &RxFrame) -> Telemetry {
    match f.packet().unwrap().msg {
        DeviceMsg::Telemetry(t) => t,
        other => panic!("expected Telemetry, got {other:?}"),
    }
}

pub const SECTOR: usize = 4096;

#[derive(Debug)]
pub struct PowerCut;
impl NorFlashError for PowerCut {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

/// NOR semantics: erase sets a sector to 0xFF, a write can only clear bits. `power` is
/// the number of operations left (a byte written or a sector erased each); at 0 the
/// operation in progress stops where it is (an erase half done leaves half the sector
/// erased) and every later one fails.
pub struct MockSlot {
    pub mem: Vec<u8>,
    pub power: Rc<Cell<usize>>,
}

impl MockSlot {
    fn spend(&self) -> bool {
        let left = self.power.get();
        if left == 0 {
            return false;
        }
        self.power.set(left - 1);
        true
    }
}

impl ErrorType for MockSlot {
    type Error = PowerCut;
}
impl ReadNorFlash for MockSlot {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), PowerCut> {
        let o = offset as usize;
        bytes.copy_from_slice(&self.mem[o..o + bytes.len()]);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.mem.len()
    }
}
impl NorFlash for MockSlot {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = SECTOR;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), PowerCut> {
        assert!(from as usize % SECTOR == 0 && to as usize % SECTOR == 0 && from <= to);
        for s in (from as usize..to as usize).step_by(SECTOR) {
            if !self.spend() {
                self.mem[s..s + SECTOR / 2].fill(0xFF);
                return Err(PowerCut);
            }
            self.mem[s..s + SECTOR].fill(0xFF);
        }
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), PowerCut> {
        let o = offset as usize;
        assert!(o % Self::WRITE_SIZE == 0 && bytes.len() % Self::WRITE_SIZE == 0);
        for (k, &b) in bytes.iter().enumerate() {
            if !self.spend() {
                return Err(PowerCut);
            }
            self.mem[o + k] &= b;
        }
        Ok(())
    }
}
impl FlashSlot for MockSlot {
    fn mapped(&self) -> &[u8] {
        &self.mem
    }
}

/// Two blank (0xA5-filled, i.e. never erased) mock slots of `slot_bytes` sharing `power`.
pub fn fresh_flash(slot_bytes: usize, power: &Rc<Cell<usize>>) -> FlashSlots<MockSlot> {
    let slot = || MockSlot {
        mem: vec![0xA5; slot_bytes],
        power: power.clone(),
    };
    FlashSlots::new(slot(), slot())
}
