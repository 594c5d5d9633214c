//! [`Slots`]: the built-in model and two RAM slots; uploads go to the free slot.

use neuroloop_core::Model;

/// The model store: a built-in blob (flash) and two RAM slots used in turn.
///
/// The running model borrows the active slot (or the built-in blob) while uploads are
/// written to the other one; [`Slots::commit`] makes the uploaded one active. The old
/// model runs until then, so a failed or partial upload never touches it.
#[derive(Debug)]
pub struct Slots<'b> {
    builtin: &'b [u8],
    slots: [&'b mut [u8]; 2],
    lens: [usize; 2],
    active: Option<usize>,
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
    /// If the active slot somehow does not decode, the built-in model runs.
    ///
    /// # Panics
    /// If the built-in blob does not decode (a build error, caught by this crate's tests).
    pub fn split(&mut self) -> (Model<'_>, &mut [u8]) {
        let [a, b] = &mut self.slots;
        let (active, free): (&[u8], &mut [u8]) = match self.active {
            None => (self.builtin, &mut **a),
            Some(0) => (&a[..self.lens[0]], &mut **b),
            Some(_) => (&b[..self.lens[1]], &mut **a),
        };
        let model = match Model::from_bytes(active) {
            Ok(m) => m,
            Err(_) => Model::from_bytes(self.builtin).expect("built-in model blob must decode"),
        };
        (model, free)
    }

    /// The free slot now holds a validated blob of `len` bytes: make it active.
    pub fn commit(&mut self, len: usize) {
        let free = self.active.map_or(0, |i| 1 - i);
        self.lens[free] = len.min(self.slots[free].len());
        self.active = Some(free);
    }
}
