//! The persistent model slots in the Pico's QSPI flash: two [`FLASH_SLOT_BYTES`] regions
//! at the top of the 2 MiB chip (`memory.x` ends the program before them), written with
//! the `rp2040-flash` crate (the boot ROM's flash routines, called from a RAM-resident
//! function because XIP is off while they run) and read in place through the XIP window.
//!
//! ```text
//! 0x1000_0000 BOOT2 │ program (≤ 2048 − 320 KiB) │ slot A 160 KiB │ slot B 160 KiB │ 0x1020_0000
//! ```
//!
//! While the flash is erased or written, XIP is off: nothing may run from flash, so each
//! 4 KiB sector erase (≈ 45 ms) and each 256-byte page write (≈ 0.5 ms) runs with
//! interrupts disabled (the USB interrupt waits; the USB hardware NAKs meanwhile). An
//! `UploadBegin{persist}` (erase of a whole slot, 40 sectors) takes ≈ 2 s before its
//! `Ack`; the app refuses it while timer mode runs.

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
use neuroloop_firmware::flash::{FlashSlot, FlashSlots, RP_PICO_SLOT_BYTES};

/// Bytes of each slot (shared with the app crate, whose host test checks what fits).
pub const FLASH_SLOT_BYTES: usize = RP_PICO_SLOT_BYTES;
/// Flash size on the Pico (W25Q16JV).
const FLASH_BYTES: usize = 2 * 1024 * 1024;
/// Offset of slot A from the start of flash: the program ends here (`memory.x`).
pub const SLOTS_OFFSET: usize = FLASH_BYTES - 2 * FLASH_SLOT_BYTES;
/// XIP window base address.
const XIP_BASE: usize = 0x1000_0000;
const SECTOR: usize = 4096;
const PAGE: usize = 256;

extern "C" {
    /// End of the program's flash region (`memory.x`).
    static _flash_slots: u8;
}

/// One slot: `offset` bytes into flash.
#[derive(Debug)]
pub struct PicoSlot {
    offset: usize,
}

/// The two slots (once: `None` on a second call).
///
/// # Panics
/// If `memory.x` and [`SLOTS_OFFSET`] disagree (the program would overlap slot A).
pub fn slots() -> Option<FlashSlots<PicoSlot>> {
    static TAKEN: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    // Single core: the load-then-store cannot race (`AtomicBool::swap` is not on thumbv6m).
    if TAKEN.load(core::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    TAKEN.store(true, core::sync::atomic::Ordering::Relaxed);
    // Only the address of the linker symbol is taken (no read: no `unsafe`).
    let end = core::ptr::addr_of!(_flash_slots) as usize;
    assert_eq!(end, XIP_BASE + SLOTS_OFFSET, "memory.x: program must end at the slots");
    Some(FlashSlots::new(
        PicoSlot {
            offset: SLOTS_OFFSET,
        },
        PicoSlot {
            offset: SLOTS_OFFSET + FLASH_SLOT_BYTES,
        },
    ))
}

impl PicoSlot {
    fn check(&self, from: u32, to: usize, align: usize) -> Result<(), NorFlashErrorKind> {
        if from as usize % align != 0 || to % align != 0 {
            Err(NorFlashErrorKind::NotAligned)
        } else if from as usize > to || to > FLASH_SLOT_BYTES {
            Err(NorFlashErrorKind::OutOfBounds)
        } else {
            Ok(())
        }
    }
}

impl ErrorType for PicoSlot {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for PicoSlot {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let end = offset as usize + bytes.len();
        self.check(offset, end, 1)?;
        bytes.copy_from_slice(&self.mapped()[offset as usize..end]);
        Ok(())
    }
    fn capacity(&self) -> usize {
        FLASH_SLOT_BYTES
    }
}

impl NorFlash for PicoSlot {
    const WRITE_SIZE: usize = PAGE;
    const ERASE_SIZE: usize = SECTOR;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.check(from, to as usize, SECTOR)?;
        for at in (from as usize..to as usize).step_by(SECTOR) {
            let addr = (self.offset + at) as u32;
            // SAFETY: interrupts are off, core 1 is not started and no DMA reads flash,
            // so nothing touches flash while XIP is off; the range is inside this slot
            // (checked above), which the program does not occupy (`slots`).
            cortex_m::interrupt::free(|_| unsafe {
                rp2040_flash::flash::flash_range_erase(addr, SECTOR as u32, true)
            });
        }
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let end = offset as usize + bytes.len();
        self.check(offset, end, PAGE)?;
        for (k, page) in bytes.chunks(PAGE).enumerate() {
            let addr = (self.offset + offset as usize + k * PAGE) as u32;
            // SAFETY: as in `erase`; `page` is in RAM (the app's page buffer), not in the
            // flash being written.
            cortex_m::interrupt::free(|_| unsafe {
                rp2040_flash::flash::flash_range_program(addr, page, true)
            });
        }
        Ok(())
    }
}

impl FlashSlot for PicoSlot {
    fn mapped(&self) -> &[u8] {
        // SAFETY: the XIP window maps the whole 2 MiB chip read-only at XIP_BASE; this
        // slot's range lies inside it and is only changed through `&mut self`, which
        // cannot coexist with this borrow.
        unsafe {
            core::slice::from_raw_parts((XIP_BASE + self.offset) as *const u8, FLASH_SLOT_BYTES)
        }
    }
}
