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

use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
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
/// Bytes of each flash slot on the Raspberry Pi Pico (the board crate uses it; here so a
/// host test checks that an N_rec 256 i16 blob fits): 160 KiB, the two at the top of the
/// 2 MiB flash.
pub const RP_PICO_SLOT_BYTES: usize = 160 * 1024;

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

impl FlashError {
    /// The message (also `Nack{Storage}`'s detail).
    pub fn as_str(&self) -> &'static str {
        match self {
            FlashError::TooLarge => "blob larger than the flash slot",
            FlashError::Erase => "flash erase failed",
            FlashError::Write => "flash write failed",
        }
    }
}

impl core::fmt::Display for FlashError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
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
        blob_capacity(self.slots[0].capacity())
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
        SlotWriter::begin(&mut self.slots[slot], slot, len)
    }

    /// Append `bytes` to the blob being written.
    pub fn write(&mut self, w: &mut SlotWriter, bytes: &[u8]) -> Result<(), FlashError> {
        w.write(&mut self.slots[w.slot], bytes)
    }

    /// Write the last partial page; the blob is then readable in [`FlashSlots::blob`].
    pub fn finish(&mut self, w: &mut SlotWriter) -> Result<(), FlashError> {
        w.finish(&mut self.slots[w.slot])
    }

    /// The blob written to `slot` (its first `len` bytes), in place.
    pub fn blob(&self, slot: usize, len: usize) -> &[u8] {
        let m = self.slots[slot].mapped();
        &m[..len.min(m.len())]
    }

    /// Commit `slot`: write its header (the last write of an upload).
    pub fn commit(&mut self, slot: usize, header: Header) -> Result<(), FlashError> {
        write_header(&mut self.slots[slot], header)
    }

    /// Slot `i` (a board may need it, e.g. for its mapped address).
    pub fn slot(&self, i: usize) -> &F {
        &self.slots[i]
    }

    /// Slot `i`, mutably (tests corrupt it; a board never needs this).
    pub fn slot_mut(&mut self, i: usize) -> &mut F {
        &mut self.slots[i]
    }

    /// The running slot (read) and the other one (to write), both borrowed at once.
    pub(crate) fn pair(&mut self, running: usize) -> (&F, &mut F) {
        let [a, b] = &mut self.slots;
        if running == 0 {
            (a, b)
        } else {
            (b, a)
        }
    }
}

/// One slot as the upload path sees it: object-safe (the app is not generic over the
/// board's flash type), implemented for every [`FlashSlot`].
pub trait SlotWrite {
    /// Erase `from..to` (multiples of [`SlotWrite::erase_size`]).
    fn erase(&mut self, from: u32, to: u32) -> Result<(), FlashError>;
    /// Program `bytes` at `offset` (multiples of the flash's write size).
    fn program(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FlashError>;
    /// Slot size, bytes.
    fn size(&self) -> usize;
    /// Erase sector size, bytes.
    fn erase_size(&self) -> usize;
    /// The slot as memory.
    fn bytes(&self) -> &[u8];
}

impl<F: FlashSlot> SlotWrite for F {
    fn erase(&mut self, from: u32, to: u32) -> Result<(), FlashError> {
        NorFlash::erase(self, from, to).map_err(|_| FlashError::Erase)
    }
    fn program(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FlashError> {
        NorFlash::write(self, offset, bytes).map_err(|_| FlashError::Write)
    }
    fn size(&self) -> usize {
        self.capacity()
    }
    fn erase_size(&self) -> usize {
        F::ERASE_SIZE
    }
    fn bytes(&self) -> &[u8] {
        self.mapped()
    }
}

/// Bytes a blob may have in a slot of `slot_bytes` (the last page is the header's).
pub const fn blob_capacity(slot_bytes: usize) -> usize {
    slot_bytes.saturating_sub(WRITE_PAGE)
}

/// Write `slot`'s header (the commit).
pub fn write_header(slot: &mut dyn SlotWrite, header: Header) -> Result<(), FlashError> {
    let mut page = [0xFF; WRITE_PAGE];
    page[..20].copy_from_slice(&header.encode());
    let at = slot.size() - WRITE_PAGE;
    slot.program(at as u32, &page)
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
    /// Start writing a blob of `len` bytes into `dev` (slot number `slot`): erases it,
    /// header sector first, so a cut from here on leaves the slot invalid.
    pub fn begin(dev: &mut dyn SlotWrite, slot: usize, len: usize) -> Result<Self, FlashError> {
        if len > blob_capacity(dev.size()) {
            return Err(FlashError::TooLarge);
        }
        let cap = dev.size() as u32;
        let sector = dev.erase_size() as u32;
        dev.erase(cap - sector, cap)?;
        dev.erase(0, cap - sector)?;
        Ok(SlotWriter {
            slot,
            len,
            written: 0,
            page: [0xFF; WRITE_PAGE],
            fill: 0,
        })
    }

    /// Append `bytes` to the blob.
    pub fn write(&mut self, dev: &mut dyn SlotWrite, mut bytes: &[u8]) -> Result<(), FlashError> {
        if self.written + self.fill + bytes.len() > self.len {
            return Err(FlashError::TooLarge);
        }
        while !bytes.is_empty() {
            let n = (WRITE_PAGE - self.fill).min(bytes.len());
            self.page[self.fill..self.fill + n].copy_from_slice(&bytes[..n]);
            self.fill += n;
            bytes = &bytes[n..];
            if self.fill == WRITE_PAGE {
                self.finish(dev)?;
            }
        }
        Ok(())
    }

    /// Write the last partial page (padded with 0xFF).
    pub fn finish(&mut self, dev: &mut dyn SlotWrite) -> Result<(), FlashError> {
        if self.fill > 0 {
            dev.program(self.written as u32, &self.page)?;
            self.written += self.fill;
            self.page = [0xFF; WRITE_PAGE];
            self.fill = 0;
        }
        Ok(())
    }

    /// The slot written.
    pub fn slot(&self) -> usize {
        self.slot
    }
}

/// The range check of every `NorFlash` operation on a slot of `capacity` bytes:
/// `from..to` must be aligned to `align` at both ends (`NotAligned`) and lie inside the
/// slot (`OutOfBounds`). Shared by [`NorMem`] and the boards' flash drivers.
pub fn check_range(
    from: u32,
    to: usize,
    align: usize,
    capacity: usize,
) -> Result<(), NorFlashErrorKind> {
    if from as usize % align != 0 || to % align != 0 {
        Err(NorFlashErrorKind::NotAligned)
    } else if from as usize > to || to > capacity {
        Err(NorFlashErrorKind::OutOfBounds)
    } else {
        Ok(())
    }
}

/// `ReadNorFlash::read` of a slot readable in place: `bytes` filled from `mapped` at
/// `offset`, or `OutOfBounds` (nothing copied) if the range leaves the slot.
pub fn read_mapped(mapped: &[u8], offset: u32, bytes: &mut [u8]) -> Result<(), NorFlashErrorKind> {
    let end = (offset as usize)
        .checked_add(bytes.len())
        .ok_or(NorFlashErrorKind::OutOfBounds)?;
    check_range(offset, end, 1, mapped.len())?;
    bytes.copy_from_slice(&mapped[offset as usize..end]);
    Ok(())
}

/// A [`FlashSlot`] over memory with NOR semantics (erase sets 0xFF in 4 KiB sectors, a
/// write only clears bits), each change then handed to a [`WriteThrough`]: over borrowed
/// RAM with nothing written through it is [`RamFlash`], the QEMU board's "flash" (lost
/// when QEMU exits) and host tests' slots; `neuroloop device-sim` owns its memory and
/// writes every change through to a file, so a persisted model survives a restart.
#[derive(Debug)]
pub struct NorMem<M, W = NoWriteThrough> {
    mem: M,
    through: W,
}

/// [`NorMem`] over borrowed RAM, nothing written through.
pub type RamFlash<'a> = NorMem<&'a mut [u8]>;

/// Where a [`NorMem`]'s changes go besides its memory (e.g. a backing file).
pub trait WriteThrough {
    /// `mem[from..to]` just changed (`mem` is the whole slot, after the change). An error
    /// fails the erase or write that caused it.
    fn changed(&mut self, mem: &[u8], from: usize, to: usize) -> Result<(), NorFlashErrorKind>;
}

/// Memory only: nothing written through.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoWriteThrough;

impl WriteThrough for NoWriteThrough {
    fn changed(&mut self, _: &[u8], _: usize, _: usize) -> Result<(), NorFlashErrorKind> {
        Ok(())
    }
}

impl<M: AsRef<[u8]> + AsMut<[u8]>> NorMem<M> {
    /// A slot over `mem` (its length a multiple of [`NorMem::SECTOR`]), contents kept:
    /// what was "flashed" before a simulated reboot is still there.
    pub fn new(mem: M) -> Self {
        Self::with_write_through(mem, NoWriteThrough)
    }
}

impl<M: AsRef<[u8]> + AsMut<[u8]>, W: WriteThrough> NorMem<M, W> {
    /// Sector size.
    pub const SECTOR: usize = 4096;

    /// A slot over `mem` (contents kept) whose every change also goes to `through`.
    pub fn with_write_through(mem: M, through: W) -> Self {
        NorMem { mem, through }
    }

    fn check(&self, from: u32, to: usize, align: usize) -> Result<(), NorFlashErrorKind> {
        check_range(from, to, align, self.mem.as_ref().len())
    }
}

impl<M, W> ErrorType for NorMem<M, W> {
    type Error = NorFlashErrorKind;
}

impl<M: AsRef<[u8]> + AsMut<[u8]>, W: WriteThrough> ReadNorFlash for NorMem<M, W> {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        read_mapped(self.mem.as_ref(), offset, bytes)
    }
    fn capacity(&self) -> usize {
        self.mem.as_ref().len()
    }
}

impl<M: AsRef<[u8]> + AsMut<[u8]>, W: WriteThrough> NorFlash for NorMem<M, W> {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = Self::SECTOR;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.check(from, to as usize, Self::SECTOR)?;
        let (from, to) = (from as usize, to as usize);
        self.mem.as_mut()[from..to].fill(0xFF);
        self.through.changed(self.mem.as_ref(), from, to)
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let (from, to) = (offset as usize, offset as usize + bytes.len());
        self.check(offset, to, Self::WRITE_SIZE)?;
        for (m, b) in self.mem.as_mut()[from..to].iter_mut().zip(bytes) {
            *m &= b;
        }
        self.through.changed(self.mem.as_ref(), from, to)
    }
}

impl<M: AsRef<[u8]> + AsMut<[u8]>, W: WriteThrough> FlashSlot for NorMem<M, W> {
    fn mapped(&self) -> &[u8] {
        self.mem.as_ref()
    }
}

/// The flash type of a board without flash slots ([`Slots::new`](crate::Slots::new)):
/// zero bytes, every operation refused.
#[derive(Debug)]
pub enum NoFlash {}

impl ErrorType for NoFlash {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for NoFlash {
    const READ_SIZE: usize = 1;
    fn read(&mut self, _: u32, _: &mut [u8]) -> Result<(), Self::Error> {
        match *self {}
    }
    fn capacity(&self) -> usize {
        match *self {}
    }
}

impl NorFlash for NoFlash {
    const WRITE_SIZE: usize = 1;
    const ERASE_SIZE: usize = 1;
    fn erase(&mut self, _: u32, _: u32) -> Result<(), Self::Error> {
        match *self {}
    }
    fn write(&mut self, _: u32, _: &[u8]) -> Result<(), Self::Error> {
        match *self {}
    }
}

impl FlashSlot for NoFlash {
    fn mapped(&self) -> &[u8] {
        match *self {}
    }
}
