//! Persistent uploads through the app's protocol path, on a mock NOR flash: `UploadBegin
//! {persist}` → chunks → `UploadCommit`, "reboot" (a new device over the same flash), the
//! persisted model runs bit-exact with the core; refusals leave the old model; a power cut
//! at every write of an upload boots the old model or the new one.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::*;
use neuroloop_core::blob::CRC;
use neuroloop_core::protocol::{
    capability, DeviceMsg, HostMsg, Info, Mode, ModelStore, NackReason, Streams, MAX_CHUNK,
};
use neuroloop_core::Model;
use neuroloop_firmware::flash::{FlashSlot, WRITE_PAGE};
use neuroloop_firmware::testing::{discrimination_inputs, host_run, random_blob, NetSpec};
use neuroloop_firmware::DEFAULT_BLOB;

const SLOT_BYTES: usize = 4 * SECTOR;

fn info<F: FlashSlot>(d: &mut Dev<F>) -> (u32, ModelStore, u32, u32) {
    let f = d.request(HostMsg::GetInfo);
    match f[0].packet().unwrap().msg {
        DeviceMsg::Info(Info {
            model_crc,
            model_store,
            capabilities,
            flash_slot_bytes,
            ..
        }) => (model_crc, model_store, capabilities, flash_slot_bytes),
        other => panic!("expected Info, got {other:?}"),
    }
}

/// The running model's CRC and store.
fn running<F: FlashSlot>(d: &mut Dev<F>) -> (u32, ModelStore) {
    let (crc, store, _, _) = info(d);
    (crc, store)
}

fn crc_of(blob: &[u8]) -> u32 {
    Model::from_bytes(blob).unwrap().crc()
}

/// The reply to an upload's `UploadCommit` (the last frame).
fn commit_reply<F: FlashSlot>(d: &mut Dev<F>, blob: &[u8], persist: bool) -> String {
    let f = d.upload_to(blob, CRC.checksum(blob), blob.len(), persist);
    format!("{:?}", f.last().unwrap().packet().unwrap().msg)
}

fn lockstep_matches_core<F: FlashSlot>(d: &mut Dev<F>, blob: &[u8], seed: u64) {
    let n_in = Model::from_bytes(blob).unwrap().n_in();
    let inputs = discrimination_inputs(60, n_in, seed);
    assert_eq!(d.lockstep_outputs(&inputs), host_run(blob, &inputs));
}

#[test]
fn persistent_upload_boots_after_power_off_bit_exact() {
    let power = Rc::new(Cell::new(usize::MAX));
    let mut d = Dev::with_flash(fresh_flash(SLOT_BYTES, &power));
    let (crc, store, caps, flash_bytes) = info(&mut d);
    assert_eq!((crc, store), (crc_of(DEFAULT_BLOB), ModelStore::Builtin));
    assert_ne!(caps & capability::PERSIST, 0);
    assert_eq!(flash_bytes as usize, SLOT_BYTES - WRITE_PAGE);

    let a = random_blob(&NetSpec::new(2, 24, 2, 2, 1, 31));
    let b = random_blob(&NetSpec::new(3, 20, 1, 1, 0, 32));
    let r = commit_reply(&mut d, &a, true);
    assert!(r.starts_with("Ack"), "{r}");
    let flash_a = ModelStore::Flash {
        slot: 0,
        generation: 1,
    };
    assert_eq!(info(&mut d).1, flash_a);
    lockstep_matches_core(&mut d, &a, 1);

    // Power off and on: the persisted model runs, not the built-in one.
    let mut d = Dev::with_flash(d.power_off());
    assert_eq!(running(&mut d), (crc_of(&a), flash_a));
    lockstep_matches_core(&mut d, &a, 2);

    // The next persistent upload goes to slot B; a RAM upload after it is lost at
    // power-off and B boots.
    assert!(commit_reply(&mut d, &b, true).starts_with("Ack"));
    let flash_b = ModelStore::Flash {
        slot: 1,
        generation: 2,
    };
    assert_eq!(info(&mut d).1, flash_b);
    assert!(commit_reply(&mut d, &a, false).starts_with("Ack"));
    assert_eq!(info(&mut d).1, ModelStore::Ram { slot: 0 });
    let mut d = Dev::with_flash(d.power_off());
    assert_eq!(running(&mut d), (crc_of(&b), flash_b));
    lockstep_matches_core(&mut d, &b, 3);
    // A third one overwrites A (the older), never the running B.
    assert!(commit_reply(&mut d, &a, true).starts_with("Ack"));
    let mut d = Dev::with_flash(d.power_off());
    let flash_a3 = ModelStore::Flash {
        slot: 0,
        generation: 3,
    };
    assert_eq!(running(&mut d), (crc_of(&a), flash_a3));
}

#[test]
fn persistent_uploads_refused_clearly_and_the_old_model_stays() {
    let blob = random_blob(&NetSpec::new(2, 24, 2, 2, 1, 41));
    let crc = CRC.checksum(&blob);
    let begin = |persist| HostMsg::UploadBegin {
        len: blob.len() as u32,
        crc,
        persist,
    };
    // No flash: Unsupported, and Info says so.
    let mut plain = Dev::new();
    assert_eq!(plain.expect_nack(begin(true)), "Unsupported");
    let f = plain.request(HostMsg::GetInfo);
    match f[0].packet().unwrap().msg {
        DeviceMsg::Info(i) => {
            assert_eq!(
                (i.capabilities & capability::PERSIST, i.flash_slot_bytes),
                (0, 0)
            )
        }
        other => panic!("{other:?}"),
    }

    let power = Rc::new(Cell::new(usize::MAX));
    // Room for a model with more state than the device has (N_rec 210, i8).
    let slot_bytes = 16 * SECTOR;
    let mut d = Dev::with_flash(fresh_flash(slot_bytes, &power));
    assert!(commit_reply(&mut d, &blob, true).starts_with("Ack"));
    let good = running(&mut d);
    // Timer mode: Busy (an erase would stall the loop); fine again after Stop.
    d.expect_ack(HostMsg::Start {
        mode: Mode::Timer { rate_hz: 1000 },
        streams: Streams::default(),
    });
    assert_eq!(d.expect_nack(begin(true)), "Busy");
    d.expect_ack(HostMsg::Stop);
    // Timer mode started during a persistent upload: its chunks and commit are Busy
    // (the upload stays open); after Stop it completes.
    let other = random_blob(&NetSpec::new(2, 16, 2, 2, 0, 42));
    d.expect_ack(HostMsg::UploadBegin {
        len: other.len() as u32,
        crc: CRC.checksum(&other),
        persist: true,
    });
    d.expect_ack(HostMsg::Start {
        mode: Mode::Timer { rate_hz: 1000 },
        streams: Streams::default(),
    });
    let chunk = |bytes| HostMsg::UploadChunk { offset: 0, bytes };
    assert_eq!(d.expect_nack(chunk(&other)), "Busy");
    assert_eq!(d.expect_nack(HostMsg::UploadCommit), "Busy");
    d.expect_ack(HostMsg::Stop);
    d.expect_ack(chunk(&other));
    d.expect_ack(HostMsg::UploadCommit);
    assert_eq!(running(&mut d).0, crc_of(&other));
    assert!(commit_reply(&mut d, &blob, true).starts_with("Ack"));
    assert_eq!(
        running(&mut d),
        (
            good.0,
            ModelStore::Flash {
                slot: 0,
                generation: 3
            }
        )
    );
    let good = running(&mut d);
    // Too large for the flash slot.
    let max = (slot_bytes - WRITE_PAGE) as u32;
    let big = HostMsg::UploadBegin {
        len: max + 1,
        crc: 0,
        persist: true,
    };
    assert_eq!(
        d.expect_nack(big),
        format!("{:?}", NackReason::TooLarge { len: max + 1, max })
    );
    // Wrong CRC; a blob that does not decode; a model needing more state than the device
    // has: each refused, nothing committed, and after a reboot the good model runs.
    let f = d.upload_to(&blob, crc ^ 1, blob.len(), true);
    let last = format!("{:?}", f.last().unwrap().packet().unwrap().msg);
    assert!(last.contains("CrcMismatch"), "{last}");
    let mut bad = blob.clone();
    bad[40] ^= 0x10;
    let last = commit_reply(&mut d, &bad, true);
    assert!(last.contains("BadBlob"), "{last}");
    let huge = random_blob(&NetSpec::new(1, 210, 1, 1, 0, 5));
    assert!(huge.len() < slot_bytes - WRITE_PAGE);
    let last = commit_reply(&mut d, &huge, true);
    assert!(last.contains("state words"), "{last}");
    assert_eq!(running(&mut d), good);
    let mut d = Dev::with_flash(d.power_off());
    assert_eq!(running(&mut d), good);
    // A flash that fails mid-upload: Storage, with the flash's error.
    power.set(3);
    assert_eq!(
        d.expect_nack(begin(true)),
        format!(
            "{:?}",
            NackReason::Storage {
                detail: "flash erase failed"
            }
        )
    );
    power.set(usize::MAX);
    assert_eq!(running(&mut d), good);
}

/// Send a persistent upload, stopping at the first `Nack`; `true` if it was committed.
fn try_persist<F: FlashSlot>(d: &mut Dev<F>, blob: &[u8]) -> bool {
    let ok = |f: Vec<neuroloop_firmware::testing::RxFrame>| {
        matches!(
            f.last().unwrap().packet().unwrap().msg,
            DeviceMsg::Ack { .. }
        )
    };
    let begin = HostMsg::UploadBegin {
        len: blob.len() as u32,
        crc: CRC.checksum(blob),
        persist: true,
    };
    if !ok(d.request(begin)) {
        return false;
    }
    for (i, c) in blob.chunks(MAX_CHUNK).enumerate() {
        let chunk = HostMsg::UploadChunk {
            offset: (i * MAX_CHUNK) as u32,
            bytes: c,
        };
        if !ok(d.request(chunk)) {
            return false;
        }
    }
    ok(d.request(HostMsg::UploadCommit))
}

#[test]
fn power_cut_at_every_write_of_a_protocol_upload_boots_old_or_new() {
    let old = random_blob(&NetSpec::new(2, 24, 2, 1, 0, 51));
    let new = random_blob(&NetSpec::new(3, 30, 2, 2, 1, 52));
    let (crc_old, crc_new) = (crc_of(&old), crc_of(&new));
    // Operations one upload takes: sectors erased, then every byte of the pages and the
    // header page written. The header is valid once its first 20 bytes are.
    let total = SLOT_BYTES / SECTOR + new.len().div_ceil(WRITE_PAGE) * WRITE_PAGE + WRITE_PAGE;
    let commit_point = total - WRITE_PAGE + 20;
    let mut seen = [0usize; 2];
    for cut in 0..=total {
        let power = Rc::new(Cell::new(usize::MAX));
        let mut d = Dev::with_flash(fresh_flash(SLOT_BYTES, &power));
        assert!(try_persist(&mut d, &old));
        power.set(cut);
        let done = try_persist(&mut d, &new);
        power.set(usize::MAX);
        // Power off mid-way, and on again.
        let mut d = Dev::with_flash(d.power_off());
        let (crc, store) = running(&mut d);
        let want = if cut >= commit_point {
            crc_new
        } else {
            crc_old
        };
        assert_eq!(
            crc, want,
            "cut after {cut} of {total} operations: {store:?}"
        );
        assert_eq!(
            done,
            cut >= total,
            "cut {cut}: the upload completes only with power"
        );
        let (blob, generation) = if crc == crc_new { (&new, 2) } else { (&old, 1) };
        assert_eq!(
            store,
            ModelStore::Flash {
                slot: generation as u8 - 1,
                generation
            }
        );
        seen[generation as usize - 1] += 1;
        // Every 97th cut (and the edges): the booted model steps bit-exact.
        if cut % 97 == 0 || cut + 1 >= commit_point && cut <= commit_point {
            lockstep_matches_core(&mut d, blob, cut as u64);
        }
    }
    assert_eq!(seen, [commit_point, total + 1 - commit_point]);
}
