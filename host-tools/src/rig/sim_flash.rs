//! [`SimFlash`]: the device simulator's persistent model slots — the firmware's NOR flash
//! model (erase to 0xFF in 4 KiB sectors, writes only clear bits) over memory, optionally backed by a
//! file (`neuroloop device-sim --flash FILE`) so that a model persisted with
//! `rig upload --persist` survives a restart of the simulator, as it survives a power
//! cycle on a board.
//!
//! The file holds slot A then slot B. Every erase and write goes to memory and through to
//! the file at once (so a killed simulator loses nothing the device acknowledged); writes to
//! a slot's header page — the commit — are also `fsync`ed.
//!
//! The NOR semantics and the slot logic are the firmware's own ([`NorMem`], `FlashSlots`);
//! written here by hand is only the file: a [`WriteThrough`] over `std::fs::File`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use embedded_storage::nor_flash::NorFlashErrorKind;
use neuroloop_firmware::flash::{FlashSlots, NorMem, WriteThrough, WRITE_PAGE};

/// Sector (erase unit) of the simulated flash.
pub const SECTOR: usize = SimFlash::SECTOR;

/// Bytes of each simulated flash slot for uploads of up to `blob_bytes`: the blob and the
/// header page, rounded up to whole sectors.
pub fn slot_bytes_for(blob_bytes: usize) -> usize {
    (blob_bytes + WRITE_PAGE).div_ceil(SECTOR) * SECTOR
}

/// One simulated slot: the firmware's NOR model ([`NorMem`]) over owned memory, written
/// through to the backing file.
pub type SimFlash = NorMem<Vec<u8>, FileThrough>;

/// The backing file (shared by both slots) and a slot's offset in it (`None`: memory
/// only).
#[derive(Debug, Default)]
pub struct FileThrough(Option<(Arc<Mutex<File>>, u64)>);

impl WriteThrough for FileThrough {
    /// Write `from..to` of the slot through to the file (synced if it touches the header).
    fn changed(&mut self, mem: &[u8], from: usize, to: usize) -> Result<(), NorFlashErrorKind> {
        let Some((file, base)) = &self.0 else {
            return Ok(());
        };
        let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
        let header = to > mem.len() - WRITE_PAGE;
        f.seek(SeekFrom::Start(base + from as u64))
            .and_then(|_| f.write_all(&mem[from..to]))
            .and_then(|()| if header { f.sync_data() } else { Ok(()) })
            .map_err(|_| NorFlashErrorKind::Other)
    }
}

/// Two slots of `slot_bytes` each (a multiple of [`SECTOR`]), in memory only (erased).
pub fn in_memory(slot_bytes: usize) -> FlashSlots<SimFlash> {
    let slot = || SimFlash::with_write_through(vec![0xFF; slot_bytes], FileThrough(None));
    FlashSlots::new(slot(), slot())
}

/// Two slots of `slot_bytes` each backed by `path`: created erased if missing or empty,
/// else read back (it must then be exactly two slots long).
pub fn open_file(path: &Path, slot_bytes: usize) -> Result<FlashSlots<SimFlash>, String> {
    let what = |e: std::io::Error| format!("--flash {}: {e}", path.display());
    let mut f = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(what)?;
    let want = 2 * slot_bytes;
    let len = f.metadata().map_err(what)?.len();
    let mut mem = vec![0xFF; want];
    if len == 0 {
        f.write_all(&mem)
            .and_then(|()| f.sync_all())
            .map_err(what)?;
    } else if len != want as u64 {
        return Err(format!(
            "--flash {}: {len} bytes, expected {want} (two slots of {slot_bytes}); \
             use the --slot-bytes it was made with, or a new file",
            path.display()
        ));
    } else {
        f.read_exact(&mut mem).map_err(what)?;
    }
    let file = Arc::new(Mutex::new(f));
    let b = mem.split_off(slot_bytes);
    Ok(FlashSlots::new(
        SimFlash::with_write_through(mem, FileThrough(Some((file.clone(), 0)))),
        SimFlash::with_write_through(b, FileThrough(Some((file, slot_bytes as u64)))),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_storage::nor_flash::NorFlash;
    use neuroloop_firmware::flash::FlashSlot;

    #[test]
    fn file_backed_slots_keep_what_was_written_and_refuse_a_wrong_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("flash.bin");
        let n = slot_bytes_for(5000);
        assert_eq!(n, 8192);
        let mut s = open_file(&p, n).unwrap();
        assert!(s.slot(1).mapped().iter().all(|&b| b == 0xFF));
        NorFlash::write(s.slot_mut(1), 8, &[0x0F, 0xF0, 0x00, 0xAA]).unwrap();
        NorFlash::write(s.slot_mut(1), 8, &[0xFF, 0xFF, 0xFF, 0x0F]).unwrap();
        drop(s);
        let s = open_file(&p, n).unwrap();
        assert_eq!(&s.slot(1).mapped()[8..12], &[0x0F, 0xF0, 0x00, 0x0A]);
        assert_eq!(s.slot(0).mapped(), &vec![0xFF; n][..]);
        let err = open_file(&p, 4096).unwrap_err();
        assert!(err.contains("16384 bytes, expected 8192"), "{err}");
    }
}
