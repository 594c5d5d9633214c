//! [`Body`] → bytes: validate, then header + postcard body + CRC into a caller buffer.

use super::*;

/// An upper bound on the encoded size of `body` (exact size + a few bytes).
pub fn max_encoded_len(body: &Body<'_>) -> usize {
    let strings = body.meta.name.len() + body.meta.task.len() + body.meta.summary.len() + 15;
    let tensors: usize = body
        .tensors
        .iter()
        .iter()
        .map(|(_, t)| 1 + 3 + 3 + 5 + t.frac.len() + 5 + t.data.len())
        .sum();
    HEADER_LEN + CRC_LEN + strings + 8 + 12 + 22 + tensors
}

/// Validate `body` and write the blob into `buf`; returns the number of bytes written.
///
/// Refuses (with the same [`Error`] the decoder would give) to write an invalid blob.
pub fn encode(body: &Body<'_>, buf: &mut [u8]) -> Result<usize, Error> {
    validate(body)?;
    let have = buf.len();
    if have < HEADER_LEN + CRC_LEN {
        return Err(Error::BufferTooSmall { have });
    }
    buf[..4].copy_from_slice(&MAGIC);
    buf[4..6].copy_from_slice(&VERSION.to_le_bytes());
    let body_len = postcard::to_slice(body, &mut buf[HEADER_LEN..have - CRC_LEN])
        .map_err(|_| Error::BufferTooSmall { have })?
        .len();
    let end = HEADER_LEN + body_len;
    let crc = CRC.checksum(&buf[..end]);
    buf[end..end + CRC_LEN].copy_from_slice(&crc.to_le_bytes());
    Ok(end + CRC_LEN)
}

/// Validate `body` and return the blob as a new vector (host convenience).
#[cfg(feature = "std")]
pub fn encode_to_vec(body: &Body<'_>) -> Result<std::vec::Vec<u8>, Error> {
    let mut buf = std::vec![0u8; max_encoded_len(body)];
    let n = encode(body, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}
