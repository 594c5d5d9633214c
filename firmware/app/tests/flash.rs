//! Persistent A/B model slots on a mock NOR flash that loses power after a given number
//! of byte writes / sector erases: a cut at every point of an upload leaves a board that
//! boots the old model or the new one, never neither.

use std::cell::Cell;
use std::rc::Rc;

mod common;

use common::{fresh_flash as fresh, MockSlot, SECTOR};
use neuroloop_core::protocol::MAX_CHUNK;
use neuroloop_core::Model;
use neuroloop_firmware::flash::{FlashSlots, Header};
use neuroloop_firmware::testing::{random_blob, NetSpec};

/// The firmware's upload sequence: target, erase, chunks, check the decode, commit.
fn upload(flash: &mut FlashSlots<MockSlot>, blob: &[u8]) -> Result<(), String> {
    let (slot, generation) = flash.target();
    let mut w = flash.begin(slot, blob.len()).map_err(|e| e.to_string())?;
    for c in blob.chunks(MAX_CHUNK) {
        flash.write(&mut w, c).map_err(|e| e.to_string())?;
    }
    flash.finish(&mut w).map_err(|e| e.to_string())?;
    let model_crc = Model::from_bytes(flash.blob(slot, blob.len()))
        .map_err(|e| e.to_string())?
        .crc();
    let h = Header {
        generation,
        len: blob.len() as u32,
        model_crc,
    };
    flash.commit(slot, h).map_err(|e| e.to_string())
}

fn booted_crc(flash: &FlashSlots<MockSlot>) -> Option<u32> {
    flash.boot().map(|(_, _, m)| m.crc())
}

#[test]
fn boot_runs_the_newest_committed_model_in_place() {
    let power = Rc::new(Cell::new(usize::MAX));
    let mut flash = fresh(4 * SECTOR, &power);
    assert!(flash.boot().is_none(), "blank flash: built-in model");
    let a = random_blob(&NetSpec::new(2, 20, 2, 1, 0, 1));
    let b = random_blob(&NetSpec::new(3, 24, 1, 2, 1, 2));
    let c = random_blob(&NetSpec::new(2, 16, 2, 1, 2, 3));
    let crc = |x: &[u8]| Model::from_bytes(x).unwrap().crc();
    upload(&mut flash, &a).unwrap();
    assert_eq!(
        flash.boot().map(|(i, h, _)| (i, h.generation)),
        Some((0, 1))
    );
    upload(&mut flash, &b).unwrap();
    assert_eq!(
        flash.boot().map(|(i, h, _)| (i, h.generation)),
        Some((1, 2))
    );
    upload(&mut flash, &c).unwrap();
    let (i, h, m) = flash.boot().unwrap();
    assert_eq!((i, h.generation, m.crc()), (0, 3, crc(&c)));
    // Zero-copy: the model's bytes are the slot's.
    let blob = flash.blob(0, c.len());
    assert_eq!(blob, &c[..]);
    // A blob too large for the slot is refused before anything is erased.
    assert!(flash.begin(1, 4 * SECTOR).is_err());
    assert_eq!(booted_crc(&flash), Some(crc(&c)));
}

#[test]
fn a_corrupt_newest_slot_falls_back_to_the_other() {
    let power = Rc::new(Cell::new(usize::MAX));
    let mut flash = fresh(4 * SECTOR, &power);
    let a = random_blob(&NetSpec::new(2, 20, 2, 1, 0, 1));
    let b = random_blob(&NetSpec::new(3, 24, 1, 2, 1, 2));
    upload(&mut flash, &a).unwrap();
    upload(&mut flash, &b).unwrap();
    // Flip one bit of B's blob: its decode fails (blob CRC), A boots, and the next upload
    // goes to B again (never over the model that boots).
    flash.slot_mut(1).mem[100] ^= 0x01;
    assert_eq!(
        booted_crc(&flash),
        Some(Model::from_bytes(&a).unwrap().crc())
    );
    assert_eq!(flash.target(), (1, 3));
}

#[test]
fn power_cut_at_every_write_offset_leaves_old_or_new_model() {
    let older = random_blob(&NetSpec::new(2, 16, 1, 1, 2, 10));
    let old = random_blob(&NetSpec::new(2, 24, 2, 1, 0, 11));
    let new = random_blob(&NetSpec::new(3, 30, 2, 2, 1, 12));
    let (crc_old, crc_new) = (
        Model::from_bytes(&old).unwrap().crc(),
        Model::from_bytes(&new).unwrap().crc(),
    );
    let slot_bytes = 4 * SECTOR;
    // Operations one full upload takes: sectors erased + bytes written (pages + header).
    let pages = new.len().div_ceil(256);
    let total = slot_bytes / SECTOR + pages * 256 + 256;
    // The header is valid once its first 20 bytes are written: from that cut on the new
    // model boots, before it the old one.
    let commit_point = total - 256 + 20;
    // Two starting points: the old model alone (slot A), and old over an older one.
    for history in [1usize, 2] {
        for cut in 0..=total {
            let power = Rc::new(Cell::new(usize::MAX));
            let mut flash = fresh(slot_bytes, &power);
            if history == 2 {
                upload(&mut flash, &older).unwrap();
            }
            upload(&mut flash, &old).unwrap();
            power.set(cut);
            let done = upload(&mut flash, &new).is_ok();
            power.set(usize::MAX); // reboot with power back
            let got = booted_crc(&flash);
            assert!(
                got == Some(crc_old) || got == Some(crc_new),
                "history {history}, cut after {cut} of {total} operations: boots {got:?}"
            );
            if done {
                assert_eq!(got, Some(crc_new), "a completed upload boots the new model");
            }
            let want = if cut >= commit_point {
                crc_new
            } else {
                crc_old
            };
            assert_eq!(got, Some(want), "history {history}, cut {cut}");
        }
    }
}

/// Must-show 6: on the Pico build a ≈ 135 KB N_rec 256 i16 blob fits a flash slot
/// (`RP_PICO_SLOT_BYTES`, which the board uses), and boots from it.
#[test]
fn n_rec_256_i16_blob_fits_the_pico_slot() {
    use neuroloop_firmware::flash::{blob_capacity, RP_PICO_SLOT_BYTES};
    let blob = random_blob(&NetSpec::new(2, 256, 2, 2, 1, 7));
    let cap = blob_capacity(RP_PICO_SLOT_BYTES);
    eprintln!(
        "N_rec 256 i16 blob: {} B; Pico flash slot {} B holds blobs up to {} B",
        blob.len(),
        RP_PICO_SLOT_BYTES,
        cap
    );
    assert!(blob.len() > 130_000, "{} B", blob.len());
    assert!(blob.len() <= cap, "{} B > {cap} B", blob.len());
    let power = Rc::new(Cell::new(usize::MAX));
    let mut flash = fresh(RP_PICO_SLOT_BYTES, &power);
    assert_eq!(flash.blob_capacity(), cap);
    upload(&mut flash, &blob).unwrap();
    assert_eq!(
        booted_crc(&flash),
        Some(Model::from_bytes(&blob).unwrap().crc())
    );
}

#[test]
fn range_checks_name_misalignment_and_overrun() {
    use embedded_storage::nor_flash::NorFlashErrorKind as K;
    use neuroloop_firmware::flash::{check_range, read_mapped};
    assert_eq!(check_range(0, 4096, 4096, 8192), Ok(()));
    assert_eq!(check_range(4096, 8192, 4096, 8192), Ok(()));
    assert_eq!(check_range(1, 4096, 4096, 8192), Err(K::NotAligned));
    assert_eq!(check_range(0, 4095, 4096, 8192), Err(K::NotAligned));
    assert_eq!(check_range(4096, 0, 4096, 8192), Err(K::OutOfBounds));
    assert_eq!(check_range(0, 12288, 4096, 8192), Err(K::OutOfBounds));

    let mem: Vec<u8> = (0..=255).collect();
    let mut out = [0u8; 3];
    assert_eq!(read_mapped(&mem, 253, &mut out), Ok(()));
    assert_eq!(out, [253, 254, 255]);
    let mut out = [7u8; 4];
    assert_eq!(read_mapped(&mem, 253, &mut out), Err(K::OutOfBounds));
    assert_eq!(out, [7; 4], "nothing copied on a refused read");
    assert_eq!(read_mapped(&mem, u32::MAX, &mut out), Err(K::OutOfBounds));
}
