//! [`Upload`]: a model upload in progress — offsets, length and the CRC, checked as the
//! chunks arrive so that the commit costs no pass over the blob (the one pass is the
//! decode of the committed slot, see [`Slots::split`](crate::Slots::split)).

use neuroloop_core::protocol::{NackReason, MAX_TEXT};

/// CRC-32/ISO-HDLC, as the blob and `UploadBegin.crc` use (a `static` so that a running
/// digest can borrow it).
static CRC32: crc::Crc<u32> = neuroloop_core::blob::CRC;

/// An upload between `UploadBegin` and `UploadCommit`.
pub struct Upload {
    len: u32,
    crc: u32,
    have: u32,
    digest: crc::Digest<'static, u32>,
}

impl core::fmt::Debug for Upload {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Upload")
            .field("len", &self.len)
            .field("crc", &self.crc)
            .field("have", &self.have)
            .finish()
    }
}

/// Why a commit was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadError(pub NackReason<'static>);

impl Upload {
    /// Start an upload of `len` bytes with CRC `crc` into a slot of `capacity` bytes.
    pub fn begin(len: u32, crc: u32, capacity: usize) -> Result<Self, NackReason<'static>> {
        if len as usize > capacity {
            return Err(NackReason::TooLarge {
                len,
                max: u32::try_from(capacity).unwrap_or(u32::MAX),
            });
        }
        Ok(Upload {
            len,
            crc,
            have: 0,
            digest: CRC32.digest(),
        })
    }

    /// Write `bytes` at `offset` into the RAM `slot`: the offset must be the bytes
    /// received so far and the end within the announced length (checked without overflow).
    pub fn chunk(
        &mut self,
        offset: u32,
        bytes: &[u8],
        slot: &mut [u8],
    ) -> Result<(), NackReason<'static>> {
        self.chunk_with(offset, bytes, |at, b| {
            slot.get_mut(at..at + b.len())
                .ok_or(None)?
                .copy_from_slice(b);
            Ok(())
        })
    }

    /// As [`Upload::chunk`], with `write(offset, bytes)` storing the checked chunk; its
    /// error is the `Nack` (`None`: `BadOffset`).
    pub fn chunk_with(
        &mut self,
        offset: u32,
        bytes: &[u8],
        write: impl FnOnce(usize, &[u8]) -> Result<(), Option<NackReason<'static>>>,
    ) -> Result<(), NackReason<'static>> {
        let bad = NackReason::BadOffset {
            expected: self.have,
            got: offset,
        };
        let end = u32::try_from(bytes.len())
            .ok()
            .and_then(|n| offset.checked_add(n))
            .ok_or(bad.clone())?;
        if offset != self.have || end > self.len {
            return Err(bad);
        }
        write(offset as usize, bytes).map_err(|e| e.unwrap_or(bad))?;
        self.digest.update(bytes);
        self.have = end;
        Ok(())
    }

    /// All bytes there with the announced CRC: the blob length.
    pub fn finish(self) -> Result<usize, UploadError> {
        if self.have != self.len {
            return Err(UploadError(NackReason::Incomplete {
                have: self.have,
                need: self.len,
            }));
        }
        let found = self.digest.finalize();
        if found != self.crc {
            return Err(UploadError(NackReason::CrcMismatch {
                expected: self.crc,
                found,
            }));
        }
        Ok(self.len as usize)
    }
}

/// Text for `Nack{BadBlob}`, truncated to [`MAX_TEXT`] on a character boundary.
pub struct Text {
    buf: [u8; MAX_TEXT],
    len: usize,
}

impl core::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            let mut b = [0u8; 4];
            let e = c.encode_utf8(&mut b);
            if self.len + e.len() > MAX_TEXT {
                break;
            }
            self.buf[self.len..self.len + e.len()].copy_from_slice(e.as_bytes());
            self.len += e.len();
        }
        Ok(())
    }
}

impl Text {
    /// Empty.
    pub fn new() -> Self {
        Text {
            buf: [0; MAX_TEXT],
            len: 0,
        }
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_offsets_near_u32_max_are_refused_not_wrapped() {
        let mut slot = [0u8; 16];
        let mut up = Upload::begin(16, 0, 16).unwrap();
        up.chunk(0, &[1; 8], &mut slot).unwrap();
        // offset + len wraps to 4 in u32: must be BadOffset, not a write at 4.
        let err = up.chunk(u32::MAX - 3, &[9; 8], &mut slot).unwrap_err();
        assert_eq!(
            err,
            NackReason::BadOffset {
                expected: 8,
                got: u32::MAX - 3
            }
        );
        assert_eq!(slot, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(up.chunk(8, &[2; 9], &mut slot).is_err(), "past len");
        up.chunk(8, &[2; 8], &mut slot).unwrap();
        let crc = CRC32.checksum(&slot);
        assert_eq!(
            up.finish(),
            Err(UploadError(NackReason::CrcMismatch {
                expected: 0,
                found: crc
            }))
        );
    }

    #[test]
    fn length_and_crc_checks() {
        assert_eq!(
            Upload::begin(17, 0, 16).unwrap_err(),
            NackReason::TooLarge { len: 17, max: 16 }
        );
        let mut slot = [0u8; 16];
        let data = [7u8; 10];
        let mut up = Upload::begin(10, CRC32.checksum(&data), 16).unwrap();
        up.chunk(0, &data[..4], &mut slot).unwrap();
        let mut short = Upload::begin(10, 0, 16).unwrap();
        short.chunk(0, &data[..4], &mut slot).unwrap();
        assert_eq!(
            short.finish(),
            Err(UploadError(NackReason::Incomplete { have: 4, need: 10 }))
        );
        up.chunk(4, &data[4..], &mut slot).unwrap();
        assert_eq!(up.finish(), Ok(10));
    }
}
