//! The QEMU firmware under test: start `qemu-system-arm` (mps2-an386, `-icount shift=0`)
//! on the firmware ELF with UART0 on a Unix socket, and talk the wire protocol to it.
//!
//! The ELF path comes from `NEUROLOOP_FW_QEMU_ELF` (set by `cargo xtask test` /
//! `cargo xtask qemu-test`, which build it first). QEMU always runs under `timeout` and is
//! terminated when the [`Firmware`] is dropped.
//!
//! Included by each `tests/tests/firmware_*.rs` with `#[path]`; not every test uses every
//! helper.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use neuroloop_core::blob::CRC;
use neuroloop_core::protocol::{
    DeviceMsg, Heartbeat, HostMsg, Info, Mode, Stats, Streams, Telemetry, MAX_CHUNK,
    PROTOCOL_VERSION,
};
use neuroloop_firmware::testing::{encode_host, Deframer, RxFrame};

/// Env var naming the firmware ELF.
pub const ELF_VAR: &str = "NEUROLOOP_FW_QEMU_ELF";
/// Wall-clock limit for one QEMU process, seconds.
pub const QEMU_TIMEOUT_S: u32 = 600;
/// Longest wait for one reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

/// A running firmware and a protocol connection to it.
pub struct Firmware {
    child: Child,
    dir: PathBuf,
    stream: UnixStream,
    deframer: Deframer,
    queue: VecDeque<RxFrame>,
    seq: u16,
    /// Heartbeats received so far (set aside by [`Firmware::recv`]).
    pub heartbeats: Vec<Heartbeat>,
}

fn elf() -> PathBuf {
    let p = std::env::var_os(ELF_VAR).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{ELF_VAR} is not set: these tests need the QEMU firmware. Run them with `cargo xtask qemu-test` (or `cargo xtask test`), which builds firmware/boards/qemu-mps2-an386 and sets it")
    });
    assert!(
        p.exists(),
        "{ELF_VAR}={} does not exist: build it with `cargo xtask qemu-test`",
        p.display()
    );
    p
}

impl Firmware {
    /// Start QEMU on the firmware and connect to its UART0.
    pub fn start() -> Firmware {
        let elf = elf();
        let dir = std::env::temp_dir().join(format!(
            "neuroloop-qemu-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("uart0.sock");
        let log = std::fs::File::create(dir.join("qemu.log")).unwrap();
        let child = Command::new("timeout")
            .args(["-k", "5", &QEMU_TIMEOUT_S.to_string(), "qemu-system-arm"])
            .args(["-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-monitor", "none"])
            .args(["-semihosting-config", "enable=on,target=native", "-icount", "shift=0"])
            .arg("-serial")
            .arg(format!("unix:{},server=on,wait=on", sock.display()))
            .arg("-kernel")
            .arg(&elf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start `timeout qemu-system-arm`: install qemu-system-arm (apt-get install -y qemu-system-arm)");
        let t0 = Instant::now();
        let stream = loop {
            match UnixStream::connect(&sock) {
                Ok(s) => break s,
                Err(e) if t0.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!(
                    "QEMU did not open {}: {e}; log: {}",
                    sock.display(),
                    read_log(&dir)
                ),
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Firmware {
            child,
            dir,
            stream,
            deframer: Deframer::default(),
            queue: VecDeque::new(),
            seq: 0,
            heartbeats: Vec::new(),
        }
    }

    /// QEMU's stdout/stderr so far (semihosting log lines).
    pub fn log(&self) -> String {
        read_log(&self.dir)
    }

    /// Write raw bytes to the UART.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to QEMU UART");
    }

    /// Send a message; returns its sequence number.
    pub fn send(&mut self, msg: HostMsg<'_>) -> u16 {
        self.seq = self.seq.wrapping_add(1);
        let wire = encode_host(self.seq, msg);
        self.send_raw(&wire);
        self.seq
    }

    /// The next frame from the device, heartbeats set aside in [`Firmware::heartbeats`].
    pub fn recv(&mut self) -> RxFrame {
        let t0 = Instant::now();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(f) = self.queue.pop_front() {
                if let Ok(DeviceMsg::Heartbeat(h)) = f.packet().map(|p| p.msg) {
                    self.heartbeats.push(h);
                    continue;
                }
                return f;
            }
            if t0.elapsed() > REPLY_TIMEOUT {
                panic!(
                    "no frame from the firmware within {REPLY_TIMEOUT:?}; QEMU log:\n{}",
                    self.log()
                );
            }
            match self.stream.read(&mut buf) {
                Ok(0) => panic!("QEMU closed the UART; log:\n{}", self.log()),
                Ok(n) => {
                    let mut out = Vec::new();
                    self.deframer.feed(&buf[..n], &mut out);
                    self.queue.extend(out);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if let Ok(Some(st)) = self.child.try_wait() {
                        panic!("QEMU exited ({st}); log:\n{}", self.log());
                    }
                }
                Err(e) => panic!("read from QEMU UART: {e}; QEMU log:\n{}", self.log()),
            }
        }
    }

    /// Send `msg` and return the reply answering it (`re` = its seq), skipping telemetry
    /// and events that come before.
    pub fn request(&mut self, msg: HostMsg<'_>) -> RxFrame {
        let seq = self.send(msg);
        loop {
            let f = self.recv();
            let re = match f.packet().expect("device frame decodes").msg {
                DeviceMsg::Ack { re, .. }
                | DeviceMsg::Nack { re, .. }
                | DeviceMsg::Stats { re, .. } => Some(re),
                DeviceMsg::Info(ref i) => Some(i.re),
                _ => None,
            };
            if re == Some(seq) {
                return f;
            }
        }
    }

    /// Send `msg`, assert it is acked.
    pub fn expect_ack(&mut self, msg: HostMsg<'_>) {
        let what = format!("{msg:?}");
        let f = self.request(msg);
        let p = f.packet().unwrap();
        assert!(
            matches!(p.msg, DeviceMsg::Ack { .. }),
            "{what} → {:?}",
            p.msg
        );
    }

    /// Send `msg`, assert it is nacked; returns the reason as `Debug` text.
    pub fn expect_nack(&mut self, msg: HostMsg<'_>) -> String {
        let f = self.request(msg);
        match f.packet().unwrap().msg {
            DeviceMsg::Nack { reason, .. } => format!("{reason:?}"),
            other => panic!("expected Nack, got {other:?}"),
        }
    }

    /// `Hello`; returns `f(Info)`.
    pub fn hello<R>(&mut self, f: impl FnOnce(&Info<&str>) -> R) -> R {
        let fr = self.request(HostMsg::Hello {
            protocol: PROTOCOL_VERSION,
        });
        match fr.packet().unwrap().msg {
            DeviceMsg::Info(ref i) => f(i),
            other => panic!("expected Info, got {other:?}"),
        }
    }

    /// CRC of the running model.
    pub fn model_crc(&mut self) -> u32 {
        self.hello(|i| i.model_crc)
    }

    /// Upload `blob` announcing `crc`, sending only its first `send` bytes; returns the
    /// reply to `UploadCommit`.
    pub fn upload_partial(&mut self, blob: &[u8], crc: u32, send: usize) -> RxFrame {
        self.upload_to(blob, crc, send, false)
    }

    /// As [`Firmware::upload_partial`], into a flash slot with `persist`.
    pub fn upload_to(&mut self, blob: &[u8], crc: u32, send: usize, persist: bool) -> RxFrame {
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

    /// Upload `blob` correctly; asserts the commit is acked.
    pub fn upload(&mut self, blob: &[u8]) {
        let f = self.upload_partial(blob, CRC.checksum(blob), blob.len());
        let p = f.packet().unwrap();
        assert!(
            matches!(p.msg, DeviceMsg::Ack { .. }),
            "upload commit → {:?}",
            p.msg
        );
    }

    /// Counters.
    pub fn stats(&mut self) -> Stats {
        match self.request(HostMsg::GetStats).packet().unwrap().msg {
            DeviceMsg::Stats { stats, .. } => stats,
            other => panic!("expected Stats, got {other:?}"),
        }
    }

    /// Reset the state, run `inputs` in lockstep, return the telemetry (one per input).
    pub fn lockstep(&mut self, inputs: &[Vec<i16>]) -> Vec<Telemetry> {
        self.lockstep_with(
            inputs,
            Streams {
                every: 1,
                ..Streams::default()
            },
        )
    }

    /// [`Firmware::lockstep`] with the given streams (`every` must be 1).
    pub fn lockstep_with(&mut self, inputs: &[Vec<i16>], streams: Streams) -> Vec<Telemetry> {
        assert_eq!(streams.every, 1, "one telemetry per input");
        self.expect_ack(HostMsg::ResetState);
        self.expect_ack(HostMsg::Start {
            mode: Mode::Lockstep,
            streams,
        });
        let mut out = Vec::with_capacity(inputs.len());
        // Keep a few inputs in flight: the UART round trip dominates otherwise.
        const WINDOW: usize = 8;
        let mut sent = 0;
        while out.len() < inputs.len() {
            while sent < inputs.len() && sent - out.len() < WINDOW {
                let values = heapless::Vec::from_slice(&inputs[sent]).expect("≤ MAX_VALUES inputs");
                self.send(HostMsg::Input {
                    seq: sent as u32,
                    values,
                });
                sent += 1;
            }
            let f = self.recv();
            match f.packet().unwrap().msg {
                DeviceMsg::Telemetry(t) => {
                    assert_eq!(t.input_seq as usize, out.len(), "telemetry in input order");
                    out.push(t);
                }
                other => panic!("expected Telemetry, got {other:?}"),
            }
        }
        self.expect_ack(HostMsg::Stop);
        out
    }
}

fn read_log(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("qemu.log")).unwrap_or_default()
}

impl Drop for Firmware {
    fn drop(&mut self) {
        // `timeout` forwards SIGTERM to QEMU.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_dir_all(&self.dir);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
