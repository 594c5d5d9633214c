//! The transmit ring between the loop and the board's drain: a lock-free single-producer
//! single-consumer byte queue (`heapless::spsc`, fixed capacity, no allocation).
//!
//! The loop ([`Serial::try_queue`](crate::Serial::try_queue) on the board's serial type)
//! pushes whole frames with [`push_frame`], or nothing when the frame does not fit; the
//! board's UART interrupt, DMA completion or USB poll pops bytes with the
//! [`Consumer`]. Both halves come from one `static` queue split at boot
//! (`cortex_m::singleton!` on the boards, `Box::leak` in host tests).

pub use heapless::spsc::{Consumer, Producer, Queue};

/// Queue all of `frame`, or nothing if it does not fit; `true` if queued.
pub fn push_frame<const N: usize>(tx: &mut Producer<'_, u8, N>, frame: &[u8]) -> bool {
    if free(tx) < frame.len() {
        return false;
    }
    // Only the consumer runs concurrently, and it only frees space: every byte fits.
    frame.iter().all(|&b| tx.enqueue(b).is_ok())
}

/// Bytes free in the queue (at least this many; the consumer may free more meanwhile).
pub fn free<const N: usize>(tx: &Producer<'_, u8, N>) -> usize {
    tx.capacity() - tx.len()
}

/// Pop up to `out.len()` queued bytes into `out`; returns how many.
pub fn pop_into<const N: usize>(rx: &mut Consumer<'_, u8, N>, out: &mut [u8]) -> usize {
    let mut n = 0;
    while n < out.len() {
        match rx.dequeue() {
            Some(b) => {
                out[n] = b;
                n += 1;
            }
            None => break,
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_go_in_whole_or_not_at_all() {
        let mut q: Queue<u8, 9> = Queue::new();
        let (mut p, mut c) = q.split();
        assert_eq!(free(&p), 8);
        assert!(push_frame(&mut p, &[1, 2, 3, 4, 5]));
        assert!(
            !push_frame(&mut p, &[6, 7, 8, 9]),
            "4 bytes do not fit in 3"
        );
        assert_eq!(free(&p), 3);
        let mut out = [0u8; 2];
        assert_eq!(pop_into(&mut c, &mut out), 2);
        assert_eq!(out, [1, 2]);
        assert!(push_frame(&mut p, &[6, 7, 8, 9]));
        let mut rest = [0u8; 16];
        assert_eq!(pop_into(&mut c, &mut rest), 7);
        assert_eq!(&rest[..7], &[3, 4, 5, 6, 7, 8, 9]);
    }
}
