//! Persistent models: two flash slots (A/B) over the `embedded-storage` [`NorFlash`]
//! traits, so that a power cut at any point of an upload leaves a bootable model.
//!
//! Each slot is one region of its own ([`FlashSlot`]: a `NorFlash` plus its
//! memory-mapped view, so the running model is decoded in place — XIP on a real board,
//! zero-copy):
//!
//! ```text
//! slot: [ blob (len bytes) | 0xFF … | header page (last WRITE_PAGE bytes) ]
//! header: magic "NLSL" u32 LE, generation u32, len u32, model CRC u32, CRC-32 of the 16 bytes before
//! ```
//!
//! An upload goes to the slot *not* holding the newest valid header: the slot is erased,
//! the blob written page by page, and the header written last. The header is the commit:
//! until it is whole, the slot has no valid header and boot takes the other slot (or the
//! built-in model); once whole, its generation is the highest. At boot
//! ([`FlashSlots::boot`]) the newest slot whose header checks out and whose blob decodes
//! (`Model::from_bytes`: every field and the blob's own CRC, which must equal the header's)
//! runs; a slot failing either is skipped.
//!
//! Written by hand: the layout is a few lines, and the A/B commit order is the point.

use embedded_storage::nor_flash::NorFlash;
use neuroloop_core::blob::CRC;
use neuroloop_core::Model;

/// A flash slot: erasable, writable, and readable in place.
pub trait FlashSlot: NorFlash {
    /// The whole slot as memory (XIP mapping on a board; the buffer in host tests).
    fn mapped(&self) -> &[u8];
}

/// Write granularity used for the blob and the header: 256 bytes (the RP2040's page;
/// `NorFlash::WRITE_SIZE` must divide it).
pub const WRITE_PAGE: usize = 256;
const MAGIC: u32 = u32::from_le_bytes(*b"NLSL");

/// A slot's valid header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Commit number: the newest slot has the highest.
    pub generation: u32,
    /// Blob length.
    pub len: u32,
    /// The blob's own CRC (`Model::crc`).
    pub model_crc: u32,
}

impl Header {
    fn encode(&self) -> [u8; 20] {
        let mut h = [0u8; 20];
        h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        h[4..8].copy_from_slice(&self.generation.to_le_bytes());
        h[8..12].copy_from_slice(&self.len.to_le_bytes());
        h[12..16].copy_from_slice(&self.model_crc.to_le_bytes());
        let c = CRC.checksum(&h[..16]);
        h[16..20].copy_from_slice(&c.to_le_bytes());
        h
    }

    fn decode(b: &[u8], max_len: usize) -> Option<Header> {
        let word = |i: usize| Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?));
        if word(0)? != MAGIC || word(16)? != CRC.checksum(b.get(..16)?) {
            return None;
        }
        let h = Header {
            generation: word(4)?,
            len: word(8)?,
            model_crc: word(12)?,
        };
        (h.len as usize <= max_len).then_some(h)
    }
}

/// Why a flash operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// The blob does not fit the slot.
    TooLarge,
    /// The flash refused an erase.
    Erase,
    /// The flash refused a write.
    Write,
}

impl core::fmt::Display for FlashError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FlashError::TooLarge => "blob larger than the flash slot",
            FlashError::Erase => "flash erase failed",
            FlashError::Write => "flash write failed",
        })
    }
}

/// The two slots.
#[derive(Debug)]
pub struct FlashSlots<F> {
    slots: [F; 2],
}

impl<F: FlashSlot> FlashSlots<F> {
    /// Slots A and B (same capacity, a multiple of the erase size).
    pub fn new(a: F, b: F) -> Self {
        FlashSlots { slots: [a, b] }
    }

    /// Bytes a blob may have.
    pub fn blob_capacity(&self) -> usize {
        self.slots[0].capacity().saturating_sub(WRITE_PAGE)
    }

    /// Slot `i`'s header, if whole and valid.
    pub fn header(&self, i: usize) -> Option<Header> {
        let m = self.slots[i].mapped();
        let at = m.len().checked_sub(WRITE_PAGE)?;
        Header::decode(&m[at..], at)
    }

    /// Slots with a valid header, newest first.
    fn by_generation(&self) -> [Option<(usize, Header)>; 2] {
        let (a, b) = (
            self.header(0).map(|h| (0, h)),
            self.header(1).map(|h| (1, h)),
        );
        match (a, b) {
            (Some(x), Some(y)) if y.1.generation > x.1.generation => [Some(y), Some(x)],
            (None, y) => [y, None],
            (x, y) => [x, y],
        }
    }

    /// The newest slot whose header checks out and whose blob decodes with the header's
    /// CRC: `(slot, header, model)`. `None`: no persisted model (run the built-in one).
    pub fn boot(&self) -> Option<(usize, Header, Model<'_>)> {
        self.by_generation()
            .into_iter()
            .flatten()
            .find_map(|(i, h)| {
                let blob = self.slots[i].mapped().get(..h.len as usize)?;
                let m = Model::from_bytes(blob).ok()?;
                (m.crc() == h.model_crc).then_some((i, h, m))
            })
    }

    /// The slot an upload goes to — never the one [`FlashSlots::boot`] would run, so
    /// that model survives any cut — and the generation it will commit with (one above
    /// every valid header).
    pub fn target(&self) -> (usize, u32) {
        let newest = self.by_generation()[0].map_or(0, |(_, h)| h.generation);
        let slot = self.boot().map_or(0, |(i, _, _)| 1 - i);
        (slot, newest.wrapping_add(1))
    }

    /// Start writing a blob of `len` bytes into `slot`: erases it (its header first goes,
    /// so a cut from here on leaves it invalid).
    pub fn begin(&mut self, slot: usize, len: usize) -> Result<SlotWriter, FlashError> {
        if len > self.blob_capacity() {
            return Err(FlashError::TooLarge);
        }
        let f = &mut self.slots[slot];
        let cap = f.capacity() as u32;
        // Header sector first: the slot is invalid before any of its blob changes.
        let sector = F::ERASE_SIZE as u32;
        f.erase(cap - sector, cap).map_err(|_| FlashError::Erase)?;
        f.erase(0, cap - sector).map_err(|_| FlashError::Erase)?;
        Ok(SlotWriter {
            slot,
            len,
            written: 0,
            page: [0xFF; WRITE_PAGE],
            fill: 0,
        })
    }

    /// Append `bytes` to the blob being written.
    pub fn write(&mut self, w: &mut SlotWriter, mut bytes: &[u8]) -> Result<(), FlashError> {
        if w.written + w.fill + bytes.len() > w.len {
            return Err(FlashError::TooLarge);
        }
        while !bytes.is_empty() {
            let n = (WRITE_PAGE - w.fill).min(bytes.len());
            w.page[w.fill..w.fill + n].copy_from_slice(&bytes[..n]);
            w.fill += n;
            bytes = &bytes[n..];
            if w.fill == WRITE_PAGE {
                self.flush(w)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, w: &mut SlotWriter) -> Result<(), FlashError> {
        if w.fill > 0 {
            let f = &mut self.slots[w.slot];
            f.write(w.written as u32, &w.page)
                .map_err(|_| FlashError::Write)?;
            w.written += w.fill;
            w.page = [0xFF; WRITE_PAGE];
            w.fill = 0;
        }
        Ok(())
    }

    /// Write the last partial page; the blob is then readable in [`FlashSlots::blob`].
    pub fn finish(&mut self, w: &mut SlotWriter) -> Result<(), FlashError> {
        self.flush(w)
    }

    /// The blob written to `slot` (its first `len` bytes), in place.
    pub fn blob(&self, slot: usize, len: usize) -> &[u8] {
        let m = self.slots[slot].mapped();
        &m[..len.min(m.len())]
    }

    /// Commit `slot`: write its header (the last write of an upload).
    pub fn commit(&mut self, slot: usize, header: Header) -> Result<(), FlashError> {
        let mut page = [0xFF; WRITE_PAGE];
        page[..20].copy_from_slice(&header.encode());
        let f = &mut self.slots[slot];
        let at = f.capacity() - WRITE_PAGE;
        f.write(at as u32, &page).map_err(|_| FlashError::Write)
    }

    /// Slot `i` (a board may need it, e.g. for its mapped address).
    pub fn slot(&self, i: usize) -> &F {
        &self.slots[i]
    }

    /// Slot `i`, mutably (tests corrupt it; a board never needs this).
    pub fn slot_mut(&mut self, i: usize) -> &mut F {
        &mut self.slots[i]
    }
}

/// A blob being written into a slot (see [`FlashSlots::begin`]).
#[derive(Debug)]
pub struct SlotWriter {
    slot: usize,
    len: usize,
    written: usize,
    page: [u8; WRITE_PAGE],
    fill: usize,
}

impl SlotWriter {
    /// The slot written.
    pub fn slot(&self) -> usize {
        self.slot
    }
}
