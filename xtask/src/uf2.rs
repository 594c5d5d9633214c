//! `cargo xtask uf2`: the Raspberry Pi Pico firmware as a `.uf2` file, to flash a Pico
//! without a debug probe (hold BOOTSEL, plug it in, copy the file to the RPI-RP2 drive).
//!
//! UF2 is a sequence of 512-byte blocks, each self-describing: two start magics, flags,
//! the target address, the payload size, the block number, the block count, the family ID,
//! 476 data bytes, an end magic (all words little-endian). The RP2040 boot ROM takes only
//! 256-byte payloads at 256-byte-aligned flash addresses, with the family ID present (flag
//! `0x2000`) and equal to [`RP2040_FAMILY`]. The image is the ELF's `PT_LOAD` segments at
//! their *physical* (load) addresses, so `.data`, which runs from RAM, is stored where the
//! startup code copies it from; every 256-byte flash page a segment touches becomes one
//! block, zero-filled where no segment has bytes (as the Pico SDK's `elf2uf2` does).
//!
//! The ELF is read with `object`. The block writer is written by hand: no crate on
//! crates.io converts ELF to UF2 as a library (`elf2uf2-rs` ships a binary only; `uf2` 0.1
//! converts one flat binary from one start address; `uf2_block` packs a single block), and
//! the format is the few lines of [`blocks`].
//!
//! `cargo xtask uf2` checks what it wrote ([`verify`]: every block decoded again and every
//! loadable byte of the ELF found at its address), and `cargo xtask test` converts the
//! freshly built Pico firmware the same way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use object::elf::{EM_ARM, PT_LOAD};
use object::read::elf::{ElfFile32, FileHeader, ProgramHeader};
use object::Endianness;

use crate::firmware::PICO;

/// UF2 family ID of the RP2040.
pub const RP2040_FAMILY: u32 = 0xE48B_FF56;
/// First start magic ("UF2\n").
const MAGIC_START0: u32 = 0x0A32_4655;
/// Second start magic.
const MAGIC_START1: u32 = 0x9E5D_5157;
/// End magic.
const MAGIC_END: u32 = 0x0AB1_6F30;
/// Flag: the family ID field is present.
const FLAG_FAMILY_ID: u32 = 0x0000_2000;
/// Bytes of a block.
const BLOCK: usize = 512;
/// Payload bytes per block (one RP2040 flash page).
const PAGE: u32 = 256;
/// The RP2040's flash as the boot ROM writes it (the XIP window, 16 MiB).
const FLASH: std::ops::Range<u32> = 0x1000_0000..0x1100_0000;

/// `cargo xtask uf2`: build the Pico firmware (release), write `<elf>.uf2` beside it,
/// verify it, print its path and size.
pub fn uf2() -> Result<(), String> {
    let elf = PICO.build()?;
    let (out, blocks) = write(&elf)?;
    println!("{}", out.display());
    println!(
        "{} bytes: {blocks} blocks, {PAGE}-byte payloads from 0x{:08x}, family 0x{RP2040_FAMILY:08x} \
         (RP2040); every loadable byte of the ELF checked",
        blocks * BLOCK,
        FLASH.start
    );
    println!("flash it: hold BOOTSEL, plug the Pico in, copy the file to the RPI-RP2 drive");
    Ok(())
}

/// Convert `elf` to `<elf>.uf2` and verify it: `(path, blocks)`.
fn write(elf: &Path) -> Result<(PathBuf, usize), String> {
    let bytes = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let segments = load_segments(&bytes).map_err(|e| format!("{}: {e}", elf.display()))?;
    let uf2 = blocks(&segments, RP2040_FAMILY)?;
    verify(&uf2, &segments, RP2040_FAMILY)?;
    let out = elf.with_extension("uf2");
    std::fs::write(&out, &uf2).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok((out, uf2.len() / BLOCK))
}

/// A loadable segment's file bytes at its physical address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Load (physical) address.
    pub addr: u32,
    /// The bytes the file holds for it (`p_filesz`; the zeroed rest is not stored).
    pub data: &'a [u8],
}

/// The `PT_LOAD` segments with file bytes of a 32-bit little-endian ARM ELF, by address;
/// an error names what is wrong (not ELF32/ARM, a segment outside the RP2040's flash, two
/// overlapping, none at all).
pub fn load_segments(elf: &[u8]) -> Result<Vec<Segment<'_>>, String> {
    let file =
        ElfFile32::<Endianness>::parse(elf).map_err(|e| format!("not an ELF32 file: {e}"))?;
    let endian = file.endian();
    let machine = file.elf_header().e_machine(endian);
    if machine != EM_ARM {
        return Err(format!("ELF machine {machine}, expected ARM ({EM_ARM})"));
    }
    let mut segments = Vec::new();
    for (i, ph) in file.elf_program_headers().iter().enumerate() {
        if ph.p_type(endian) != PT_LOAD || ph.p_filesz(endian) == 0 {
            continue;
        }
        let addr = ph.p_paddr(endian);
        let data = ph
            .data(endian, elf)
            .map_err(|()| format!("segment {i}: file bytes past the end of the file"))?;
        let end = u64::from(addr) + data.len() as u64;
        if !FLASH.contains(&addr) || end > u64::from(FLASH.end) {
            return Err(format!(
                "segment {i} at 0x{addr:08x}..0x{end:08x} is outside the RP2040 flash \
                 (0x{:08x}..0x{:08x}): not a flash image",
                FLASH.start, FLASH.end
            ));
        }
        segments.push(Segment { addr, data });
    }
    segments.sort_by_key(|s| s.addr);
    for w in segments.windows(2) {
        if u64::from(w[0].addr) + w[0].data.len() as u64 > u64::from(w[1].addr) {
            return Err(format!(
                "segments at 0x{:08x} ({} bytes) and 0x{:08x} overlap",
                w[0].addr,
                w[0].data.len(),
                w[1].addr
            ));
        }
    }
    if segments.is_empty() {
        return Err("no loadable segment with file bytes".to_string());
    }
    Ok(segments)
}

/// The UF2 image of `segments` (sorted, non-overlapping): one block per 256-byte page any
/// of them touches, in address order.
pub fn blocks(segments: &[Segment<'_>], family: u32) -> Result<Vec<u8>, String> {
    let mut pages: BTreeMap<u32, [u8; PAGE as usize]> = BTreeMap::new();
    for s in segments {
        for (k, &b) in s.data.iter().enumerate() {
            let at = s.addr + k as u32;
            pages.entry(at & !(PAGE - 1)).or_insert([0; PAGE as usize])[(at % PAGE) as usize] = b;
        }
    }
    let count = u32::try_from(pages.len()).map_err(|_| "too many pages".to_string())?;
    let mut out = Vec::with_capacity(pages.len() * BLOCK);
    for (n, (addr, page)) in pages.iter().enumerate() {
        let header = [
            MAGIC_START0,
            MAGIC_START1,
            FLAG_FAMILY_ID,
            *addr,
            PAGE,
            n as u32,
            count,
            family,
        ];
        header.iter().for_each(|w| out.extend(w.to_le_bytes()));
        out.extend(page);
        out.resize(out.len() + BLOCK - 32 - PAGE as usize - 4, 0);
        out.extend(MAGIC_END.to_le_bytes());
    }
    Ok(out)
}

/// Decode `uf2` again and check it against `segments`: every block well-formed (magics,
/// flags, family, 256-byte payload at a page address, numbered 0..count in order, addresses
/// increasing), every segment byte found at its address, and no byte outside a segment
/// other than zero.
pub fn verify(uf2: &[u8], segments: &[Segment<'_>], family: u32) -> Result<(), String> {
    if uf2.is_empty() || !uf2.chunks_exact(BLOCK).remainder().is_empty() {
        return Err(format!(
            "UF2 of {} bytes: not whole 512-byte blocks",
            uf2.len()
        ));
    }
    let count = uf2.len() / BLOCK;
    let mut image: BTreeMap<u32, u8> = BTreeMap::new();
    let mut last: Option<u32> = None;
    for (n, b) in uf2.chunks_exact(BLOCK).enumerate() {
        let w = |i: usize| u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap());
        let end = u32::from_le_bytes(b[BLOCK - 4..].try_into().unwrap());
        let expect = [
            ("start magic 0", w(0), MAGIC_START0),
            ("start magic 1", w(1), MAGIC_START1),
            ("flags", w(2), FLAG_FAMILY_ID),
            ("payload size", w(4), PAGE),
            ("block number", w(5), n as u32),
            ("block count", w(6), count as u32),
            ("family ID", w(7), family),
            ("end magic", end, MAGIC_END),
        ];
        for (what, got, want) in expect {
            if got != want {
                return Err(format!(
                    "block {n}: {what} 0x{got:08x}, expected 0x{want:08x}"
                ));
            }
        }
        let addr = w(3);
        if addr % PAGE != 0 || last.is_some_and(|l| addr <= l) {
            return Err(format!(
                "block {n}: address 0x{addr:08x} not page-aligned and increasing"
            ));
        }
        last = Some(addr);
        for (k, &v) in b[32..32 + PAGE as usize].iter().enumerate() {
            image.insert(addr + k as u32, v);
        }
    }
    for s in segments {
        for (k, &v) in s.data.iter().enumerate() {
            let at = s.addr + k as u32;
            match image.remove(&at) {
                Some(got) if got == v => {}
                got => {
                    return Err(format!(
                        "byte at 0x{at:08x}: UF2 has {got:?}, the ELF 0x{v:02x}"
                    ))
                }
            }
        }
    }
    match image.iter().find(|(_, &v)| v != 0) {
        Some((at, v)) => Err(format!(
            "byte 0x{v:02x} at 0x{at:08x} belongs to no segment"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF32 little-endian ARM executable: `(type, paddr, vaddr, file bytes,
    /// memsz)` program headers, data after them.
    fn elf(segments: &[(u32, u32, u32, &[u8], u32)], machine: u16) -> Vec<u8> {
        let phoff = 52u32;
        let mut data_off = phoff + 32 * segments.len() as u32;
        let mut out = vec![0x7f, b'E', b'L', b'F', 1, 1, 1, 0];
        out.resize(16, 0);
        out.extend(2u16.to_le_bytes()); // ET_EXEC
        out.extend(machine.to_le_bytes());
        out.extend(1u32.to_le_bytes()); // version
        out.extend(0x1000_0101u32.to_le_bytes()); // entry
        out.extend(phoff.to_le_bytes());
        out.extend(0u32.to_le_bytes()); // shoff
        out.extend(0x0500_0400u32.to_le_bytes()); // flags
        out.extend(52u16.to_le_bytes());
        out.extend(32u16.to_le_bytes());
        out.extend((segments.len() as u16).to_le_bytes());
        out.extend([40u16, 0, 0].iter().flat_map(|v| v.to_le_bytes()));
        assert_eq!(out.len(), 52);
        for &(ty, paddr, vaddr, bytes, memsz) in segments {
            let fields = [ty, data_off, vaddr, paddr, bytes.len() as u32, memsz, 5, 4];
            fields.iter().for_each(|w| out.extend(w.to_le_bytes()));
            data_off += bytes.len() as u32;
        }
        for s in segments {
            out.extend(s.3);
        }
        out
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed) | 1)
            .collect()
    }

    fn word(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// Like the Pico's ELF: BOOT2 (one page), vectors + text ending mid-page, rodata
    /// starting in that page, `.data` run from RAM but loaded after rodata (paddr ≠ vaddr,
    /// memsz > filesz), `.bss` with no file bytes in RAM, a non-LOAD note.
    #[test]
    fn blocks_cover_every_segment_byte_at_its_load_address() {
        let boot2 = pattern(256, 3);
        let text = pattern(300, 11); // 0x1000_0100..0x1000_022c
        let rodata = pattern(200, 29); // 0x1000_0230..0x1000_02f8
        let data = pattern(70, 41); // LMA 0x1000_02f8, VMA 0x2000_0000
        let image = elf(
            &[
                (1, 0x1000_0000, 0x1000_0000, &boot2, 256),
                (1, 0x1000_0100, 0x1000_0100, &text, 300),
                (1, 0x1000_0230, 0x1000_0230, &rodata, 200),
                (1, 0x1000_02f8, 0x2000_0000, &data, 100),
                (1, 0x2000_0064, 0x2000_0064, &[], 4096),
                (4, 0, 0, b"note", 4),
            ],
            40,
        );
        let segs = load_segments(&image).unwrap();
        assert_eq!(segs.len(), 4, "the .bss and the note carry no bytes");
        let uf2 = blocks(&segs, RP2040_FAMILY).unwrap();
        // 0x1000_0000..0x1000_033e: pages 0x000, 0x100, 0x200, 0x300.
        assert_eq!(uf2.len(), 4 * 512);
        for (n, b) in uf2.chunks_exact(512).enumerate() {
            assert_eq!(word(b, 0), 0x0A32_4655, "block {n}");
            assert_eq!(word(b, 4), 0x9E5D_5157, "block {n}");
            assert_eq!(word(b, 8), 0x2000, "block {n}");
            assert_eq!(word(b, 12), 0x1000_0000 + 256 * n as u32, "block {n}");
            assert_eq!(word(b, 16), 256, "block {n}");
            assert_eq!(word(b, 20), n as u32, "block {n}");
            assert_eq!(word(b, 24), 4, "block {n}");
            assert_eq!(word(b, 28), 0xE48B_FF56, "block {n}");
            assert_eq!(word(b, 508), 0x0AB1_6F30, "block {n}");
            assert!(b[288..508].iter().all(|&v| v == 0), "block {n} padding");
        }
        // The flat image the blocks describe, against the segments byte for byte.
        let flat: Vec<u8> = uf2
            .chunks_exact(512)
            .flat_map(|b| b[32..288].to_vec())
            .collect();
        assert_eq!(flat[..256], boot2[..]);
        assert_eq!(flat[0x100..0x22c], text[..]);
        assert_eq!(flat[0x22c..0x230], [0; 4], "gap between text and rodata");
        assert_eq!(flat[0x230..0x2f8], rodata[..]);
        assert_eq!(flat[0x2f8..0x33e], data[..], ".data at its load address");
        assert!(
            flat[0x33e..].iter().all(|&v| v == 0),
            "tail of the last page"
        );
        verify(&uf2, &segs, RP2040_FAMILY).unwrap();
    }

    #[test]
    fn untouched_pages_get_no_block() {
        let a = pattern(10, 1);
        let b = pattern(10, 2);
        let image = elf(
            &[
                (1, 0x1000_1000, 0x1000_1000, &b, 10),
                (1, 0x1000_0000, 0x1000_0000, &a, 10),
            ],
            40,
        );
        let segs = load_segments(&image).unwrap();
        assert_eq!(segs[0].addr, 0x1000_0000, "sorted by address");
        let uf2 = blocks(&segs, RP2040_FAMILY).unwrap();
        assert_eq!(uf2.len(), 2 * 512);
        assert_eq!(word(&uf2, 12), 0x1000_0000);
        assert_eq!(word(&uf2, 512 + 12), 0x1000_1000);
        assert_eq!(word(&uf2, 512 + 24), 2);
        verify(&uf2, &segs, RP2040_FAMILY).unwrap();
    }

    #[test]
    fn verify_catches_a_changed_byte_block_number_or_magic() {
        let text = pattern(600, 5);
        let image = elf(&[(1, 0x1000_0000, 0x1000_0000, &text, 600)], 40);
        let segs = load_segments(&image).unwrap();
        let good = blocks(&segs, RP2040_FAMILY).unwrap();
        let broken = |at: usize, v: u8| {
            let mut b = good.clone();
            b[at] ^= v;
            verify(&b, &segs, RP2040_FAMILY).unwrap_err()
        };
        assert!(broken(512 + 32 + 7, 1).contains("byte at 0x10000107"));
        assert!(broken(512 + 20, 1).contains("block number"));
        assert!(broken(1024 + 508, 1).contains("end magic"));
        assert!(broken(1024 + 32 + 100, 0xff).contains("belongs to no segment"));
        assert!(broken(28, 1).contains("family ID"));
        let short = &good[..1000];
        assert!(verify(short, &segs, RP2040_FAMILY)
            .unwrap_err()
            .contains("1000 bytes"));
    }

    #[test]
    fn bad_elves_are_refused_with_what_is_wrong() {
        let x = pattern(16, 0);
        let ram = elf(&[(1, 0x2000_0000, 0x2000_0000, &x, 16)], 40);
        assert!(load_segments(&ram)
            .unwrap_err()
            .contains("segment 0 at 0x20000000..0x20000010 is outside the RP2040 flash"));
        let overlap = elf(
            &[
                (1, 0x1000_0000, 0x1000_0000, &x, 16),
                (1, 0x1000_0008, 0x1000_0008, &x, 16),
            ],
            40,
        );
        assert!(load_segments(&overlap)
            .unwrap_err()
            .contains("segments at 0x10000000 (16 bytes) and 0x10000008 overlap"));
        let x86 = elf(&[(1, 0x1000_0000, 0x1000_0000, &x, 16)], 3);
        assert!(load_segments(&x86).unwrap_err().contains("ELF machine 3"));
        let empty = elf(&[(1, 0x2000_0000, 0x2000_0000, &[], 64)], 40);
        assert!(load_segments(&empty)
            .unwrap_err()
            .contains("no loadable segment"));
        assert!(load_segments(b"MZ not an elf")
            .unwrap_err()
            .contains("not an ELF32"));
        let mut truncated = elf(&[(1, 0x1000_0000, 0x1000_0000, &x, 16)], 40);
        truncated.truncate(truncated.len() - 4);
        assert!(load_segments(&truncated)
            .unwrap_err()
            .contains("past the end"));
    }
}
