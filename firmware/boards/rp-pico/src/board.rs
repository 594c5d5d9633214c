//! RP2040 peripherals for the Pico: clocks, UART0, TIMER ticker, PWM and GPIO outputs.
//!
//! `unsafe` here: handing out the static model/state buffers exactly once.

use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicBool, Ordering};

use embedded_hal::pwm::SetDutyCycle;
use hal::clocks::init_clocks_and_plls;
use hal::fugit::RateExtU32;
use hal::gpio::{DynPinId, FunctionSioOutput, Pin, PullDown};
use hal::pac;
use hal::uart::{DataBits, StopBits, UartConfig, UartPeripheral};
use hal::Clock;
use neuroloop_firmware::{Serial, Ticker};
use rp2040_hal as hal;

use crate::{SLOT_BYTES, STATE_WORDS};

const XTAL_HZ: u32 = 12_000_000;

static mut SLOT_A: [u8; SLOT_BYTES] = [0; SLOT_BYTES];
static mut SLOT_B: [u8; SLOT_BYTES] = [0; SLOT_BYTES];
static mut STATE: [i16; STATE_WORDS] = [0; STATE_WORDS];
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The two model slots and the state buffer, once.
pub fn buffers() -> (&'static mut [u8], &'static mut [u8], &'static mut [i16]) {
    let taken = cortex_m::interrupt::free(|_| {
        let t = TAKEN.load(Ordering::Relaxed);
        TAKEN.store(true, Ordering::Relaxed);
        t
    });
    assert!(!taken, "buffers taken twice");
    // SAFETY: the flag above makes these the only references ever created.
    unsafe {
        (
            &mut *addr_of_mut!(SLOT_A),
            &mut *addr_of_mut!(SLOT_B),
            &mut *addr_of_mut!(STATE),
        )
    }
}

type UartPins = (
    Pin<hal::gpio::bank0::Gpio0, hal::gpio::FunctionUart, PullDown>,
    Pin<hal::gpio::bank0::Gpio1, hal::gpio::FunctionUart, PullDown>,
);

/// UART0 on GP0/GP1.
pub struct Uart(UartPeripheral<hal::uart::Enabled, pac::UART0, UartPins>);

impl Serial for Uart {
    fn read(&mut self) -> Option<u8> {
        let mut b = [0u8; 1];
        match self.0.read_raw(&mut b) {
            Ok(1) => Some(b[0]),
            _ => None,
        }
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.write_full_blocking(bytes);
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

/// Clocks at 125 MHz, then the protocol UART, the ticker, the PWM channel and 3 pins.
pub fn init() -> (Uart, TimerTicker, Pwm, [OutPin; 3]) {
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
    let uart_pins = (pins.gpio0.into_function(), pins.gpio1.into_function());
    let uart = UartPeripheral::new(pac.UART0, uart_pins, &mut pac.RESETS)
        .enable(
            UartConfig::new(115_200.Hz(), DataBits::Eight, None, StopBits::One),
            clocks.peripheral_clock.freq(),
        )
        .unwrap();
    let timer = hal::Timer::new(pac.TIMER, &mut pac.RESETS, &clocks);
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
        Uart(uart),
        TimerTicker {
            timer,
            period_us: 0,
            next_due: 0,
        },
        ch,
        out,
    )
}
