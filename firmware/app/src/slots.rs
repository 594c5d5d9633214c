//! [`Slots`]: the built-in model and two RAM slots; uploads go to the free slot.

use neuroloop_core::blob::Error;
use neuroloop_core::protocol::ModelStore;
use neuroloop_core::Model;

/// The model store: a built-in blob (flash) and two RAM slots used in turn.
///
/// The running model borrows the active slot (or the built-in blob) while uploads are
/// written to the other one; [`Slots::commit`] makes the uploaded one active and the next
/// [`Slots::split`] decodes it — the only decode of an upload. If it does not decode, the
/// previous model comes back. A failed or partial upload never touches the running model.
#[derive(Debug)]
pub struct Slots<'b> {
    builtin: &'b [u8],
    slots: [&'b mut [u8]; 2],
    lens: [usize; 2],
    active: Option<usize>,
    previous: Option<usize>,
}

/// What [`Slots::split`] hands out.
#[derive(Debug)]
pub struct Split<'s> {
    /// The running model.
    pub model: Model<'s>,
    /// Where it is stored.
    pub store: ModelStore,
    /// The free slot, for an upload.
    pub staging: &'s mut [u8],
    /// Set if the slot committed last did not decode: the previous model runs instead.
    pub refused: Option<Error>,
}

impl<'b> Slots<'b> {
    /// `builtin` must decode (checked by [`Slots::split`], which falls back to nothing
    /// else); `a` and `b` should be the same size: the largest upload.
    pub fn new(builtin: &'b [u8], a: &'b mut [u8], b: &'b mut [u8]) -> Self {
        Slots {
            builtin,
            slots: [a, b],
            lens: [0, 0],
            active: None,
            previous: None,
        }
    }

    /// Bytes an upload may have right now (the free slot's size).
    pub fn capacity(&self) -> usize {
        let free = self.active.map_or(0, |i| 1 - i);
        self.slots[free].len()
    }

    /// Decode the active model (once per swap: this checks the CRC of the whole blob) and
    /// hand out the free slot for uploads.
    ///
    /// If the slot committed last does not decode, the error is in `refused`, `model` is the
    /// built-in one (not to be adopted) and the previous model is restored for the next
    /// call (the only case where a blob is decoded twice).
    ///
    /// # Panics
    /// If the built-in blob does not decode (a build error, caught by this crate's tests).
    pub fn split(&mut self) -> Split<'_> {
        let Slots {
            builtin,
            slots,
            lens,
            active,
            previous,
        } = self;
        let [a, b] = slots;
        let (bytes, staging, store): (&[u8], &mut [u8], ModelStore) = match *active {
            None => (builtin, &mut **a, ModelStore::Builtin),
            Some(0) => (&a[..lens[0]], &mut **b, ModelStore::Ram { slot: 0 }),
            Some(_) => (&b[..lens[1]], &mut **a, ModelStore::Ram { slot: 1 }),
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
                *active = previous.take();
                Split {
                    model: builtin_model(),
                    store: ModelStore::Builtin,
                    staging,
                    refused: Some(e),
                }
            }
        }
    }

    /// The free slot now holds an upload of `len` bytes (length and CRC checked): make it
    /// active; the next [`Slots::split`] decodes it.
    pub fn commit(&mut self, len: usize) {
        let free = self.active.map_or(0, |i| 1 - i);
        self.lens[free] = len.min(self.slots[free].len());
        self.previous = self.active;
        self.active = Some(free);
    }

    /// Undo the last [`Slots::commit`] (the model it made active was refused by the app).
    pub fn rollback(&mut self) {
        self.active = self.previous.take();
    }
}
