//! RP2040 peripherals for the Pico: clocks, the protocol transport (USB CDC, or UART0
//! with the feature `uart`), TIMER ticker, PWM and GPIO outputs.
//!
//! Static buffers (model slots, state, transmit/receive rings, the USB bus allocator) come
//! from `cortex_m::singleton!`: no `unsafe` for them. The one `unsafe` is unmasking the
//! USB interrupt in the NVIC (`NVIC::unmask` is `unsafe` because unmasking can break
//! critical sections that rely on masking; the handler here only takes the
//! `cortex_m::interrupt::Mutex` the loop also uses).

use embedded_hal::pwm::SetDutyCycle;
use hal::clocks::init_clocks_and_plls;
use hal::gpio::{DynPinId, FunctionSioOutput, Pin, PullDown};
use hal::pac;
use neuroloop_firmware::txring::{self, Consumer, Producer, Queue};
use neuroloop_firmware::{Serial, Ticker};
use rp2040_hal as hal;

use crate::{SLOT_BYTES, STATE_WORDS, TX_BYTES};

const XTAL_HZ: u32 = 12_000_000;

/// The two model slots and the state buffer (once: `None` on a second call).
pub fn buffers() -> Option<(&'static mut [u8], &'static mut [u8], &'static mut [i16])> {
    let a = cortex_m::singleton!(: [u8; SLOT_BYTES] = [0; SLOT_BYTES])?;
    let b = cortex_m::singleton!(: [u8; SLOT_BYTES] = [0; SLOT_BYTES])?;
    let s = cortex_m::singleton!(: [i16; STATE_WORDS] = [0; STATE_WORDS])?;
    Some((a, b, s))
}

/// The transmit ring, split (once).
fn tx_ring() -> Option<(
    Producer<'static, u8, TX_BYTES>,
    Consumer<'static, u8, TX_BYTES>,
)> {
    Some(cortex_m::singleton!(: Queue<u8, TX_BYTES> = Queue::new())?.split())
}

#[cfg(not(feature = "uart"))]
pub use usb::UsbSerial as Transport;

#[cfg(not(feature = "uart"))]
mod usb {
    //! USB CDC-ACM (usb-device + usbd-serial on rp2040-hal's `UsbBus`). The USB interrupt
    //! polls the device, moves received bytes into an RX ring and transmit-ring bytes
    //! into the CDC endpoint; the loop pends the interrupt after queueing a frame. A host
    //! that does not read makes the endpoint NAK, the ring fills, and the app drops and
    //! counts telemetry: the loop never waits for USB.

    use super::*;
    use core::cell::RefCell;
    use cortex_m::interrupt::Mutex;
    use hal::pac::interrupt;
    use usb_device::bus::UsbBusAllocator;
    use usb_device::device::{StringDescriptors, UsbDevice, UsbDeviceBuilder, UsbVidPid};
    use usbd_serial::SerialPort;

    /// Received-bytes ring.
    const RX_BYTES: usize = 1024;
    /// pid.codes test VID:PID for CDC-ACM devices (shared; a product would register its own).
    pub const VID_PID: (u16, u16) = (0x1209, 0x0001);

    struct Usb {
        dev: UsbDevice<'static, hal::usb::UsbBus>,
        port: SerialPort<'static, hal::usb::UsbBus>,
        tx: Consumer<'static, u8, TX_BYTES>,
        rx: Producer<'static, u8, RX_BYTES>,
        out: [u8; 64],
        out_len: usize,
        out_off: usize,
    }

    static USB: Mutex<RefCell<Option<Usb>>> = Mutex::new(RefCell::new(None));

    /// The loop's side: transmit-ring producer, receive-ring consumer.
    pub struct UsbSerial {
        tx: Producer<'static, u8, TX_BYTES>,
        rx: Consumer<'static, u8, RX_BYTES>,
    }

    impl UsbSerial {
        /// Bring up USB (48 MHz USB clock from `init`), enumerate as a CDC-ACM port.
        pub(super) fn new(
            regs: pac::USBCTRL_REGS,
            dpram: pac::USBCTRL_DPRAM,
            clock: hal::clocks::UsbClock,
            resets: &mut pac::RESETS,
        ) -> Option<Self> {
            let bus = cortex_m::singleton!(: UsbBusAllocator<hal::usb::UsbBus> =
                UsbBusAllocator::new(hal::usb::UsbBus::new(regs, dpram, clock, true, resets)))?;
            let port = SerialPort::new(bus);
            let dev = UsbDeviceBuilder::new(bus, UsbVidPid(VID_PID.0, VID_PID.1))
                .strings(&[StringDescriptors::default()
                    .manufacturer("neuroloop")
                    .product("neuroloop rp-pico")
                    .serial_number("neuroloop")])
                .ok()?
                .device_class(usbd_serial::USB_CLASS_CDC)
                .build();
            let (tx, drain) = tx_ring()?;
            let (rx_in, rx) = cortex_m::singleton!(: Queue<u8, RX_BYTES> = Queue::new())?.split();
            cortex_m::interrupt::free(|cs| {
                USB.borrow(cs).replace(Some(Usb {
                    dev,
                    port,
                    tx: drain,
                    rx: rx_in,
                    out: [0; 64],
                    out_len: 0,
                    out_off: 0,
                }))
            });
            // SAFETY: see the module doc: the handler only takes the `USB` mutex.
            unsafe { pac::NVIC::unmask(pac::Interrupt::USBCTRL_IRQ) };
            Some(UsbSerial { tx, rx })
        }
    }

    /// Poll the device, then move bytes both ways as far as the endpoints take them.
    fn service(u: &mut Usb) {
        u.dev.poll(&mut [&mut u.port]);
        let mut buf = [0u8; 64];
        while u.rx.capacity() - u.rx.len() >= buf.len() {
            match u.port.read(&mut buf) {
                Ok(n) if n > 0 => buf[..n].iter().for_each(|&b| {
                    let _ = u.rx.enqueue(b);
                }),
                _ => break,
            }
        }
        loop {
            if u.out_off == u.out_len {
                u.out_len = txring::pop_into(&mut u.tx, &mut u.out);
                u.out_off = 0;
                if u.out_len == 0 {
                    break;
                }
            }
            match u.port.write(&u.out[u.out_off..u.out_len]) {
                Ok(n) if n > 0 => u.out_off += n,
                _ => break,
            }
        }
    }

    #[interrupt]
    fn USBCTRL_IRQ() {
        cortex_m::interrupt::free(|cs| {
            if let Some(u) = USB.borrow(cs).borrow_mut().as_mut() {
                service(u);
            }
        });
    }

    impl Serial for UsbSerial {
        fn read(&mut self) -> Option<u8> {
            self.rx.dequeue()
        }
        fn try_queue(&mut self, frame: &[u8]) -> bool {
            let ok = txring::push_frame(&mut self.tx, frame);
            pac::NVIC::pend(pac::Interrupt::USBCTRL_IRQ);
            ok
        }
        fn tx_free(&self) -> usize {
            txring::free(&self.tx)
        }
        fn tx_capacity(&self) -> usize {
            self.tx.capacity()
        }
        fn tx_pump(&mut self) {
            // Also picks up bytes left in the CDC endpoint while the RX ring was full.
            pac::NVIC::pend(pac::Interrupt::USBCTRL_IRQ);
        }
    }
}

#[cfg(feature = "uart")]
pub use uart::UartSerial as Transport;

#[cfg(feature = "uart")]
mod uart {
    //! UART0 on GP0 (TX) / GP1 (RX), 115 200 8N1. The loop tops up the 32-byte hardware
    //! FIFO from the transmit ring on every poll (never waiting for it).

    use super::*;
    use hal::fugit::RateExtU32;
    use hal::uart::{DataBits, StopBits, UartConfig, UartPeripheral};
    use hal::Clock;

    type UartPins = (
        Pin<hal::gpio::bank0::Gpio0, hal::gpio::FunctionUart, PullDown>,
        Pin<hal::gpio::bank0::Gpio1, hal::gpio::FunctionUart, PullDown>,
    );

    /// UART0 and the transmit ring.
    pub struct UartSerial {
        uart: UartPeripheral<hal::uart::Enabled, pac::UART0, UartPins>,
        tx: Producer<'static, u8, TX_BYTES>,
        drain: Consumer<'static, u8, TX_BYTES>,
    }

    impl UartSerial {
        pub(super) fn new(
            uart0: pac::UART0,
            pins: UartPins,
            clocks: &hal::clocks::ClocksManager,
            resets: &mut pac::RESETS,
        ) -> Option<Self> {
            let uart = UartPeripheral::new(uart0, pins, resets)
                .enable(
                    UartConfig::new(115_200.Hz(), DataBits::Eight, None, StopBits::One),
                    clocks.peripheral_clock.freq(),
                )
                .ok()?;
            let (tx, drain) = tx_ring()?;
            Some(UartSerial { uart, tx, drain })
        }
    }

    impl Serial for UartSerial {
        fn read(&mut self) -> Option<u8> {
            let mut b = [0u8; 1];
            match self.uart.read_raw(&mut b) {
                Ok(1) => Some(b[0]),
                _ => None,
            }
        }
        fn try_queue(&mut self, frame: &[u8]) -> bool {
            let ok = txring::push_frame(&mut self.tx, frame);
            self.tx_pump();
            ok
        }
        fn tx_free(&self) -> usize {
            txring::free(&self.tx)
        }
        fn tx_capacity(&self) -> usize {
            self.tx.capacity()
        }
        fn tx_pump(&mut self) {
            while self.uart.uart_is_writable() {
                let Some(b) = self.drain.dequeue() else { break };
                let _ = self.uart.write_raw(&[b]);
            }
        }
    }
}

/// TIMER (1 MHz) as clock; timer-mode ticks are counted from it by polling.
pub struct TimerTicker {
    timer: hal::Timer,
    period_us: u32,
    next_due: u32,
}

impl Ticker for TimerTicker {
    fn clock_hz(&self) -> u32 {
        1_000_000
    }
    fn now(&mut self) -> u32 {
        self.timer.get_counter_low()
    }
    fn start(&mut self, rate_hz: u32) -> bool {
        let period = 1_000_000 / rate_hz.max(1);
        if period < 10 {
            return false;
        }
        self.period_us = period;
        self.next_due = self.now().wrapping_add(period);
        true
    }
    fn stop(&mut self) {
        self.period_us = 0;
    }
    fn take_ticks(&mut self) -> u32 {
        if self.period_us == 0 {
            return 0;
        }
        let late = self.now().wrapping_sub(self.next_due);
        if late > u32::MAX / 2 {
            return 0; // not due yet
        }
        let n = late / self.period_us + 1;
        self.next_due = self.next_due.wrapping_add(n * self.period_us);
        n
    }
}

/// A push-pull GPIO output, type-erased so all stimulus pins share one type.
pub type OutPin = Pin<DynPinId, FunctionSioOutput, PullDown>;
/// PWM slice 7 channel B (GP15).
pub type Pwm =
    hal::pwm::Channel<hal::pwm::Slice<hal::pwm::Pwm7, hal::pwm::FreeRunning>, hal::pwm::B>;

/// Clocks at 125 MHz, then the protocol transport, the ticker, the PWM channel and 3 pins.
pub fn init() -> (Transport, TimerTicker, Pwm, [OutPin; 3]) {
    let mut pac = pac::Peripherals::take().unwrap();
    let mut watchdog = hal::Watchdog::new(pac.WATCHDOG);
    let clocks = init_clocks_and_plls(
        XTAL_HZ,
        pac.XOSC,
        pac.CLOCKS,
        pac.PLL_SYS,
        pac.PLL_USB,
        &mut pac.RESETS,
        &mut watchdog,
    )
    .ok()
    .unwrap();
    let sio = hal::Sio::new(pac.SIO);
    let pins = hal::gpio::Pins::new(
        pac.IO_BANK0,
        pac.PADS_BANK0,
        sio.gpio_bank0,
        &mut pac.RESETS,
    );
    let timer = hal::Timer::new(pac.TIMER, &mut pac.RESETS, &clocks);
    #[cfg(feature = "uart")]
    let transport = uart::UartSerial::new(
        pac.UART0,
        (pins.gpio0.into_function(), pins.gpio1.into_function()),
        &clocks,
        &mut pac.RESETS,
    )
    .unwrap();
    #[cfg(not(feature = "uart"))]
    let transport = usb::UsbSerial::new(
        pac.USBCTRL_REGS,
        pac.USBCTRL_DPRAM,
        clocks.usb_clock,
        &mut pac.RESETS,
    )
    .unwrap();
    let slices = hal::pwm::Slices::new(pac.PWM, &mut pac.RESETS);
    let mut pwm7 = slices.pwm7;
    // 125 MHz / (12 500) = 10 kHz.
    pwm7.set_top(12_499);
    pwm7.enable();
    let mut ch = pwm7.channel_b;
    ch.output_to(pins.gpio15);
    let _ = ch.set_duty_cycle(0);
    let out = [
        pins.gpio16.into_push_pull_output().into_dyn_pin(),
        pins.gpio17.into_push_pull_output().into_dyn_pin(),
        pins.gpio18.into_push_pull_output().into_dyn_pin(),
    ];
    (
        transport,
        TimerTicker {
            timer,
            period_us: 0,
            next_due: 0,
        },
        ch,
        out,
    )
}
