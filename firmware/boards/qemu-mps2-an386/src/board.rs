//! mps2-an386 peripherals: UART0 (polled RX, interrupt-driven TX from the transmit ring),
//! SysTick ticker, FPGA LEDs, panic/fault exits.
//!
//! Static buffers (model slots, state, transmit ring) come from `cortex_m::singleton!`:
//! no `unsafe` for them. `unsafe` remains only where the hardware needs it, each with a
//! `SAFETY` note: volatile reads and writes of the UART0, FPGAIO and NVIC registers at
//! their fixed addresses (this board has no PAC crate), and the `HardFault` and
//! `DefaultHandler` signatures `cortex-m-rt` requires.

use core::cell::RefCell;
use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use cortex_m::interrupt::Mutex;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::{exception, ExceptionFrame};
use cortex_m_semihosting::debug;
use neuroloop_firmware::txring::{self, Consumer, Producer, Queue};
use neuroloop_firmware::{Serial, Ticker};

use neuroloop_firmware::flash::{FlashSlots, RamFlash};

use crate::{FLASH_SLOT_BYTES, SLOT_BYTES, STATE_WORDS, TX_BYTES};

/// The two model slots and the state buffer (once: `None` on a second call).
pub fn buffers() -> Option<(&'static mut [u8], &'static mut [u8], &'static mut [i16])> {
    let a = cortex_m::singleton!(: [u8; SLOT_BYTES] = [0; SLOT_BYTES])?;
    let b = cortex_m::singleton!(: [u8; SLOT_BYTES] = [0; SLOT_BYTES])?;
    let s = cortex_m::singleton!(: [i16; STATE_WORDS] = [0; STATE_WORDS])?;
    Some((a, b, s))
}

/// The persistent model slots: QEMU's code memory is read-only to the guest and has no
/// flash controller, so two RAM regions stand in for flash with NOR semantics
/// ([`RamFlash`]). They survive a model swap and every protocol exchange, but not QEMU's
/// exit: the persistence protocol is tested, not persistence across runs.
pub fn flash() -> Option<FlashSlots<RamFlash<'static>>> {
    let a = cortex_m::singleton!(: [u8; FLASH_SLOT_BYTES] = [0; FLASH_SLOT_BYTES])?;
    let b = cortex_m::singleton!(: [u8; FLASH_SLOT_BYTES] = [0; FLASH_SLOT_BYTES])?;
    Some(FlashSlots::new(RamFlash::new(a), RamFlash::new(b)))
}

const UART0: usize = 0x4000_4000;
const DATA: usize = 0x00;
const STATE_REG: usize = 0x04;
const CTRL: usize = 0x08;
const BAUDDIV: usize = 0x10;

fn reg(off: usize) -> *mut u32 {
    (UART0 + off) as *mut u32
}

const INTCLEAR: usize = 0x0C;
/// NVIC interrupt number of UART0 TX on mps2-an386.
const UART0_TX_IRQ: u16 = 1;
const NVIC_ISER0: *mut u32 = 0xE000_E100 as *mut u32;

/// The drain side of the transmit ring, shared by the UART0 TX interrupt and the loop's
/// kick (both inside critical sections).
static TX_DRAIN: Mutex<RefCell<Option<Consumer<'static, u8, TX_BYTES>>>> =
    Mutex::new(RefCell::new(None));

/// Bytes moved per drain call at most: QEMU's UART takes bytes as fast as they come, and
/// a long drain would hold interrupts off (and delay a tick) for the whole ring.
const DRAIN_BURST: usize = 16;

/// Move up to [`DRAIN_BURST`] ring bytes into UART0 while its buffer has room; the TX
/// interrupt calls again when it empties.
fn drain(cs: &cortex_m::interrupt::CriticalSection) {
    if let Some(c) = TX_DRAIN.borrow(cs).borrow_mut().as_mut() {
        // SAFETY: UART0 registers of this board; called only inside a critical section.
        unsafe {
            for _ in 0..DRAIN_BURST {
                if read_volatile(reg(STATE_REG)) & 0b01 != 0 {
                    break;
                }
                let Some(b) = c.dequeue() else { break };
                write_volatile(reg(DATA), b as u32);
            }
        }
    }
}

/// CMSDK APB UART0: RX polled (one byte buffer; QEMU back-pressures the socket), TX from a
/// ring of [`TX_BYTES`] drained by the TX interrupt ("buffer empty"), so the loop never
/// waits for the line.
pub struct Uart0 {
    tx: Producer<'static, u8, TX_BYTES>,
}

impl Uart0 {
    /// Split the ring, enable TX, RX and the TX interrupt (`None` if called twice).
    pub fn new() -> Option<Self> {
        let ring = cortex_m::singleton!(: Queue<u8, TX_BYTES> = Queue::new())?;
        let (tx, rx) = ring.split();
        cortex_m::interrupt::free(|cs| TX_DRAIN.borrow(cs).replace(Some(rx)));
        // SAFETY: UART0 and NVIC registers of this board; the handler (`DefaultHandler`
        // below) only touches the ring's consumer and UART0 TX.
        unsafe {
            write_volatile(reg(BAUDDIV), 16);
            write_volatile(reg(CTRL), 0b111);
            write_volatile(NVIC_ISER0, 1 << UART0_TX_IRQ);
        }
        Some(Uart0 { tx })
    }
}

impl Serial for Uart0 {
    fn read(&mut self) -> Option<u8> {
        // SAFETY: UART0 registers of this board.
        unsafe {
            (read_volatile(reg(STATE_REG)) & 0b10 != 0).then(|| read_volatile(reg(DATA)) as u8)
        }
    }
    fn try_queue(&mut self, frame: &[u8]) -> bool {
        let queued = txring::push_frame(&mut self.tx, frame);
        // Kick: the TX interrupt only fires after a byte went out.
        cortex_m::interrupt::free(drain);
        queued
    }
    fn tx_free(&self) -> usize {
        txring::free(&self.tx)
    }
    fn tx_capacity(&self) -> usize {
        self.tx.capacity()
    }
    fn tx_pump(&mut self) {
        cortex_m::interrupt::free(drain);
    }
}

/// External interrupts (this board has no PAC, so no named vectors): UART0 TX.
/// `cortex-m-rt` requires `DefaultHandler` to be declared `unsafe fn`.
#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if irqn == UART0_TX_IRQ as i16 {
        // SAFETY: UART0 INTCLEAR of this board: acknowledge the TX interrupt.
        unsafe { write_volatile(reg(INTCLEAR), 0b01) };
        cortex_m::interrupt::free(drain);
    }
}

/// SysTick periods elapsed (incremented by the exception).
static WRAPS: AtomicU32 = AtomicU32::new(0);

/// Core clock of mps2-an386 (SysTick with CLKSOURCE = core).
const CLOCK_HZ: u32 = 25_000_000;
/// Free-running reload when no timer mode runs.
const FREE_RELOAD: u32 = 0x00FF_FFFF;

/// CMSDK APB timer 0 (0x4000_0000, 25 MHz): free-running 32-bit down-counter, the clock.
const TIMER0: usize = 0x4000_0000;

/// Timer-mode ticks from SysTick (one per wrap, counted by its exception); the clock from
/// CMSDK timer 0, free-running from `u32::MAX` down, so it needs no interrupt and never
/// jumps (deriving it from SysTick and the wrap count reads a period off around a wrap:
/// QEMU reloads the counter and pends the exception at slightly different moments).
pub struct SysTicker {
    syst: SYST,
    taken: u32,
}

impl SysTicker {
    /// Clock running, SysTick free-running at the maximum reload, exception on.
    pub fn new(syst: SYST) -> Self {
        // SAFETY: CMSDK timer 0 registers of this board (RELOAD, VALUE, CTRL = enable);
        // nothing else uses this timer.
        unsafe {
            write_volatile((TIMER0 + 0x08) as *mut u32, u32::MAX);
            write_volatile((TIMER0 + 0x04) as *mut u32, u32::MAX);
            write_volatile(TIMER0 as *mut u32, 1);
        }
        let mut t = SysTicker { syst, taken: 0 };
        t.program(FREE_RELOAD);
        t
    }

    fn program(&mut self, reload: u32) {
        self.syst.disable_counter();
        self.syst.set_clock_source(SystClkSource::Core);
        self.syst.set_reload(reload);
        self.syst.clear_current();
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
        // SAFETY: CMSDK timer 0 VALUE register of this board (read-only use).
        u32::MAX - unsafe { read_volatile((TIMER0 + 0x04) as *const u32) }
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
