//! Shared by the `rig` integration tests: the `neuroloop` binary, a random blob with
//! float inputs, `neuroloop run` as the reference, and `device-sim` / QEMU processes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use neuroloop::interop::npy::{Array, Data};
use neuroloop::interop::npz;
use neuroloop_firmware::testing::{random_blob, NetSpec};

pub fn neuroloop() -> Command {
    Command::cargo_bin("neuroloop").unwrap()
}

pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("neuroloop")
}

/// A 2-in, 16-rec, 2-out i16 blob and `batch × steps` float inputs in [-1.5, 1.5].
pub fn fixture(dir: &Path, batch: usize, steps: usize) -> (PathBuf, PathBuf) {
    let blob = random_blob(&NetSpec::new(2, 16, 2, 2, 1, 77));
    let bp = dir.join("m.nlb");
    std::fs::write(&bp, &blob).unwrap();
    let mut x = Vec::with_capacity(batch * steps * 2);
    let mut s = 0x1234_5678_u64;
    for _ in 0..batch * steps * 2 {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x.push(((s >> 40) as f32 / (1u64 << 24) as f32) * 3.0 - 1.5);
    }
    let xa = Array {
        shape: vec![batch, steps, 2],
        data: Data::F32(x),
    };
    let xp = dir.join("x.npz");
    std::fs::write(&xp, npz::write([("x", &xa)])).unwrap();
    (bp, xp)
}

pub fn read_npz(p: &Path) -> npz::Arrays {
    npz::read(&std::fs::read(p).unwrap()).unwrap()
}

pub fn f32s(a: &Array) -> Vec<u32> {
    match &a.data {
        Data::F32(v) => v.iter().map(|x| x.to_bits()).collect(),
        d => panic!("expected float32, got {}", d.type_name()),
    }
}

pub fn ints(a: &Array) -> Vec<i64> {
    match &a.data {
        Data::I64(v) => v.clone(),
        d => panic!("expected int64, got {}", d.type_name()),
    }
}

pub fn session(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("session.json")).unwrap()).unwrap()
}

/// `neuroloop run` on the blob and inputs: (outputs, states) as f32 bits, [B·T·n].
pub fn reference(dir: &Path, blob: &Path, x: &Path) -> (Vec<u32>, Vec<u32>) {
    let out = dir.join("run.npz");
    neuroloop()
        .args(["run", "--model"])
        .arg(blob)
        .arg("--inputs")
        .arg(x)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let r = read_npz(&out);
    (f32s(&r["outputs"]), f32s(&r["states"]))
}

/// `neuroloop device-sim --tcp 0`, killed on drop.
pub struct SimProcess {
    child: Child,
    /// HOST:PORT to connect to.
    pub addr: String,
}

impl SimProcess {
    pub fn start() -> Self {
        Self::with(&[])
    }

    /// With more `device-sim` flags (`--flash FILE`, `--virtual-clock`).
    pub fn with(args: &[&str]) -> Self {
        let mut child = StdCommand::new(bin())
            .args(["device-sim", "--tcp", "0", "--pin-log", "/dev/null"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("device-sim listening on tcp ")
            .unwrap_or_else(|| panic!("unexpected device-sim banner {line:?}"))
            .to_string();
        SimProcess { child, addr }
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The QEMU firmware (mps2-an386, `-icount shift=0`) with UART0 on a TCP server port,
/// killed on drop. The ELF comes from `NEUROLOOP_FW_QEMU_ELF`, set by `cargo xtask
/// qemu-test` / `cargo xtask test`, which build it first.
pub struct QemuProcess {
    child: Child,
    /// HOST:PORT to connect to.
    pub addr: String,
}

impl QemuProcess {
    pub fn start() -> Self {
        let elf = std::env::var_os("NEUROLOOP_FW_QEMU_ELF").unwrap_or_else(|| {
            panic!("NEUROLOOP_FW_QEMU_ELF is not set: run this test with `cargo xtask qemu-test`")
        });
        // A free port: bind, read it, release; QEMU then listens on it.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = StdCommand::new("timeout")
            .args(["-k", "5", "600", "qemu-system-arm"])
            .args(["-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic"])
            .args([
                "-monitor",
                "none",
                "-semihosting-config",
                "enable=on,target=native",
            ])
            .args(["-icount", "shift=0", "-serial"])
            .arg(format!("tcp:127.0.0.1:{port},server=on,wait=on"))
            .arg("-kernel")
            .arg(elf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start `timeout qemu-system-arm`: apt-get install -y qemu-system-arm");
        // Wait until QEMU listens (without connecting: it serves one client).
        let hex = format!(":{port:04X} ");
        let t0 = std::time::Instant::now();
        loop {
            let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
            if tcp
                .lines()
                .any(|l| l.contains(&hex) && l.split_whitespace().nth(3) == Some("0A"))
            {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "QEMU did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        QemuProcess {
            child,
            addr: format!("127.0.0.1:{port}"),
        }
    }
}

impl Drop for QemuProcess {
    fn drop(&mut self) {
        // SIGTERM to `timeout`, which passes it on to QEMU and exits; a SIGKILL would leave
        // QEMU running as an orphan.
        let _ = StdCommand::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
