//! The persistent model slots in the STM32F411xE's internal flash: sectors 6 and 7, the
//! top two 128 KiB sectors of the 512 KiB (`memory.x` ends the program before them),
//! erased and written through the HAL's `embedded-storage` driver (`UnlockedFlash`) and
//! read in place through the flash's memory mapping at `0x0800_0000`, so a committed model
//! runs from flash zero-copy.
//!
//! ```text
//! 0x0800_0000 │ program: sectors 0–5 (256 KiB) │ slot A: sector 6 │ slot B: sector 7 │ 0x0808_0000
//! ```
//!
//! One slot is one sector, the erase unit: `UploadBegin{persist}` erases it whole (≈ 1–2 s
//! at 3.3 V with byte parallelism, the HAL's setting); bytes are programmed one at a time
//! (≈ 16 µs each). The F411 has a single flash bank: while it erases or programs, every
//! fetch from flash (code, the interrupt handlers too) stalls until it is done; nothing
//! is lost, the USB core NAKs meanwhile. The app refuses a persistent upload while timer
//! mode runs, and the host client sizes its wait for the erase.
//!
//! The peripheral is shared by the two slots through a `cortex_m::interrupt::Mutex`
//! (each operation unlocks it, the HAL locks it again when done, then the caches are
//! flushed). The one `unsafe` is
//! [`FlashSlot::mapped`]. Not yet run on hardware (built and linted for thumbv7em in CI
//! only): the A/B commit protocol above it is tested on the host against a mock NOR flash,
//! on QEMU against RAM, and through `neuroloop device-sim --flash FILE`.

use core::cell::RefCell;

use cortex_m::interrupt::Mutex;
use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
use neuroloop_firmware::flash::{check_range, read_mapped, FlashSlot, FlashSlots};
use stm32f4xx_hal::flash::{Error as HalError, FlashExt, UnlockedFlash};
use stm32f4xx_hal::pac;

/// Bytes of each slot: one 128 KiB sector.
pub const FLASH_SLOT_BYTES: usize = 128 * 1024;
/// Flash size of the STM32F411xE.
const FLASH_BYTES: usize = 512 * 1024;
/// Offset of slot A (sector 6) from the start of flash: the program ends here (`memory.x`).
pub const SLOTS_OFFSET: usize = FLASH_BYTES - 2 * FLASH_SLOT_BYTES;
/// Where the flash is mapped.
const FLASH_BASE: usize = 0x0800_0000;

extern "C" {
    /// Start of the slot region: `memory.x` defines it and ends the program's FLASH there.
    static __neuroloop_flash_slots: u8;
}

/// The flash controller, shared by both slots.
static FLASH: Mutex<RefCell<Option<pac::FLASH>>> = Mutex::new(RefCell::new(None));

/// One slot: `offset` bytes into flash.
#[derive(Debug)]
pub struct F411Slot {
    offset: usize,
}

/// The two slots (once: `None` on a second call).
///
/// # Panics
/// If `memory.x` and [`SLOTS_OFFSET`] disagree (the program could overlap slot A), or the
/// chip has less than 512 KiB of flash (an F411xC has no sectors 6 and 7).
pub fn slots(flash: pac::FLASH) -> Option<FlashSlots<F411Slot>> {
    // Only the address of the linker symbol is taken, never its contents (no `unsafe`).
    let start = core::ptr::addr_of!(__neuroloop_flash_slots) as usize;
    assert_eq!(
        start,
        FLASH_BASE + SLOTS_OFFSET,
        "memory.x: the program must end where the flash slots begin"
    );
    assert!(
        flash.len() >= FLASH_BYTES,
        "flash slots need a 512 KiB STM32F411xE, this chip has {} KiB",
        flash.len() / 1024
    );
    let first = cortex_m::interrupt::free(|cs| FLASH.borrow(cs).replace(Some(flash)).is_none());
    first.then(|| {
        FlashSlots::new(
            F411Slot {
                offset: SLOTS_OFFSET,
            },
            F411Slot {
                offset: SLOTS_OFFSET + FLASH_SLOT_BYTES,
            },
        )
    })
}

impl F411Slot {
    fn check(&self, from: u32, to: usize, align: usize) -> Result<(), NorFlashErrorKind> {
        check_range(from, to, align, FLASH_SLOT_BYTES)
    }

    /// Run `op` on the unlocked flash (locked again when it returns), then flush the
    /// accelerator's instruction and data caches, which may hold the old contents (as ST's
    /// own HAL does after every erase).
    fn unlocked(
        &self,
        op: impl FnOnce(&mut UnlockedFlash) -> Result<(), HalError>,
    ) -> Result<(), NorFlashErrorKind> {
        cortex_m::interrupt::free(|cs| {
            let mut flash = FLASH.borrow(cs).borrow_mut();
            let f = flash.as_mut().ok_or(NorFlashErrorKind::Other)?;
            let done = op(&mut f.unlocked()).map_err(|_| NorFlashErrorKind::Other);
            f.acr()
                .modify(|_, w| w.icen().clear_bit().dcen().clear_bit());
            f.acr().modify(|_, w| w.icrst().set_bit().dcrst().set_bit());
            f.acr()
                .modify(|_, w| w.icrst().clear_bit().dcrst().clear_bit());
            f.acr().modify(|_, w| w.icen().set_bit().dcen().set_bit());
            done
        })
    }
}

impl ErrorType for F411Slot {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for F411Slot {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        read_mapped(self.mapped(), offset, bytes)
    }
    fn capacity(&self) -> usize {
        FLASH_SLOT_BYTES
    }
}

impl NorFlash for F411Slot {
    const WRITE_SIZE: usize = 1;
    const ERASE_SIZE: usize = FLASH_SLOT_BYTES;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.check(from, to as usize, FLASH_SLOT_BYTES)?;
        if from == to {
            // The HAL would erase the sector holding `from` even for an empty range.
            return Ok(());
        }
        let (from, to) = (
            (self.offset + from as usize) as u32,
            (self.offset + to as usize) as u32,
        );
        self.unlocked(|f| NorFlash::erase(f, from, to))
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let end = offset as usize + bytes.len();
        self.check(offset, end, 1)?;
        let at = (self.offset + offset as usize) as u32;
        self.unlocked(|f| NorFlash::write(f, at, bytes))
    }
}

impl FlashSlot for F411Slot {
    fn mapped(&self) -> &[u8] {
        // SAFETY: the internal flash is mapped read-only at FLASH_BASE, whole; this slot's
        // range lies inside it (`slots` checks the layout and the chip's flash size) and
        // changes only through `&mut self` (erase/write), which cannot coexist with the
        // returned borrow. After every change the caches are flushed (`unlocked`).
        unsafe {
            core::slice::from_raw_parts((FLASH_BASE + self.offset) as *const u8, FLASH_SLOT_BYTES)
        }
    }
}
