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

/// Alignment [`encode_aligned`] gives `W_rec`'s data within the blob: what the Cortex-M4/M7
/// `LDM` kernels need (see `crate::kernel`).
pub const W_REC_ALIGN: usize = 4;

/// [`encode`], with `meta.summary` padded by up to 4 trailing spaces (while it stays
/// within [`MAX_SUMMARY_LEN`]) so that `W_rec`'s data starts at a multiple of
/// [`W_REC_ALIGN`] bytes from the start of the blob; returns the number of bytes written.
///
/// Trailing spaces already in the summary count as padding: they are dropped first, so
/// re-encoding a blob (e.g. with its noise turned off) pads afresh and never accumulates
/// spaces.
///
/// Same format, same model: only the free-form summary gets the spaces. A blob stored at
/// a 4-aligned address then has 4-aligned `W_rec` rows (every row if a row's byte size is
/// a multiple of 4), which the DSP kernels read with multi-register loads. If no padding
/// reaches the alignment (a summary already at its length limit), the unpadded blob is
/// written: it runs the same, slower.
pub fn encode_aligned(body: &Body<'_>, buf: &mut [u8]) -> Result<usize, Error> {
    let mut text = [b' '; MAX_SUMMARY_LEN];
    let own = body.meta.summary.trim_end_matches(' ');
    let len = own.len().min(MAX_SUMMARY_LEN);
    text[..len].copy_from_slice(&own.as_bytes()[..len]);
    // Five paddings cover every residue mod 4, even where the summary's varint length
    // prefix grows by a byte (at 128).
    for pad in 0..=4 {
        let Some(summary) = text
            .get(..own.len() + pad)
            .and_then(|t| core::str::from_utf8(t).ok())
        else {
            break;
        };
        let mut padded = *body;
        padded.meta.summary = summary;
        let n = encode(&padded, buf)?;
        if w_rec_offset(&buf[..n]) % W_REC_ALIGN == 0 {
            return Ok(n);
        }
    }
    encode(body, buf)
}

/// Byte offset of `W_rec`'s data in a blob just written by [`encode`] (0 if it does not
/// decode, which `encode` rules out).
fn w_rec_offset(blob: &[u8]) -> usize {
    decode(blob).map_or(0, |(b, _, _)| {
        b.tensors.w_rec.data.as_ptr() as usize - blob.as_ptr() as usize
    })
}

/// [`encode_aligned`] into a new vector (host convenience).
#[cfg(feature = "std")]
pub fn encode_to_vec_aligned(body: &Body<'_>) -> Result<std::vec::Vec<u8>, Error> {
    let mut buf = std::vec![0u8; max_encoded_len(body) + 5];
    let n = encode_aligned(body, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w_rec_at(blob: &[u8]) -> usize {
        let (b, _, _) = decode(blob).unwrap();
        b.tensors.w_rec.data.as_ptr() as usize - blob.as_ptr() as usize
    }

    #[test]
    fn aligned_encoding_pads_only_the_summary() {
        let tiny = tests_support::tiny_blob();
        let (body, _, _) = decode(&tiny).unwrap();
        // Every summary length around the varint boundary (127 → 128) and the limit.
        let text = "s".repeat(MAX_SUMMARY_LEN);
        for len in (0..12)
            .chain(120..=132)
            .chain(MAX_SUMMARY_LEN - 6..=MAX_SUMMARY_LEN)
        {
            let mut b = body;
            b.meta.summary = &text[..len];
            let plain = encode_to_vec(&b).unwrap();
            let padded = encode_to_vec_aligned(&b).unwrap();
            let (got, _, _) = decode(&padded).unwrap();
            let pad = got.meta.summary.len() - len;
            assert!(pad <= 4, "summary {len}: {pad} spaces");
            assert_eq!(&got.meta.summary[..len], b.meta.summary);
            assert!(got.meta.summary[len..].bytes().all(|c| c == b' '));
            let mut same = got;
            same.meta.summary = b.meta.summary;
            assert_eq!(same, b, "summary {len}: only the summary changes");
            if w_rec_at(&padded) % W_REC_ALIGN != 0 {
                // Only where the limit leaves no room: then the plain blob.
                assert!(len + 4 > MAX_SUMMARY_LEN, "summary {len} not aligned");
                assert_eq!(padded, plain);
            }
            if w_rec_at(&plain) % W_REC_ALIGN == 0 {
                assert_eq!(padded, plain, "summary {len}: aligned already, unchanged");
            }
            // Re-encoding pads afresh: the same bytes, also after a field changed size.
            assert_eq!(encode_to_vec_aligned(&got).unwrap(), padded, "idempotent");
            let mut other = got;
            other.quant.noise_mul = 1 << 20;
            let again = encode_to_vec_aligned(&other).unwrap();
            let (g2, _, _) = decode(&again).unwrap();
            assert_eq!(g2.meta.summary.trim_end_matches(' '), b.meta.summary);
            assert!(
                g2.meta.summary.len() - len <= 4,
                "summary {len}: spaces accumulate"
            );
        }
    }
}
