//! The protocol transport over USB CDC-ACM, for every board with a USB device port
//! (feature `usb`): usb-device + usbd-serial over the board HAL's `UsbBus`.
//!
//! Two halves, like the transmit ring they share:
//! - [`CdcPump`], owned by the board's USB interrupt: [`CdcPump::service`] polls the
//!   device, moves received bytes into the receive ring and transmit-ring bytes into the
//!   CDC endpoint, as far as each side takes them;
//! - [`CdcSerial`], the loop's [`Serial`]: it reads the receive ring, queues whole frames
//!   into the transmit ring and then pends the USB interrupt through the board's `pend`.
//!
//! A host that does not read makes the endpoint NAK, the ring fills, and the app drops and
//! counts telemetry: the loop never waits for USB. What stays in a board is only what is
//! the board's: the bus allocator, the `static` mutex the interrupt takes, the interrupt
//! handler itself and unmasking it.

use crate::txring::{self, Consumer, Producer};
use crate::Serial;
use usb_device::bus::{UsbBus, UsbBusAllocator};
use usb_device::device::{StringDescriptors, UsbDevice, UsbDeviceBuilder, UsbVidPid};
use usbd_serial::SerialPort;

/// pid.codes test VID:PID for CDC-ACM devices (shared; a product would register its own).
pub const VID_PID: (u16, u16) = (0x1209, 0x0001);

/// Bytes the CDC bulk endpoint takes at once (full speed).
const PACKET: usize = 64;

/// The USB interrupt's half: the device, its CDC port, the transmit ring's consumer and
/// the receive ring's producer.
pub struct CdcPump<B: UsbBus + 'static, const TX: usize, const RX: usize> {
    dev: UsbDevice<'static, B>,
    port: SerialPort<'static, B>,
    tx: Consumer<'static, u8, TX>,
    rx: Producer<'static, u8, RX>,
    /// Bytes popped from the transmit ring that the endpoint has not taken yet.
    out: [u8; PACKET],
    out_len: usize,
    out_off: usize,
}

impl<B: UsbBus + 'static, const TX: usize, const RX: usize> CdcPump<B, TX, RX> {
    /// Enumerate as a CDC-ACM port named `product` (manufacturer "neuroloop"), [`VID_PID`].
    /// `None` if usb-device refuses the descriptors.
    pub fn new(
        bus: &'static UsbBusAllocator<B>,
        product: &'static str,
        tx: Consumer<'static, u8, TX>,
        rx: Producer<'static, u8, RX>,
    ) -> Option<Self> {
        let port = SerialPort::new(bus);
        let dev = UsbDeviceBuilder::new(bus, UsbVidPid(VID_PID.0, VID_PID.1))
            .strings(&[StringDescriptors::default()
                .manufacturer("neuroloop")
                .product(product)
                .serial_number("neuroloop")])
            .ok()?
            .device_class(usbd_serial::USB_CLASS_CDC)
            .build();
        Some(CdcPump {
            dev,
            port,
            tx,
            rx,
            out: [0; PACKET],
            out_len: 0,
            out_off: 0,
        })
    }

    /// Poll the device, then move bytes both ways as far as the endpoints take them.
    /// Received bytes are read only while a whole packet fits in the receive ring, so none
    /// is dropped: the rest waits in the endpoint (the loop's `tx_pump` pends the
    /// interrupt again).
    pub fn service(&mut self) {
        self.dev.poll(&mut [&mut self.port]);
        let mut buf = [0u8; PACKET];
        while self.rx.capacity() - self.rx.len() >= buf.len() {
            match self.port.read(&mut buf) {
                Ok(n) if n > 0 => buf[..n].iter().for_each(|&b| {
                    let _ = self.rx.enqueue(b);
                }),
                _ => break,
            }
        }
        loop {
            if self.out_off == self.out_len {
                self.out_len = txring::pop_into(&mut self.tx, &mut self.out);
                self.out_off = 0;
                if self.out_len == 0 {
                    break;
                }
            }
            match self.port.write(&self.out[self.out_off..self.out_len]) {
                Ok(n) if n > 0 => self.out_off += n,
                _ => break,
            }
        }
    }
}

/// The loop's half: the transmit ring's producer, the receive ring's consumer, and the
/// board's function that pends its USB interrupt.
pub struct CdcSerial<const TX: usize, const RX: usize> {
    tx: Producer<'static, u8, TX>,
    rx: Consumer<'static, u8, RX>,
    pend: fn(),
}

impl<const TX: usize, const RX: usize> CdcSerial<TX, RX> {
    /// The loop's side of the rings whose other halves went to [`CdcPump::new`]; `pend`
    /// pends the board's USB interrupt (e.g. `NVIC::pend(Interrupt::OTG_FS)`).
    pub fn new(tx: Producer<'static, u8, TX>, rx: Consumer<'static, u8, RX>, pend: fn()) -> Self {
        CdcSerial { tx, rx, pend }
    }
}

impl<const TX: usize, const RX: usize> Serial for CdcSerial<TX, RX> {
    fn read(&mut self) -> Option<u8> {
        self.rx.dequeue()
    }
    fn try_queue(&mut self, frame: &[u8]) -> bool {
        let ok = txring::push_frame(&mut self.tx, frame);
        (self.pend)();
        ok
    }
    fn tx_free(&self) -> usize {
        txring::free(&self.tx)
    }
    fn tx_capacity(&self) -> usize {
        self.tx.capacity()
    }
    fn tx_pump(&mut self) {
        // Also picks up bytes left in the CDC endpoint while the receive ring was full.
        (self.pend)();
    }
}
