//! [`Slots`]: the built-in model, two RAM slots and, on a board with flash, two
//! persistent flash slots ([`crate::flash`]); uploads go to a free slot.

use neuroloop_core::blob::Error;
use neuroloop_core::protocol::ModelStore;
use neuroloop_core::Model;

use crate::flash::{FlashError, FlashSlot, FlashSlots, Header, NoFlash, SlotWrite};

/// The model store: a built-in blob, two RAM slots used in turn and optionally two flash
/// slots (A/B, see [`crate::flash`]).
///
/// The running model borrows its slot (or the built-in blob) while uploads are written to
/// a free one; [`Slots::commit`] (RAM) or [`Slots::commit_flash`] makes the uploaded one
/// active and the next [`Slots::split`] decodes it — the model that runs. If it does not
/// decode, the previous model comes back. A failed or partial upload never touches the
/// running model: a RAM upload goes to the other RAM slot, a persistent one to the flash
/// slot the running model is not in.
#[derive(Debug)]
pub struct Slots<'b, F = NoFlash> {
    builtin: &'b [u8],
    slots: [&'b mut [u8]; 2],
    lens: [usize; 2],
    flash: Option<Persist<F>>,
    active: Where,
    previous: Option<Where>,
}

/// The flash slots and where the next persistent upload goes.
#[derive(Debug)]
struct Persist<F> {
    slots: FlashSlots<F>,
    /// Slot and generation of the next commit (never the slot of a model that may run).
    next: (usize, u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Where {
    Builtin,
    Ram(usize),
    Flash(usize, Header),
}

/// What [`Slots::split`] hands out.
#[derive(Debug)]
pub struct Split<'s> {
    /// The running model.
    pub model: Model<'s>,
    /// Where it is stored.
    pub store: ModelStore,
    /// The free slots, for an upload.
    pub staging: Staging<'s>,
    /// Set if the slot committed last did not decode: the previous model runs instead.
    pub refused: Option<Error>,
}

/// The free slots an upload may be written to.
pub struct Staging<'s> {
    /// The free RAM slot.
    pub ram: &'s mut [u8],
    /// The free flash slot and its number (boards with flash only).
    pub flash: Option<(&'s mut dyn SlotWrite, usize)>,
}

impl core::fmt::Debug for Staging<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Staging")
            .field("ram", &self.ram.len())
            .field("flash", &self.flash.as_ref().map(|(d, i)| (d.size(), *i)))
            .finish()
    }
}

/// Why a persistent upload was not committed (its blob is in flash, without a header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The blob as stored does not decode.
    Blob(Error),
    /// The model needs more state words than the device has.
    State {
        /// Words needed.
        need: usize,
        /// Words the device has.
        have: usize,
    },
    /// Flash error (or no flash slots).
    Storage(FlashError),
}

impl<'b> Slots<'b, NoFlash> {
    /// `builtin` must decode (checked by [`Slots::split`], which falls back to nothing
    /// else); `a` and `b` should be the same size: the largest upload. No flash slots.
    pub fn new(builtin: &'b [u8], a: &'b mut [u8], b: &'b mut [u8]) -> Self {
        Slots {
            builtin,
            slots: [a, b],
            lens: [0, 0],
            flash: None,
            active: Where::Builtin,
            previous: None,
        }
    }
}

impl<'b, F: FlashSlot> Slots<'b, F> {
    /// As [`Slots::new`], with flash slots: boots the newest committed flash model whose
    /// header, CRC and decode check out ([`FlashSlots::boot`]), else the built-in one.
    pub fn with_flash(
        builtin: &'b [u8],
        a: &'b mut [u8],
        b: &'b mut [u8],
        flash: FlashSlots<F>,
    ) -> Self {
        let boot = flash.boot().map(|(i, h, _)| (i, h));
        let newest = [flash.header(0), flash.header(1)]
            .into_iter()
            .flatten()
            .map(|h| h.generation)
            .max()
            .unwrap_or(0);
        let next = (boot.map_or(0, |(i, _)| 1 - i), newest.wrapping_add(1));
        Slots {
            builtin,
            slots: [a, b],
            lens: [0, 0],
            flash: Some(Persist { slots: flash, next }),
            active: boot.map_or(Where::Builtin, |(i, h)| Where::Flash(i, h)),
            previous: None,
        }
    }

    /// Bytes a RAM upload may have (the free RAM slot's size).
    pub fn capacity(&self) -> usize {
        self.slots[self.ram_free()].len()
    }

    fn ram_free(&self) -> usize {
        match self.active {
            Where::Ram(i) => 1 - i,
            _ => 0,
        }
    }

    /// Decode the active model (once per swap: this checks the CRC of the whole blob) and
    /// hand out the free slots for uploads.
    ///
    /// If the slot committed last does not decode, the error is in `refused`, `model` is the
    /// built-in one (not to be adopted) and the previous model is restored for the next
    /// call (the only case where a blob is decoded twice).
    ///
    /// # Panics
    /// If the built-in blob does not decode (a build error, caught by this crate's tests).
    pub fn split(&mut self) -> Split<'_> {
        let free = self.ram_free();
        let Slots {
            builtin,
            slots,
            lens,
            flash,
            active,
            previous,
        } = self;
        let [a, b] = slots;
        let flash_next = flash.as_ref().map(|p| p.next.0);
        let (ram_active, ram): (Option<&[u8]>, &mut [u8]) = match (*active, free) {
            (Where::Ram(0), _) => (Some(&a[..lens[0]]), &mut **b),
            (Where::Ram(_), _) => (Some(&b[..lens[1]]), &mut **a),
            (_, 0) => (None, &mut **a),
            _ => (None, &mut **b),
        };
        let (running_flash, flash_staging) = match flash {
            Some(p) => {
                let slot = p.next.0;
                let (other, target) = p.slots.pair(1 - slot);
                (
                    Some(other.mapped()),
                    Some((target as &mut dyn SlotWrite, slot)),
                )
            }
            None => (None, None),
        };
        let (bytes, store): (&[u8], ModelStore) = match *active {
            Where::Builtin => (builtin, ModelStore::Builtin),
            Where::Ram(i) => (
                ram_active.unwrap_or(builtin),
                ModelStore::Ram { slot: i as u8 },
            ),
            Where::Flash(i, h) => (
                // The running flash slot is always the one not written next.
                running_flash
                    .and_then(|m| m.get(..h.len as usize))
                    .unwrap_or(&[]),
                ModelStore::Flash {
                    slot: i as u8,
                    generation: h.generation,
                },
            ),
        };
        let staging = Staging {
            ram,
            flash: flash_staging,
        };
        let builtin_model = || Model::from_bytes(builtin).expect("built-in model blob must decode");
        match Model::from_bytes(bytes) {
            Ok(model) => Split {
                model,
                store,
                staging,
                refused: None,
            },
            Err(e) => {
                *active = restore(previous.take(), flash_next);
                Split {
                    model: builtin_model(),
                    store: ModelStore::Builtin,
                    staging,
                    refused: Some(e),
                }
            }
        }
    }

    /// The free RAM slot now holds an upload of `len` bytes (length and CRC checked): make
    /// it active; the next [`Slots::split`] decodes it.
    pub fn commit(&mut self, len: usize) {
        let free = self.ram_free();
        self.lens[free] = len.min(self.slots[free].len());
        self.previous = Some(self.active);
        self.active = Where::Ram(free);
    }

    /// The free flash slot holds a persistent upload of `len` bytes (length and CRC
    /// checked as it was written): check that it decodes from flash and needs at most
    /// `state_words`, then write its header — the commit — and make it active. On error
    /// nothing is committed and the running model stays.
    ///
    /// The check decodes the blob once before the header is written (never commit a model
    /// that cannot run); the next [`Slots::split`] decodes it again to run it.
    pub fn commit_flash(&mut self, len: usize, state_words: usize) -> Result<(), Refusal> {
        let p = self
            .flash
            .as_mut()
            .ok_or(Refusal::Storage(FlashError::Write))?;
        let (slot, generation) = p.next;
        let header = {
            let m = Model::from_bytes(p.slots.blob(slot, len)).map_err(Refusal::Blob)?;
            if m.state_len() > state_words {
                return Err(Refusal::State {
                    need: m.state_len(),
                    have: state_words,
                });
            }
            Header {
                generation,
                len: len as u32,
                model_crc: m.crc(),
            }
        };
        p.slots.commit(slot, header).map_err(Refusal::Storage)?;
        p.next = (1 - slot, generation.wrapping_add(1));
        self.previous = Some(self.active);
        self.active = Where::Flash(slot, header);
        Ok(())
    }

    /// The flash slots, back (host tests "power off" a device and boot a new one).
    pub fn into_flash(self) -> Option<FlashSlots<F>> {
        self.flash.map(|p| p.slots)
    }

    /// Undo the last commit (the model it made active was refused by the app).
    pub fn rollback(&mut self) {
        self.active = restore(self.previous.take(), self.flash.as_ref().map(|p| p.next.0));
    }
}

/// The model to go back to: `previous`, unless it is in the flash slot the next
/// persistent upload erases (then the built-in one).
fn restore(previous: Option<Where>, flash_next: Option<usize>) -> Where {
    match previous {
        Some(Where::Flash(i, _)) if Some(i) == flash_next => Where::Builtin,
        Some(w) => w,
        None => Where::Builtin,
    }
}
