//! The persistent model slots in the Pico's QSPI flash: two [`FLASH_SLOT_BYTES`] regions
//! at the top of the 2 MiB chip (`memory.x` ends the program before them), erased and
//! written with the boot ROM's flash routines and read in place through the XIP window, so
//! a committed model runs from flash zero-copy.
//!
//! ```text
//! 0x1000_0000 BOOT2 │ program (≤ 2048 − 320 KiB) │ slot A 160 KiB │ slot B 160 KiB │ 0x1020_0000
//! ```
//!
//! Written by hand: the crate of the field, `rp2040-flash` 0.6, depends on rp2040-hal 0.11
//! and does not link beside the 0.12 this board uses (both define the ROM float
//! intrinsics). What it does is small: look the ROM routines up (`rp2040_hal::rom_data`),
//! then, from a function placed in RAM ([`rom_flash_op`]), call connect_internal_flash →
//! flash_exit_xip → flash_range_erase / flash_range_program → flash_flush_cache → the
//! board's own BOOT2 (copied to RAM; it restores the fast QSPI XIP mode that
//! `flash_enter_cmd_xip` would leave at the slow 03h read). All `unsafe` of the board's
//! flash access is in this module.
//!
//! While the flash is erased or written, XIP is off: nothing may run from or read flash, so
//! each 4 KiB sector erase (≈ 45 ms) and each 256-byte page program (≈ 0.5 ms) runs with
//! interrupts disabled (the USB interrupt waits between sectors; the USB hardware NAKs
//! meanwhile). Core 1 is never started and no DMA channel reads flash. An
//! `UploadBegin{persist}` erases a whole slot (40 sectors, ≈ 2 s) before its `Ack`; the app
//! refuses it while timer mode runs, and the host client sizes its wait for it.
//!
//! Not yet run on hardware (built and linted for thumbv6m in CI only): the A/B commit
//! protocol above it is tested on the host against a mock NOR flash, on QEMU against RAM,
//! and through `neuroloop device-sim --flash FILE`.

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
use neuroloop_firmware::flash::{
    check_range, read_mapped, FlashSlot, FlashSlots, RP_PICO_SLOT_BYTES,
};
use rp2040_hal::rom_data;

/// Bytes of each slot (shared with the app crate, whose host test checks what fits).
pub const FLASH_SLOT_BYTES: usize = RP_PICO_SLOT_BYTES;
/// Flash size on the Pico (W25Q16JV).
const FLASH_BYTES: usize = 2 * 1024 * 1024;
/// Offset of slot A from the start of flash: the program ends here (`memory.x`).
pub const SLOTS_OFFSET: usize = FLASH_BYTES - 2 * FLASH_SLOT_BYTES;
/// XIP window base address.
const XIP_BASE: usize = 0x1000_0000;
/// Erase unit of the W25Q16JV (4 KiB sector erase, command 0x20).
const SECTOR: usize = 4096;
/// Program unit (one page).
const PAGE: usize = 256;

extern "C" {
    /// Start of the slot region: `memory.x` defines it and ends the program's FLASH there.
    static __neuroloop_flash_slots: u8;
}

/// One slot: `offset` bytes into flash.
#[derive(Debug)]
pub struct PicoSlot {
    offset: usize,
}

/// The two slots (once: `None` on a second call).
///
/// # Panics
/// If `memory.x` and [`SLOTS_OFFSET`] disagree (the program could overlap slot A).
pub fn slots() -> Option<FlashSlots<PicoSlot>> {
    cortex_m::singleton!(: () = ())?;
    // Only the address of the linker symbol is taken, never its contents (no `unsafe`).
    let start = core::ptr::addr_of!(__neuroloop_flash_slots) as usize;
    assert_eq!(
        start,
        XIP_BASE + SLOTS_OFFSET,
        "memory.x: the program must end where the flash slots begin"
    );
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
        check_range(from, to, align, FLASH_SLOT_BYTES)
    }
}

impl ErrorType for PicoSlot {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for PicoSlot {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        read_mapped(self.mapped(), offset, bytes)
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
            flash_op((self.offset + at) as u32, SECTOR, None);
        }
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let end = offset as usize + bytes.len();
        self.check(offset, end, PAGE)?;
        for (k, page) in bytes.chunks(PAGE).enumerate() {
            // Copied to the stack: the source must not be flash (XIP is off meanwhile).
            let mut buf = [0xFF; PAGE];
            buf[..page.len()].copy_from_slice(page);
            let addr = (self.offset + offset as usize + k * PAGE) as u32;
            flash_op(addr, 0, Some(&buf));
        }
        Ok(())
    }
}

impl FlashSlot for PicoSlot {
    fn mapped(&self) -> &[u8] {
        // SAFETY: the XIP window maps the whole 2 MiB chip read-only at XIP_BASE; this
        // slot's range lies inside it (`slots` checks the layout) and changes only through
        // `&mut self` (erase/write), which cannot coexist with the returned borrow. After
        // every change the XIP cache is flushed (`rom_flash_op`), so reads see the flash.
        unsafe {
            core::slice::from_raw_parts((XIP_BASE + self.offset) as *const u8, FLASH_SLOT_BYTES)
        }
    }
}

/// The ROM routines [`rom_flash_op`] calls, looked up beforehand (the lookup code runs
/// from flash) and kept on the stack (RAM).
#[repr(C)]
struct Rom {
    connect_internal_flash: unsafe extern "C" fn(),
    flash_exit_xip: unsafe extern "C" fn(),
    flash_range_erase: unsafe extern "C" fn(u32, usize, u32, u8),
    flash_range_program: unsafe extern "C" fn(u32, *const u8, usize),
    flash_flush_cache: unsafe extern "C" fn(),
    enter_xip: unsafe extern "C" fn(),
}

/// Erase `erase_len` bytes at flash offset `addr` (a multiple of [`SECTOR`]; 0: none),
/// then program `data` there (whole pages; `None`: none), with interrupts disabled.
fn flash_op(addr: u32, erase_len: usize, data: Option<&[u8]>) {
    debug_assert!(addr as usize + erase_len <= FLASH_BYTES);
    // The board's BOOT2 (it sets up fast QSPI XIP) copied to RAM: XIP is off while the
    // ROM routines run, and `rom_flash_op` calls it last to turn XIP back on.
    let mut boot2 = [0u32; 64];
    for (w, b) in boot2.iter_mut().zip(crate::BOOT2.chunks_exact(4)) {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    // SAFETY: `boot2` holds BOOT2's position-independent Thumb code, which returns to its
    // caller when called as a function (as the Pico SDK's `flash_enable_xip_via_boot2`
    // does); +1 sets the Thumb bit. SRAM is executable on the RP2040, and `boot2` lives
    // until `rom_flash_op` has returned.
    let enter_xip: unsafe extern "C" fn() = unsafe {
        core::mem::transmute::<usize, unsafe extern "C" fn()>(boot2.as_ptr() as usize + 1)
    };
    let rom = Rom {
        connect_internal_flash: rom_data::connect_internal_flash::ptr(),
        flash_exit_xip: rom_data::flash_exit_xip::ptr(),
        flash_range_erase: rom_data::flash_range_erase::ptr(),
        flash_range_program: rom_data::flash_range_program::ptr(),
        flash_flush_cache: rom_data::flash_flush_cache::ptr(),
        enter_xip,
    };
    let (ptr, len) = data.map_or((core::ptr::null(), 0), |d| (d.as_ptr(), d.len()));
    cortex_m::interrupt::free(|_| {
        // SAFETY: interrupts are off, core 1 is not started and no DMA reads flash, so
        // nothing executes from or reads flash while `rom_flash_op` has XIP off; the range
        // is inside a slot (`PicoSlot::check`), which the program does not occupy
        // (`memory.x`, checked in `slots`); `ptr..ptr+len` is a page copied to the stack
        // (`NorFlash::write`), never flash; `rom` and `boot2` are on this stack, in RAM.
        unsafe { rom_flash_op(&rom, addr, erase_len, ptr, len) }
    });
}

/// The flash-touching sequence, in RAM (`.data.ram_func`, copied there at startup by
/// cortex-m-rt) and never inlined into flash-resident code. It calls nothing but the
/// function pointers in `rom` and reads nothing but its arguments and `rom` (RAM).
///
/// # Safety
/// Interrupts must be disabled, nothing else may touch flash, `addr..addr+max(erase_len,
/// len)` must be outside the program, and `data..data+len` must be RAM.
#[inline(never)]
#[link_section = ".data.ram_func"]
unsafe fn rom_flash_op(rom: &Rom, addr: u32, erase_len: usize, data: *const u8, len: usize) {
    // SAFETY: the caller's contract; each routine is the boot ROM's, called in the order the
    // RP2040 datasheet (2.8.3.1.3) prescribes.
    unsafe {
        (rom.connect_internal_flash)();
        (rom.flash_exit_xip)();
        if erase_len != 0 {
            // 64 KiB block erase (0xD8) where aligned, 4 KiB sectors otherwise.
            (rom.flash_range_erase)(addr, erase_len, 1 << 16, 0xD8);
        }
        if len != 0 {
            (rom.flash_range_program)(addr, data, len);
        }
        (rom.flash_flush_cache)();
        (rom.enter_xip)();
    }
}
