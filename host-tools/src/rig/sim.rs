//! `neuroloop device-sim`: the firmware's app crate (`neuroloop-firmware`) running on the
//! host behind the same wire protocol, so rig scripts can be written without a board.
//!
//! The device loop is the firmware's own ([`App::poll`] over [`Slots`], the same code a
//! board runs, stepping the same `neuroloop-core`), with host stand-ins for the board:
//! - serial: byte chunks over a channel, fed by a TCP connection, a pty or the in-process
//!   [`Client`](super::Client) (`--sim`);
//! - ticker: the host's monotonic clock in ns (`clock_hz` = 10⁹), ticks at the requested
//!   rate; or, with [`SimOptions::virtual_clock`], a virtual clock like QEMU's `-icount`:
//!   each clock read costs [`VIRTUAL_NS_PER_READ`] ns and an idle device jumps to its next
//!   tick, so timer mode runs as fast as the host allows, never late, deterministic in
//!   device time whatever the host's load;
//! - flash: two persistent slots ([`SimFlash`](super::sim_flash::SimFlash)) in memory or,
//!   with `--flash FILE`, in a file, so `rig upload --persist` survives a restart;
//! - actuators: [`PWM_CHANNELS`] PWM channels and [`PINS`] pins whose every change is
//!   logged (`device_us`, `pwm<ch>`/`pin<n>`, value) to a writer.
//!
//! Like a board, the device outlives a connection: state, model and counters persist
//! until the process ends.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use neuroloop_core::Model;
use neuroloop_firmware::flash::FlashSlots;
use neuroloop_firmware::{
    serve, Actuators, App, Config, Io, Pending, Serial, Slots, Ticker, DEFAULT_BLOB,
};

use super::sim_flash::{self, SimFlash};

/// PWM channels of the simulated board.
pub const PWM_CHANNELS: u8 = 4;
/// TTL/sync pins of the simulated board.
pub const PINS: u8 = 4;
/// Board name in `Info`.
pub const BOARD: &str = "device-sim";

/// Where the simulated pins log; `None` drops the log.
pub type PinLog = Option<Box<dyn Write + Send>>;

/// How the simulated device is built.
pub struct SimOptions {
    /// Bytes of each upload slot (the largest model it accepts).
    pub slot_bytes: usize,
    /// Network state words (models needing more are refused, as on a board).
    pub state_words: usize,
    /// Pin change log.
    pub pin_log: PinLog,
    /// File behind the flash slots (`None`: in memory, lost at exit).
    pub flash: Option<std::path::PathBuf>,
    /// Device time is virtual (see the module doc), not the host's clock.
    pub virtual_clock: bool,
}

/// Virtual device time each clock read costs (with [`SimOptions::virtual_clock`]).
pub const VIRTUAL_NS_PER_READ: u64 = 100;

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            slot_bytes: 1 << 20,
            state_words: 1 << 16,
            pin_log: None,
            flash: None,
            virtual_clock: false,
        }
    }
}

/// The host side's bytes for the device, and a doorbell for the idle device loop.
#[derive(Default)]
struct Inbox {
    bytes: Mutex<(VecDeque<u8>, bool)>,
    bell: Condvar,
    /// Host time (ns since the sim started) of the next timer tick; `u64::MAX`: stopped.
    next_tick_ns: AtomicU64,
    /// The device loop went idle (virtual clock: time jumps to the next tick).
    idled: AtomicBool,
}

impl Inbox {
    fn push(&self, b: &[u8]) {
        self.bytes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .extend(b);
        self.bell.notify_one();
    }
    fn close(&self) {
        self.bytes.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.bell.notify_one();
    }
    /// Sleep until bytes arrive, the next tick is due or 100 ms pass; `true` once the host
    /// side is gone and every byte is read.
    fn idle(&self, t0: Instant) -> bool {
        let g = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        if !g.0.is_empty() {
            return false;
        }
        if g.1 {
            return true;
        }
        self.idled.store(true, Ordering::Relaxed);
        let now = t0.elapsed().as_nanos() as u64;
        let next = self.next_tick_ns.load(Ordering::Relaxed);
        let wait = Duration::from_nanos(next.saturating_sub(now)).min(Duration::from_millis(100));
        let _ = self.bell.wait_timeout(g, wait);
        false
    }
}

/// Transmit queue the simulated board reports (frames go straight to the host).
const TX_QUEUE: usize = 1 << 16;

struct SimSerial<W> {
    inbox: Arc<Inbox>,
    out: W,
}

impl<W: FnMut(&[u8])> Serial for SimSerial<W> {
    fn read(&mut self) -> Option<u8> {
        self.inbox
            .bytes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .pop_front()
    }
    fn try_queue(&mut self, frame: &[u8]) -> bool {
        (self.out)(frame);
        true
    }
    fn tx_free(&self) -> usize {
        TX_QUEUE
    }
    fn tx_capacity(&self) -> usize {
        TX_QUEUE
    }
}

/// The host clock (or a virtual one) as a board ticker.
struct SimTicker {
    t0: Instant,
    run: Option<(Instant, u32, u64)>,
    inbox: Arc<Inbox>,
    /// Virtual clock: (ns now, ns of the next tick while the timer runs).
    virt: Option<(u64, Option<(u64, u64)>)>,
}

const CLOCK_HZ: u32 = 1_000_000_000;

impl SimTicker {
    /// Tell the idle loop when the next tick is due.
    fn publish(&self) {
        let next = match (&self.virt, self.run) {
            // Virtual time: an idle device jumps to its next tick, so it never waits.
            (Some((_, Some(_))), _) => 0,
            (Some((_, None)), _) | (None, None) => u64::MAX,
            (None, Some((start, rate, taken))) => {
                let since = start.duration_since(self.t0).as_nanos() as u64;
                since + (taken + 1) * 1_000_000_000 / u64::from(rate)
            }
        };
        self.inbox.next_tick_ns.store(next, Ordering::Relaxed);
    }
}

impl Ticker for SimTicker {
    fn clock_hz(&self) -> u32 {
        CLOCK_HZ
    }
    fn now(&mut self) -> u32 {
        match &mut self.virt {
            Some((ns, _)) => {
                *ns += VIRTUAL_NS_PER_READ;
                *ns as u32
            }
            None => self.t0.elapsed().as_nanos() as u32,
        }
    }
    fn start(&mut self, rate_hz: u32) -> bool {
        match &mut self.virt {
            Some((ns, timer)) => {
                let period = 1_000_000_000 / u64::from(rate_hz.max(1));
                *timer = Some((*ns + period, period));
                self.inbox.idled.store(false, Ordering::Relaxed);
            }
            None => self.run = Some((Instant::now(), rate_hz, 0)),
        }
        self.publish();
        true
    }
    fn stop(&mut self) {
        self.run = None;
        if let Some((_, timer)) = &mut self.virt {
            *timer = None;
        }
        self.publish();
    }
    fn take_ticks(&mut self) -> u32 {
        if let Some((ns, Some((next, period)))) = &mut self.virt {
            // Idle since the last look (the loop found nothing to do): jump to the tick.
            if self.inbox.idled.swap(false, Ordering::Relaxed) {
                *ns = (*ns).max(*next);
            }
            if *ns < *next {
                return 0;
            }
            let n = (*ns - *next) / *period + 1;
            *next += n * *period;
            return n as u32;
        }
        let n = match &mut self.run {
            None => 0,
            Some((start, rate, taken)) => {
                let el = start.elapsed().as_nanos() as u64;
                let due = el * u64::from(*rate) / 1_000_000_000;
                let n = due.saturating_sub(*taken);
                *taken = due;
                n as u32
            }
        };
        if n > 0 {
            self.publish();
        }
        n
    }
}

/// Logged virtual outputs.
struct SimPins {
    t0: Instant,
    pwm: [u16; PWM_CHANNELS as usize],
    pins: [bool; PINS as usize],
    log: PinLog,
}

impl SimPins {
    fn log(&mut self, what: std::fmt::Arguments<'_>) {
        let us = self.t0.elapsed().as_micros();
        if let Some(w) = &mut self.log {
            let _ = writeln!(w, "{us}\t{what}");
            let _ = w.flush();
        }
    }
}

impl Actuators for SimPins {
    fn pwm_channels(&self) -> u8 {
        PWM_CHANNELS
    }
    fn pins(&self) -> u8 {
        PINS
    }
    fn set_pwm(&mut self, ch: u8, permyriad: u16) {
        if let Some(v) = self.pwm.get(ch as usize).copied() {
            if v != permyriad {
                self.pwm[ch as usize] = permyriad;
                self.log(format_args!("pwm{ch}\t{permyriad}"));
            }
        }
    }
    fn set_pin(&mut self, pin: u8, high: bool) {
        if let Some(v) = self.pins.get(pin as usize).copied() {
            if v != high {
                self.pins[pin as usize] = high;
                self.log(format_args!("pin{pin}\t{}", high as u8));
            }
        }
    }
}

/// Run the device on `bus` (bytes from the host), sending with `out`, until every sender
/// of `bus` is gone.
pub fn run_device(
    bus: Receiver<Vec<u8>>,
    out: impl FnMut(&[u8]),
    opts: SimOptions,
) -> Result<(), String> {
    let inbox = Arc::new(Inbox {
        next_tick_ns: AtomicU64::new(u64::MAX),
        ..Inbox::default()
    });
    let feeder = inbox.clone();
    // Bytes from the host side go into the inbox and ring the doorbell.
    std::thread::spawn(move || {
        while let Ok(b) = bus.recv() {
            feeder.push(&b);
        }
        feeder.close();
    });
    run_on_inbox(inbox, out, opts)
}

/// The simulated device's flash slots, as `opts` says.
pub fn open_flash(opts: &SimOptions) -> Result<FlashSlots<SimFlash>, String> {
    let n = sim_flash::slot_bytes_for(opts.slot_bytes);
    match &opts.flash {
        Some(p) => sim_flash::open_file(p, n),
        None => Ok(sim_flash::in_memory(n)),
    }
}

fn run_on_inbox(inbox: Arc<Inbox>, out: impl FnMut(&[u8]), opts: SimOptions) -> Result<(), String> {
    let t0 = Instant::now();
    let flash = open_flash(&opts)?;
    let mut a = vec![0u8; opts.slot_bytes];
    let mut b = vec![0u8; opts.slot_bytes];
    let mut slots = Slots::with_flash(DEFAULT_BLOB, &mut a, &mut b, flash);
    let mut state = vec![0i16; opts.state_words];
    let builtin = Model::from_bytes(DEFAULT_BLOB).expect("the firmware's built-in blob decodes");
    let mut app = App::new(Config { board: BOARD }, &builtin, &mut state)
        .map_err(|e| format!("device-sim: the built-in model does not fit: {e:?}"))?;
    let mut io = Io {
        serial: SimSerial {
            inbox: inbox.clone(),
            out,
        },
        ticker: SimTicker {
            t0,
            run: None,
            inbox: inbox.clone(),
            virt: opts.virtual_clock.then_some((0, None)),
        },
        actuators: SimPins {
            t0,
            pwm: [0; PWM_CHANNELS as usize],
            pins: [false; PINS as usize],
            log: opts.pin_log,
        },
    };
    // The firmware's own loop (`neuroloop_firmware::run`), with an exit when the host side
    // is gone.
    let mut next = Pending::Boot;
    let mut gone = false;
    while !gone {
        next = serve(&mut slots, &mut app, &mut io, next, || {
            gone = inbox.idle(t0);
            gone
        });
    }
    Ok(())
}

/// Start a device thread; returns (host → device sender, device → host receiver). The
/// device stops when the sender is dropped.
pub fn spawn(opts: SimOptions) -> (Sender<Vec<u8>>, Receiver<Vec<u8>>) {
    let (to_dev, bus) = mpsc::channel::<Vec<u8>>();
    let (dev_tx, from_dev) = mpsc::channel::<Vec<u8>>();
    std::thread::Builder::new()
        .name("device-sim".into())
        .spawn(move || {
            let out = move |b: &[u8]| {
                let _ = dev_tx.send(b.to_vec());
            };
            if let Err(e) = run_device(bus, out, opts) {
                eprintln!("{e}");
            }
        })
        .expect("spawn the device-sim thread");
    (to_dev, from_dev)
}

type Sink = Arc<Mutex<Option<Box<dyn Write + Send>>>>;

/// Serve the device on `listener`, one connection at a time, forever (the device keeps its
/// state across connections, like a board). `on_connect` is told each peer.
pub fn serve_tcp(
    listener: std::net::TcpListener,
    opts: SimOptions,
    mut on_connect: impl FnMut(&str),
) -> std::io::Result<()> {
    let (bus_tx, bus) = mpsc::channel::<Vec<u8>>();
    let sink: Sink = Arc::new(Mutex::new(None));
    let dev_sink = sink.clone();
    std::thread::Builder::new()
        .name("device-sim".into())
        .spawn(move || {
            if let Err(e) = run_device(bus, move |b: &[u8]| write_sink(&dev_sink, b), opts) {
                eprintln!("{e}");
            }
        })?;
    for conn in listener.incoming() {
        let mut stream = conn?;
        stream.set_nodelay(true)?;
        on_connect(&stream.peer_addr().map_or("?".into(), |a| a.to_string()));
        *sink.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(stream.try_clone()?));
        let tx = bus_tx.clone();
        // Read this connection until it closes; the next one is accepted afterwards.
        let mut buf = [0u8; 4096];
        loop {
            use std::io::Read;
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        return Ok(());
                    }
                }
            }
        }
        *sink.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
    Ok(())
}

fn write_sink(sink: &Sink, b: &[u8]) {
    let mut g = sink.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(w) = g.as_mut() {
        if w.write_all(b).and_then(|_| w.flush()).is_err() {
            *g = None;
        }
    }
}

/// Serve the device on a new pseudo-terminal until the process ends; `on_ready` is told
/// the path a client opens (`neuroloop rig --port PATH`).
pub fn serve_pty(opts: SimOptions, on_ready: impl FnOnce(&str)) -> std::io::Result<()> {
    use std::io::Read;
    let (mut master, slave) = serialport::TTYPort::pair().map_err(std::io::Error::from)?;
    let name = serialport::SerialPort::name(&slave).unwrap_or_default();
    serialport::SerialPort::set_timeout(&mut master, Duration::from_millis(100))
        .map_err(std::io::Error::from)?;
    let mut writer = master.try_clone_native().map_err(std::io::Error::from)?;
    let (bus_tx, bus) = mpsc::channel::<Vec<u8>>();
    std::thread::Builder::new()
        .name("device-sim".into())
        .spawn(move || {
            let out = move |b: &[u8]| {
                let _ = writer.write_all(b);
            };
            if let Err(e) = run_device(bus, out, opts) {
                eprintln!("{e}");
            }
        })?;
    on_ready(&name);
    // The slave end stays open here so that the master never reads EIO between clients.
    let _keep = slave;
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) => std::thread::sleep(Duration::from_millis(10)),
            Ok(n) => {
                if bus_tx.send(buf[..n].to_vec()).is_err() {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => return Err(e),
        }
    }
}
