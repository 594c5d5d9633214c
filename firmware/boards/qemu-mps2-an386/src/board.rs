//! mps2-an386 peripherals: UART0, SysTick ticker, FPGA LEDs, panic/fault exits.
//!
//! `unsafe` here: volatile MMIO register access at the fixed addresses of the board, and
//! handing out the static model/state buffers exactly once.

use core::convert::Infallible;
use core::ptr::{addr_of_mut, read_volatile, write_volatile};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::{exception, ExceptionFrame};
use cortex_m_semihosting::debug;
use neuroloop_firmware::{Serial, Ticker};

use crate::{SLOT_BYTES, STATE_WORDS};

static mut SLOT_A: [u8; SLOT_BYTES] = [0; SLOT_BYTES];
static mut SLOT_B: [u8; SLOT_BYTES] = [0; SLOT_BYTES];
static mut STATE: [i16; STATE_WORDS] = [0; STATE_WORDS];
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The two model slots and the state buffer, once.
pub fn buffers() -> (&'static mut [u8], &'static mut [u8], &'static mut [i16]) {
    assert!(!TAKEN.swap(true, Ordering::SeqCst), "buffers taken twice");
    // SAFETY: the flag above makes these the only references ever created.
    unsafe {
        (
            &mut *addr_of_mut!(SLOT_A),
            &mut *addr_of_mut!(SLOT_B),
            &mut *addr_of_mut!(STATE),
        )
    }
}

const UART0: usize = 0x4000_4000;
const DATA: usize = 0x00;
const STATE_REG: usize = 0x04;
const CTRL: usize = 0x08;
const BAUDDIV: usize = 0x10;

fn reg(off: usize) -> *mut u32 {
    (UART0 + off) as *mut u32
}

/// CMSDK APB UART0, polled (one byte buffer each way; QEMU back-pressures the socket).
pub struct Uart0(());

impl Uart0 {
    /// Enable TX and RX.
    pub fn new() -> Self {
        // SAFETY: UART0 registers of this board.
        unsafe {
            write_volatile(reg(BAUDDIV), 16);
            write_volatile(reg(CTRL), 0b11);
        }
        Uart0(())
    }
}

impl Serial for Uart0 {
    fn read(&mut self) -> Option<u8> {
        // SAFETY: UART0 registers of this board.
        unsafe {
            (read_volatile(reg(STATE_REG)) & 0b10 != 0).then(|| read_volatile(reg(DATA)) as u8)
        }
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // SAFETY: UART0 registers of this board.
            unsafe {
                while read_volatile(reg(STATE_REG)) & 0b01 != 0 {}
                write_volatile(reg(DATA), b as u32);
            }
        }
    }
}

/// SysTick periods elapsed (incremented by the exception).
static WRAPS: AtomicU32 = AtomicU32::new(0);

/// Core clock of mps2-an386 (SysTick with CLKSOURCE = core).
const CLOCK_HZ: u32 = 25_000_000;
/// Free-running reload when no timer mode runs.
const FREE_RELOAD: u32 = 0x00FF_FFFF;

/// SysTick as clock (`WRAPS·(reload+1) + elapsed`) and timer-mode tick (one per wrap).
pub struct SysTicker {
    syst: SYST,
    reload: u32,
    taken: u32,
}

impl SysTicker {
    /// Free-running at the maximum reload, exception on.
    pub fn new(syst: SYST) -> Self {
        let mut t = SysTicker {
            syst,
            reload: FREE_RELOAD,
            taken: 0,
        };
        t.program(FREE_RELOAD);
        t
    }

    fn program(&mut self, reload: u32) {
        self.syst.disable_counter();
        self.syst.set_clock_source(SystClkSource::Core);
        self.syst.set_reload(reload);
        self.syst.clear_current();
        self.reload = reload;
        self.taken = WRAPS.load(Ordering::SeqCst);
        self.syst.enable_interrupt();
        self.syst.enable_counter();
    }
}

impl Ticker for SysTicker {
    fn clock_hz(&self) -> u32 {
        CLOCK_HZ
    }
    fn now(&mut self) -> u32 {
        loop {
            let w1 = WRAPS.load(Ordering::SeqCst);
            let cvr = SYST::get_current();
            let w2 = WRAPS.load(Ordering::SeqCst);
            if w1 == w2 {
                return w1
                    .wrapping_mul(self.reload + 1)
                    .wrapping_add(self.reload - cvr);
            }
        }
    }
    fn start(&mut self, rate_hz: u32) -> bool {
        let period = CLOCK_HZ / rate_hz.max(1);
        if !(100..=FREE_RELOAD + 1).contains(&period) {
            return false;
        }
        self.program(period - 1);
        true
    }
    fn stop(&mut self) {
        self.program(FREE_RELOAD);
    }
    fn take_ticks(&mut self) -> u32 {
        let now = WRAPS.load(Ordering::SeqCst);
        let n = now.wrapping_sub(self.taken);
        self.taken = now;
        n
    }
}

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::SeqCst);
}

const FPGAIO_LED: *mut u32 = 0x4002_8000 as *mut u32;

/// FPGA LED `n` as a TTL/sync pin.
pub struct Led(pub u8);

impl embedded_hal::digital::ErrorType for Led {
    type Error = Infallible;
}

impl embedded_hal::digital::OutputPin for Led {
    fn set_low(&mut self) -> Result<(), Infallible> {
        // SAFETY: FPGAIO LED register of this board; single-threaded access.
        unsafe { write_volatile(FPGAIO_LED, read_volatile(FPGAIO_LED) & !(1 << self.0)) };
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        // SAFETY: as above.
        unsafe { write_volatile(FPGAIO_LED, read_volatile(FPGAIO_LED) | (1 << self.0)) };
        Ok(())
    }
}

/// A PWM channel with no pin: keeps the duty (QEMU has no PWM on this board).
#[derive(Default)]
pub struct RamPwm(u16);

impl embedded_hal::pwm::ErrorType for RamPwm {
    type Error = Infallible;
}

impl embedded_hal::pwm::SetDutyCycle for RamPwm {
    fn max_duty_cycle(&self) -> u16 {
        10_000
    }
    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), Infallible> {
        self.0 = duty;
        Ok(())
    }
}

/// Set by the first fault or panic: a second one (e.g. inside the defmt logger) exits
/// without logging instead of recursing.
static FAILING: AtomicBool = AtomicBool::new(false);

fn fail() -> ! {
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    if !FAILING.swap(true, Ordering::SeqCst) {
        #[cfg(not(feature = "defmt"))]
        cortex_m_semihosting::hprintln!("HardFault at pc={:#010x}", ef.pc());
        #[cfg(feature = "defmt")]
        defmt::error!("HardFault at pc={=u32:#010x}", ef.pc());
    }
    fail()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    if !FAILING.swap(true, Ordering::SeqCst) {
        #[cfg(not(feature = "defmt"))]
        cortex_m_semihosting::hprintln!("panic: {}", info);
        #[cfg(feature = "defmt")]
        defmt::error!("panic: {}", defmt::Display2Format(info));
    }
    fail()
}
