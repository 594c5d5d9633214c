//! Byte pipes to a device, each read bounded by a timeout: [`SerialLink`] (a serial port,
//! USB-CDC or UART), [`StreamLink`] (TCP for QEMU's UART, or a Unix socket) and
//! [`ChannelLink`] (the in-process device simulator). Plus [`list_ports`].
//!
//! A [`Transport`] never blocks longer than the timeout it is given: a device that stops
//! sending makes `read` return `Ok(0)`, and the [`client`](super::client) turns that into a
//! [`RigError::Timeout`](super::RigError::Timeout). A closed peer is an error, not a hang.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// Where the device is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A serial port (`/dev/ttyACM0`) at a baud rate (ignored by USB-CDC).
    Serial {
        /// Device path.
        path: String,
        /// Baud rate.
        baud: u32,
    },
    /// A TCP socket, `HOST:PORT` (`cargo xtask qemu` serves UART0 on 127.0.0.1:7878;
    /// `neuroloop device-sim --tcp PORT`).
    Tcp(String),
    /// A Unix socket (QEMU `-serial unix:PATH,server=on`).
    Unix(PathBuf),
    /// The device simulator, in this process.
    Sim,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Serial { path, baud } => write!(f, "serial {path} @ {baud} Bd"),
            Endpoint::Tcp(a) => write!(f, "tcp {a}"),
            Endpoint::Unix(p) => write!(f, "unix {}", p.display()),
            Endpoint::Sim => f.write_str("device-sim (in process)"),
        }
    }
}

/// A bidirectional byte pipe with bounded waits.
pub trait Transport: Send {
    /// Send all of `bytes` (bounded by the link's write timeout).
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Read what is available into `buf`, waiting at most `timeout`; `Ok(0)` when nothing
    /// arrived in time. A closed peer is an `UnexpectedEof` error.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the device closed the connection",
    )
}

/// A peer that went away, in one clear error whatever the OS said.
fn peer_gone(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof => io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the device closed the connection ({e})"),
        ),
        _ => e,
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// Write timeout of sockets and serial ports: a peer that stops reading fails the write.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// A serial port (via the `serialport` crate).
pub struct SerialLink {
    port: Box<dyn serialport::SerialPort>,
    timeout: Duration,
}

impl SerialLink {
    /// Open `path` at `baud`, 8N1, no flow control.
    pub fn open(path: &str, baud: u32) -> io::Result<Self> {
        let port = serialport::new(path, baud)
            .timeout(WRITE_TIMEOUT)
            .open()
            .map_err(io::Error::from)?;
        Ok(SerialLink {
            port,
            timeout: WRITE_TIMEOUT,
        })
    }
}

impl Transport for SerialLink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.timeout != WRITE_TIMEOUT {
            self.port.set_timeout(WRITE_TIMEOUT)?;
            self.timeout = WRITE_TIMEOUT;
        }
        self.port.write_all(bytes)?;
        self.port.flush()
    }
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let timeout = timeout.max(Duration::from_millis(1));
        if self.timeout != timeout {
            self.port.set_timeout(timeout)?;
            self.timeout = timeout;
        }
        match self.port.read(buf) {
            Ok(0) => Err(closed()),
            Ok(n) => Ok(n),
            Err(e) if is_timeout(&e) => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// A socket: TCP or Unix.
pub struct StreamLink<S> {
    stream: S,
    timeout: Option<Duration>,
}

/// What [`StreamLink`] needs from a socket.
pub trait Socket: Read + Write + Send {
    /// Set the read timeout.
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()>;
}

impl Socket for TcpStream {
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, t)
    }
}

impl Socket for UnixStream {
    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        UnixStream::set_read_timeout(self, t)
    }
}

impl StreamLink<TcpStream> {
    /// Connect to `addr` (`HOST:PORT`), giving up after `timeout`.
    pub fn tcp(addr: &str, timeout: Duration) -> io::Result<Self> {
        use std::net::ToSocketAddrs;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "address resolves to nothing");
        for a in addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => {
                    s.set_nodelay(true)?;
                    s.set_write_timeout(Some(WRITE_TIMEOUT))?;
                    return Ok(StreamLink {
                        stream: s,
                        timeout: None,
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl StreamLink<UnixStream> {
    /// Connect to the Unix socket at `path`.
    pub fn unix(path: &std::path::Path) -> io::Result<Self> {
        let s = UnixStream::connect(path)?;
        s.set_write_timeout(Some(WRITE_TIMEOUT))?;
        Ok(StreamLink {
            stream: s,
            timeout: None,
        })
    }
}

impl<S: Socket> Transport for StreamLink<S> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(peer_gone)
    }
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let t = Some(timeout.max(Duration::from_millis(1)));
        if self.timeout != t {
            self.stream.set_read_timeout(t)?;
            self.timeout = t;
        }
        match self.stream.read(buf) {
            Ok(0) => Err(closed()),
            Ok(n) => Ok(n),
            Err(e) if is_timeout(&e) => Ok(0),
            Err(e) => Err(peer_gone(e)),
        }
    }
}

/// Two channels of byte chunks (the in-process device simulator).
pub struct ChannelLink {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
    pending: Vec<u8>,
}

impl ChannelLink {
    /// A link sending on `tx` and receiving from `rx`.
    pub fn new(tx: Sender<Vec<u8>>, rx: Receiver<Vec<u8>>) -> Self {
        ChannelLink {
            tx,
            rx,
            pending: Vec::new(),
        }
    }
}

impl Transport for ChannelLink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.tx.send(bytes.to_vec()).map_err(|_| closed())
    }
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.pending.is_empty() {
            match self.rx.recv_timeout(timeout) {
                Ok(v) => self.pending = v,
                Err(RecvTimeoutError::Timeout) => return Ok(0),
                Err(RecvTimeoutError::Disconnected) => return Err(closed()),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// One serial port as `rig ports` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PortInfo {
    /// Device path.
    pub path: String,
    /// `usb`, `pci`, `bluetooth` or `unknown`.
    pub kind: &'static str,
    /// USB vendor id.
    pub vid: Option<u16>,
    /// USB product id.
    pub pid: Option<u16>,
    /// USB serial number.
    pub serial_number: Option<String>,
    /// USB manufacturer.
    pub manufacturer: Option<String>,
    /// USB product name.
    pub product: Option<String>,
}

/// The serial ports of this machine (on Linux read from sysfs; no libudev needed).
pub fn list_ports() -> io::Result<Vec<PortInfo>> {
    use serialport::SerialPortType as T;
    let mut ports: Vec<PortInfo> = serialport::available_ports()
        .map_err(io::Error::from)?
        .into_iter()
        .map(|p| {
            let mut info = PortInfo {
                path: p.port_name,
                kind: "unknown",
                vid: None,
                pid: None,
                serial_number: None,
                manufacturer: None,
                product: None,
            };
            match p.port_type {
                T::UsbPort(u) => {
                    info.kind = "usb";
                    info.vid = Some(u.vid);
                    info.pid = Some(u.pid);
                    info.serial_number = u.serial_number;
                    info.manufacturer = u.manufacturer;
                    info.product = u.product;
                }
                T::PciPort => info.kind = "pci",
                T::BluetoothPort => info.kind = "bluetooth",
                T::Unknown => {}
            }
            info
        })
        .collect();
    ports.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ports)
}
