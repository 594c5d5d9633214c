//! STM32F411 peripherals (stm32f4xx-hal): clocks, the protocol transport (USB OTG FS CDC,
//! or USART2 with the feature `uart`), TIM2 ticker, TIM1 PWM and GPIO outputs.
//!
//! Static buffers (model slots, state, transmit/receive rings, the USB bus allocator and
//! its endpoint memory) come from `cortex_m::singleton!`: no `unsafe` for them. The one
//! `unsafe` is unmasking the transport's interrupt in the NVIC (`NVIC::unmask` is `unsafe`
//! because unmasking can break critical sections that rely on masking; the handler here
//! only takes the `cortex_m::interrupt::Mutex` the loop also uses).

use embedded_hal::pwm::SetDutyCycle;
use hal::gpio::{AnyPin, Output, PushPull};
use hal::pac;
use hal::prelude::*;
use hal::rcc::{Config as RccConfig, Rcc};
use hal::timer::{FTimerUs, PwmChannel};
use neuroloop_firmware::txring::{Consumer, Producer, Queue};
use neuroloop_firmware::Ticker;
use stm32f4xx_hal as hal;

use crate::{SLOT_BYTES, STATE_WORDS, TX_BYTES};

/// Core clock: 96 MHz, the highest below the F411's 100 MHz whose PLL also gives the
/// exact 48 MHz USB needs.
const SYSCLK_HZ: u32 = 96_000_000;

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

/// Received-bytes ring (filled by the transport's interrupt).
const RX_BYTES: usize = 1024;

/// The receive ring, split (once).
fn rx_ring() -> Option<(
    Producer<'static, u8, RX_BYTES>,
    Consumer<'static, u8, RX_BYTES>,
)> {
    Some(cortex_m::singleton!(: Queue<u8, RX_BYTES> = Queue::new())?.split())
}

#[cfg(not(feature = "uart"))]
pub use usb::UsbSerial as Transport;

#[cfg(not(feature = "uart"))]
mod usb {
    //! USB CDC-ACM on the HAL's Synopsys OTG FS `UsbBus` through the app's `neuroloop_firmware::usb_cdc`
    //! transport: the OTG_FS interrupt services the [`CdcPump`], the loop holds the
    //! [`CdcSerial`].

    use super::*;
    use core::cell::RefCell;
    use cortex_m::interrupt::Mutex;
    use hal::otg_fs::{UsbBus, UsbBusType, USB};
    use hal::pac::interrupt;
    use neuroloop_firmware::usb_cdc::{CdcPump, CdcSerial};
    use usb_device::bus::UsbBusAllocator;

    /// Endpoint memory of the OTG FS core (its 1.25 KiB FIFO RAM, in words).
    const EP_WORDS: usize = 320;

    static USB_STATE: Mutex<RefCell<Option<CdcPump<UsbBusType, TX_BYTES, RX_BYTES>>>> =
        Mutex::new(RefCell::new(None));

    /// The loop's side of the USB transport.
    pub type UsbSerial = CdcSerial<TX_BYTES, RX_BYTES>;

    fn pend() {
        pac::NVIC::pend(pac::Interrupt::OTG_FS);
    }

    /// Bring up OTG FS on PA11/PA12 (48 MHz from the PLL), enumerate as a CDC-ACM port.
    pub(super) fn new(usb: USB) -> Option<UsbSerial> {
        let ep = cortex_m::singleton!(: [u32; EP_WORDS] = [0; EP_WORDS])?;
        let bus = cortex_m::singleton!(: UsbBusAllocator<UsbBusType> = UsbBus::new(usb, ep))?;
        let (tx, drain) = tx_ring()?;
        let (rx_in, rx) = rx_ring()?;
        let pump = CdcPump::new(bus, "neuroloop stm32f411", drain, rx_in)?;
        cortex_m::interrupt::free(|cs| USB_STATE.borrow(cs).replace(Some(pump)));
        // SAFETY: see the module doc: the handler only takes the `USB_STATE` mutex.
        unsafe { pac::NVIC::unmask(pac::Interrupt::OTG_FS) };
        Some(CdcSerial::new(tx, rx, pend))
    }

    #[interrupt]
    fn OTG_FS() {
        cortex_m::interrupt::free(|cs| {
            if let Some(u) = USB_STATE.borrow(cs).borrow_mut().as_mut() {
                u.service();
            }
        });
    }
}

#[cfg(feature = "uart")]
pub use uart::UartSerial as Transport;

#[cfg(feature = "uart")]
mod uart {
    //! USART2 on PA2 (TX) / PA3 (RX), 115 200 8N1: the Nucleo's ST-LINK virtual COM port.
    //! The USART has a one-byte data register each way, so its interrupt does the moving:
    //! "RX not empty" pushes the byte into the RX ring (a model step longer than one byte
    //! time, 87 µs, would otherwise overrun it), "TX empty" feeds the next transmit-ring
    //! byte and is disabled when the ring runs dry; queueing a frame re-enables it.

    use super::*;
    use core::cell::RefCell;
    use cortex_m::interrupt::Mutex;
    use hal::nb;
    use hal::pac::interrupt;
    use hal::serial::{Config, Rx, RxListen, Tx, TxISR, TxListen};
    use neuroloop_firmware::{txring, Serial};

    struct Port {
        tx: Tx<pac::USART2>,
        rx: Rx<pac::USART2>,
        drain: Consumer<'static, u8, TX_BYTES>,
        fill: Producer<'static, u8, RX_BYTES>,
    }

    static PORT: Mutex<RefCell<Option<Port>>> = Mutex::new(RefCell::new(None));

    /// The loop's side: transmit-ring producer, receive-ring consumer.
    pub struct UartSerial {
        tx: Producer<'static, u8, TX_BYTES>,
        rx: Consumer<'static, u8, RX_BYTES>,
    }

    impl UartSerial {
        pub(super) fn new(
            usart: pac::USART2,
            pins: (
                hal::gpio::PA2<hal::gpio::Input>,
                hal::gpio::PA3<hal::gpio::Input>,
            ),
            rcc: &mut Rcc,
        ) -> Option<Self> {
            let serial = usart
                .serial(pins, Config::default().baudrate(115_200.bps()), rcc)
                .ok()?;
            let (tx_hw, mut rx_hw) = serial.split();
            rx_hw.listen();
            let (tx, drain) = tx_ring()?;
            let (fill, rx) = rx_ring()?;
            cortex_m::interrupt::free(|cs| {
                PORT.borrow(cs).replace(Some(Port {
                    tx: tx_hw,
                    rx: rx_hw,
                    drain,
                    fill,
                }))
            });
            // SAFETY: see the module doc: the handler only takes the `PORT` mutex.
            unsafe { pac::NVIC::unmask(pac::Interrupt::USART2) };
            Some(UartSerial { tx, rx })
        }
    }

    /// Move received bytes into the RX ring (a line error drops its byte: the frame's CRC
    /// then fails and the app counts it), then feed one transmit byte if the register is
    /// empty; "TX empty" stays enabled only while bytes remain.
    fn service(p: &mut Port) {
        loop {
            match embedded_hal_nb::serial::Read::read(&mut p.rx) {
                Ok(b) => {
                    let _ = p.fill.enqueue(b);
                }
                Err(nb::Error::WouldBlock) => break,
                Err(nb::Error::Other(_)) => {}
            }
        }
        if p.tx.is_tx_empty() {
            match p.drain.dequeue() {
                Some(b) => {
                    let _ = embedded_hal_nb::serial::Write::write(&mut p.tx, b);
                    p.tx.listen();
                }
                None => p.tx.unlisten(),
            }
        }
    }

    #[interrupt]
    fn USART2() {
        cortex_m::interrupt::free(|cs| {
            if let Some(p) = PORT.borrow(cs).borrow_mut().as_mut() {
                service(p);
            }
        });
    }

    impl Serial for UartSerial {
        fn read(&mut self) -> Option<u8> {
            self.rx.dequeue()
        }
        fn try_queue(&mut self, frame: &[u8]) -> bool {
            let ok = txring::push_frame(&mut self.tx, frame);
            pac::NVIC::pend(pac::Interrupt::USART2);
            ok
        }
        fn tx_free(&self) -> usize {
            txring::free(&self.tx)
        }
        fn tx_capacity(&self) -> usize {
            self.tx.capacity()
        }
        fn tx_pump(&mut self) {
            pac::NVIC::pend(pac::Interrupt::USART2);
        }
    }
}

/// TIM2 (32 bit) free-running at 1 MHz as clock; timer-mode ticks are counted from it by
/// polling.
pub struct TimerTicker {
    tim: pac::TIM2,
    period_us: u32,
    next_due: u32,
}

impl TimerTicker {
    /// TIM2 enabled and reset by the HAL with its prescaler for 1 MHz; auto-reload stays at
    /// its reset value `u32::MAX`, so the counter wraps like a `u32` (the HAL's `Counter`
    /// would reload at a duration, one short of that).
    fn new(tim2: pac::TIM2, rcc: &mut Rcc) -> Self {
        let tim = FTimerUs::new(tim2, rcc).release();
        tim.egr().write(|w| w.ug().set_bit()); // load the prescaler
        tim.cr1().modify(|_, w| w.cen().set_bit());
        TimerTicker {
            tim,
            period_us: 0,
            next_due: 0,
        }
    }
}

impl Ticker for TimerTicker {
    fn clock_hz(&self) -> u32 {
        1_000_000
    }
    fn now(&mut self) -> u32 {
        self.tim.cnt().read().bits()
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
pub type OutPin = AnyPin<Output<PushPull>>;
/// TIM1 channel 1 (PA8).
pub type Pwm = PwmChannel<pac::TIM1, 0>;

/// Clocks at 96 MHz, then the protocol transport, the ticker, the PWM channel, 3 pins and
/// the flash controller (for [`crate::flash::slots`]).
pub fn init() -> (Transport, TimerTicker, Pwm, [OutPin; 3], pac::FLASH) {
    let dp = pac::Peripherals::take().unwrap();
    // USB: the Black Pill's 25 MHz crystal (USB needs 48 MHz ± 0.25 %; the internal RC is
    // ± 1 %). UART: the internal 16 MHz RC, present on every board.
    #[cfg(not(feature = "uart"))]
    let clocks = RccConfig::hse(25.MHz()).require_pll48clk();
    #[cfg(feature = "uart")]
    let clocks = RccConfig::hsi();
    let mut rcc = dp.RCC.freeze(clocks.sysclk(SYSCLK_HZ.Hz()));
    let gpioa = dp.GPIOA.split(&mut rcc);
    let gpiob = dp.GPIOB.split(&mut rcc);
    #[cfg(not(feature = "uart"))]
    let transport = {
        assert!(rcc.clocks.is_pll48clk_valid(), "no exact 48 MHz USB clock");
        let usb = hal::otg_fs::USB::new(
            (dp.OTG_FS_GLOBAL, dp.OTG_FS_DEVICE, dp.OTG_FS_PWRCLK),
            (gpioa.pa11, gpioa.pa12),
            &rcc.clocks,
        );
        usb::new(usb).unwrap()
    };
    #[cfg(feature = "uart")]
    let transport = uart::UartSerial::new(dp.USART2, (gpioa.pa2, gpioa.pa3), &mut rcc).unwrap();
    let ticker = TimerTicker::new(dp.TIM2, &mut rcc);
    let (_pwm_timer, (ch1, ..)) = dp.TIM1.pwm_hz(10.kHz(), &mut rcc);
    let mut pwm = ch1.with(gpioa.pa8);
    let _ = pwm.set_duty_cycle(0);
    pwm.enable();
    let out = [
        gpiob.pb5.into_push_pull_output().erase(),
        gpiob.pb10.into_push_pull_output().erase(),
        gpiob.pb6.into_push_pull_output().erase(),
    ];
    (transport, ticker, pwm, out, dp.FLASH)
}
