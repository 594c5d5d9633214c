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
use neuroloop_firmware::txring::{Consumer, Producer, Queue};
use neuroloop_firmware::Ticker;
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
    //! USB CDC-ACM on rp2040-hal's `UsbBus` through the app's `neuroloop_firmware::usb_cdc` transport: the
    //! USBCTRL interrupt services the [`CdcPump`], the loop holds the [`CdcSerial`].

    use super::*;
    use core::cell::RefCell;
    use cortex_m::interrupt::Mutex;
    use hal::pac::interrupt;
    use neuroloop_firmware::usb_cdc::{CdcPump, CdcSerial};
    use usb_device::bus::UsbBusAllocator;

    /// Received-bytes ring.
    const RX_BYTES: usize = 1024;

    static USB: Mutex<RefCell<Option<CdcPump<hal::usb::UsbBus, TX_BYTES, RX_BYTES>>>> =
        Mutex::new(RefCell::new(None));

    /// The loop's side of the USB transport.
    pub type UsbSerial = CdcSerial<TX_BYTES, RX_BYTES>;

    fn pend() {
        pac::NVIC::pend(pac::Interrupt::USBCTRL_IRQ);
    }

    /// Bring up USB (48 MHz USB clock from `init`), enumerate as a CDC-ACM port.
    pub(super) fn new(
        regs: pac::USBCTRL_REGS,
        dpram: pac::USBCTRL_DPRAM,
        clock: hal::clocks::UsbClock,
        resets: &mut pac::RESETS,
    ) -> Option<UsbSerial> {
        let bus = cortex_m::singleton!(: UsbBusAllocator<hal::usb::UsbBus> =
            UsbBusAllocator::new(hal::usb::UsbBus::new(regs, dpram, clock, true, resets)))?;
        let (tx, drain) = tx_ring()?;
        let (rx_in, rx) = cortex_m::singleton!(: Queue<u8, RX_BYTES> = Queue::new())?.split();
        let pump = CdcPump::new(bus, "neuroloop rp-pico", drain, rx_in)?;
        cortex_m::interrupt::free(|cs| USB.borrow(cs).replace(Some(pump)));
        // SAFETY: see the module doc: the handler only takes the `USB` mutex.
        unsafe { pac::NVIC::unmask(pac::Interrupt::USBCTRL_IRQ) };
        Some(CdcSerial::new(tx, rx, pend))
    }

    #[interrupt]
    fn USBCTRL_IRQ() {
        cortex_m::interrupt::free(|cs| {
            if let Some(u) = USB.borrow(cs).borrow_mut().as_mut() {
                u.service();
            }
        });
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
    use neuroloop_firmware::{txring, Serial};

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
    let transport = usb::new(
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
