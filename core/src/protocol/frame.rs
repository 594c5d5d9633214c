//! COBS framing: postcard bytes ⇄ `0x00`-delimited frames, and a byte-at-a-time reader.
//!
//! A frame on the wire is `COBS(postcard(Packet)) 0x00`. [`encode`] writes one into a
//! caller buffer; [`FrameReader`] collects received bytes until a `0x00` and hands back the
//! stuffed frame, which [`decode`] un-stuffs in place and parses. Garbage never panics:
//! too-long runs, bad COBS and bad postcard are [`FrameError`]s, and the reader resyncs at
//! the next `0x00`.

use serde::{Deserialize, Serialize};

use super::Packet;

/// Largest encoded frame (COBS overhead and delimiter included) either side accepts.
pub const MAX_FRAME: usize = 1280;

/// A frame was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FrameError {
    /// More bytes than the reader holds arrived before a `0x00`.
    TooLong,
    /// Not valid COBS.
    Cobs,
    /// Valid COBS but not a valid message.
    Decode,
    /// The output buffer is too small for the message.
    BufferTooSmall,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FrameError::TooLong => "frame longer than the receive buffer",
            FrameError::Cobs => "frame is not valid COBS",
            FrameError::Decode => "frame does not decode to a message",
            FrameError::BufferTooSmall => "buffer too small for the frame",
        })
    }
}

impl core::error::Error for FrameError {}

/// Encode `packet` as one frame (COBS + trailing `0x00`) into `buf`; returns the frame.
pub fn encode<'b, M: Serialize>(
    packet: &Packet<M>,
    buf: &'b mut [u8],
) -> Result<&'b mut [u8], FrameError> {
    postcard::to_slice_cobs(packet, buf).map_err(|_| FrameError::BufferTooSmall)
}

/// Un-stuff a frame in place (as returned by [`FrameReader::push`], with or without its
/// trailing `0x00`) and parse it, borrowing from `frame`.
pub fn decode<'b, M: Deserialize<'b>>(frame: &'b mut [u8]) -> Result<Packet<M>, FrameError> {
    let n = cobs::decode_in_place(frame).map_err(|_| FrameError::Cobs)?;
    let bytes: &'b [u8] = &frame[..n];
    match postcard::take_from_bytes::<Packet<M>>(bytes) {
        Ok((p, [])) => Ok(p),
        _ => Err(FrameError::Decode),
    }
}

/// Collects bytes into frames in an `N`-byte buffer (no allocation).
#[derive(Debug)]
pub struct FrameReader<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflow: bool,
}

impl<const N: usize> Default for FrameReader<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FrameReader<N> {
    /// An empty reader.
    pub const fn new() -> Self {
        FrameReader {
            buf: [0; N],
            len: 0,
            overflow: false,
        }
    }

    /// Feed one byte. Returns `None` while a frame is incomplete (and for empty frames:
    /// consecutive `0x00`s); at a `0x00`, `Some(Ok(stuffed frame))` or
    /// `Some(Err(TooLong))` if the frame did not fit.
    pub fn push(&mut self, byte: u8) -> Option<Result<&mut [u8], FrameError>> {
        if byte == 0 {
            let (len, overflow) = (self.len, self.overflow);
            self.len = 0;
            self.overflow = false;
            return match (overflow, len) {
                (true, _) => Some(Err(FrameError::TooLong)),
                (false, 0) => None,
                (false, n) => Some(Ok(&mut self.buf[..n])),
            };
        }
        if self.len < N {
            self.buf[self.len] = byte;
            self.len += 1;
        } else {
            self.overflow = true;
        }
        None
    }

    /// Drop a partial frame (bytes since the last `0x00`).
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use proptest::prelude::*;

    fn roundtrip_host(msg: HostMsg<'_>) {
        let mut buf = [0u8; MAX_FRAME];
        let p = Packet { seq: 0xBEEF, msg };
        let wire = encode(&p, &mut buf).unwrap();
        assert_eq!(wire.iter().filter(|&&b| b == 0).count(), 1);
        let mut copy = wire.to_vec();
        let got: Packet<HostMsg<'_>> = decode(&mut copy).unwrap();
        assert_eq!(got, p);
    }

    #[test]
    fn encode_ping_exact_bytes() {
        let mut buf = [0u8; 16];
        // postcard: seq 7 (varint 07), HostMsg::Ping = variant 10 (0A); COBS: 03 07 0A, then 00.
        let wire = encode(
            &Packet {
                seq: 7,
                msg: HostMsg::Ping,
            },
            &mut buf,
        )
        .unwrap();
        assert_eq!(wire, &[0x03, 0x07, 0x0A, 0x00]);
    }

    #[test]
    fn encode_input_exact_bytes() {
        let mut buf = [0u8; 32];
        let values = heapless::Vec::from_slice(&[1, -1]).unwrap();
        // seq 1, variant 7, seq 300 (AC 02), len 2, zigzag(1)=2, zigzag(-1)=1.
        let wire = encode(
            &Packet {
                seq: 1,
                msg: HostMsg::Input { seq: 300, values },
            },
            &mut buf,
        )
        .unwrap();
        assert_eq!(
            wire,
            &[0x08, 0x01, 0x07, 0xAC, 0x02, 0x02, 0x02, 0x01, 0x00]
        );
    }

    #[test]
    fn roundtrip_every_host_message() {
        let chunk = [0u8, 1, 2, 0, 255];
        let mut units = heapless::Vec::new();
        units.push(3).unwrap();
        let mut rules = heapless::Vec::new();
        rules
            .push(Rule::Pwm {
                source: Source::Output(0),
                channel: 1,
                lo: -10,
                hi: 4096,
            })
            .unwrap();
        rules
            .push(Rule::Ttl {
                source: Source::Rate(5),
                pin: 0,
                on: 100,
                off: 50,
            })
            .unwrap();
        rules.push(Rule::Sync { pin: 2, every: 100 }).unwrap();
        rules
            .push(Rule::RandomSync {
                pin: 1,
                seed: 0xDEAD_BEEF,
                min_ms: 100,
                max_ms: 1900,
                pulse_ms: 50,
            })
            .unwrap();
        for m in [
            HostMsg::Hello { protocol: 1 },
            HostMsg::GetInfo,
            HostMsg::UploadBegin {
                len: 12345,
                crc: 0xDEAD_BEEF,
                persist: true,
            },
            HostMsg::UploadChunk {
                offset: 512,
                bytes: &chunk,
            },
            HostMsg::UploadCommit,
            HostMsg::Start {
                mode: Mode::Timer { rate_hz: 1000 },
                streams: Streams {
                    every: 1,
                    state_units: units.clone(),
                    rate_units: units,
                    events: true,
                },
            },
            HostMsg::Start {
                mode: Mode::Lockstep,
                streams: Streams::default(),
            },
            HostMsg::Stop,
            HostMsg::Input {
                seq: 9,
                values: heapless::Vec::from_slice(&[i16::MIN, 0, i16::MAX]).unwrap(),
            },
            HostMsg::SetStimulusMap { rules },
            HostMsg::ResetState,
            HostMsg::Ping,
            HostMsg::GetStats,
        ] {
            roundtrip_host(m);
        }
    }

    #[test]
    fn roundtrip_device_messages() {
        let stats = Stats {
            steps: 1,
            deadline_misses: 2,
            telemetry_dropped: 3,
            events_dropped: 4,
            rx_frame_errors: 5,
            total_step_clocks: u64::MAX,
            ..Stats::default()
        };
        let msgs = [
            DeviceMsg::Info(Info {
                re: 1,
                protocol: super::super::PROTOCOL_VERSION,
                firmware: "0.1.0",
                board: "qemu",
                model_name: "pd",
                model_crc: 0x1234_5678,
                model_len: 135_312,
                model_store: ModelStore::Flash {
                    slot: 1,
                    generation: 7,
                },
                n_in: 2,
                n_rec: 256,
                n_out: 2,
                input_frac: 12,
                output_frac: 11,
                state_frac: 10,
                rate_frac: 9,
                capabilities: capability::PERSIST | capability::SYNC,
                ram_slot_bytes: 96 * 1024,
                flash_slot_bytes: 160 * 1024,
                tx_queue_bytes: 4096,
                clock_hz: 1_000_000,
                pwm_channels: 1,
                pins: 3,
            }),
            DeviceMsg::Ack {
                re: 3,
                device_us: u64::MAX,
            },
            DeviceMsg::Nack {
                re: 4,
                reason: NackReason::TooLarge {
                    len: 999_999,
                    max: 4096,
                },
            },
            DeviceMsg::Nack {
                re: 4,
                reason: NackReason::BadBlob { detail: "bad crc" },
            },
            DeviceMsg::Nack {
                re: 5,
                reason: NackReason::Storage {
                    detail: "write failed",
                },
            },
            DeviceMsg::Nack {
                re: 6,
                reason: NackReason::Busy,
            },
            DeviceMsg::Telemetry(Telemetry {
                device_us: 1_000_001,
                tick: 1,
                input_seq: 2,
                outputs: heapless::Vec::from_slice(&[1, 2, 3]).unwrap(),
                state: heapless::Vec::new(),
                rates: heapless::Vec::from_slice(&[7]).unwrap(),
                stimulus: heapless::Vec::from_slice(&[10_000, 1]).unwrap(),
                step_clocks: 77,
            }),
            DeviceMsg::Event(Event {
                device_us: 42,
                tick: 5,
                rule: 1,
                high: true,
                value: -3,
            }),
            DeviceMsg::Stats {
                re: 9,
                device_us: 3,
                stats,
            },
            DeviceMsg::Heartbeat(Heartbeat {
                device_us: 2_000_000,
                running: true,
                stats,
            }),
        ];
        for msg in msgs {
            let mut buf = [0u8; MAX_FRAME];
            let p = Packet { seq: 1, msg };
            let mut wire = encode(&p, &mut buf).unwrap().to_vec();
            let got: Packet<DeviceMsg<'_>> = decode(&mut wire).unwrap();
            assert_eq!(got, p);
        }
    }

    /// Version-1 bytes, written out by hand from the v1 tables: a v1 host's `Hello` still
    /// decodes (so the device can refuse it), and the refusal still reads as a v1 `Nack`.
    #[test]
    fn v1_hello_decodes_and_version_nack_keeps_v1_layout() {
        // seq 5, variant 0 Hello, protocol 1.
        let mut hello = stuff(&[0x05, 0x00, 0x01]);
        let p = decode::<HostMsg<'_>>(&mut hello).unwrap();
        assert_eq!((p.seq, p.msg), (5, HostMsg::Hello { protocol: 1 }));
        let mut buf = [0u8; 32];
        let wire = encode(
            &Packet {
                seq: 0,
                msg: DeviceMsg::Nack {
                    re: 5,
                    reason: NackReason::ProtocolVersion {
                        host: 1,
                        device: super::super::PROTOCOL_VERSION,
                    },
                },
            },
            &mut buf,
        )
        .unwrap();
        // seq 0, variant 2 Nack, re 5, reason 0, host 1, device 2.
        assert_eq!(wire, &stuff(&[0x00, 0x02, 0x05, 0x00, 0x01, 0x02])[..]);
    }

    /// COBS-stuff `payload` and append the delimiter.
    fn stuff(payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; payload.len() + payload.len() / 254 + 2];
        let n = cobs::encode(payload, &mut out);
        out.truncate(n);
        out.push(0);
        out
    }

    #[test]
    fn heartbeat_exact_bytes() {
        let mut buf = [0u8; 64];
        let wire = encode(
            &Packet {
                seq: 1,
                msg: DeviceMsg::Heartbeat(Heartbeat {
                    device_us: 1_000_000,
                    running: false,
                    stats: Stats::default(),
                }),
            },
            &mut buf,
        )
        .unwrap();
        // seq 1, variant 6, 1 000 000 = C0 84 3D, running 0, then the 9 zero counters.
        let mut want = vec![0x01, 0x06, 0xC0, 0x84, 0x3D, 0x00];
        want.extend([0u8; 9]);
        assert_eq!(wire, &stuff(&want)[..]);
    }

    #[test]
    fn reader_resyncs_after_garbage_and_overflow() {
        let mut rx = FrameReader::<8>::new();
        for b in [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10] {
            assert!(rx.push(b).is_none());
        }
        assert_eq!(rx.push(0).map(|r| r.err()), Some(Some(FrameError::TooLong)));
        assert!(rx.push(0).is_none(), "empty frame is ignored");
        let mut buf = [0u8; 16];
        let wire = encode(
            &Packet {
                seq: 7,
                msg: HostMsg::Ping,
            },
            &mut buf,
        )
        .unwrap();
        let mut out = None;
        for &b in wire.iter() {
            if let Some(r) = rx.push(b) {
                let p = decode::<HostMsg<'_>>(r.unwrap()).unwrap();
                out = Some((p.seq, p.msg == HostMsg::Ping));
            }
        }
        assert_eq!(out, Some((7, true)));
    }

    #[test]
    fn decode_bad_cobs_is_error() {
        // Code byte 0x05 promises 4 more bytes; only 1 follows.
        let mut f = [0x05u8, 0x01];
        assert_eq!(decode::<HostMsg<'_>>(&mut f).err(), Some(FrameError::Cobs));
    }

    #[test]
    fn decode_trailing_bytes_is_error() {
        // Ping + one extra byte.
        let mut f = [0x04u8, 0x07, 0x0A, 0x01];
        assert_eq!(
            decode::<HostMsg<'_>>(&mut f).err(),
            Some(FrameError::Decode)
        );
    }

    #[test]
    fn cobs_final_code_byte_is_redundant() {
        // 3 + 1 + 5 + 2 + 497 = 508 zero-free bytes: two full 254-byte COBS blocks, then
        // the final code byte 0x01; the frame without it is the same packet.
        let bytes = [0xA5u8; 497];
        let mut buf = [0u8; MAX_FRAME];
        let p = Packet {
            seq: 16384,
            msg: HostMsg::UploadChunk {
                offset: 1 << 28,
                bytes: &bytes,
            },
        };
        let wire = encode(&p, &mut buf).unwrap();
        let body = &wire[..wire.len() - 1];
        assert_eq!(body[body.len() - 1], 0x01);
        let mut short = body[..body.len() - 1].to_vec();
        assert_eq!(decode::<HostMsg<'_>>(&mut short).unwrap(), p);
        let mut shorter = body[..body.len() - 2].to_vec();
        assert!(decode::<HostMsg<'_>>(&mut shorter).is_err());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut rx = FrameReader::<MAX_FRAME>::new();
            for b in bytes {
                if let Some(Ok(f)) = rx.push(b) {
                    let mut copy = f.to_vec();
                    let _ = decode::<HostMsg<'_>>(f);
                    let _ = decode::<DeviceMsg<'_>>(&mut copy);
                }
            }
        }

        #[test]
        fn random_frames_never_panic(mut bytes in proptest::collection::vec(1u8..=255, 0..600)) {
            let mut copy = bytes.clone();
            let _ = decode::<HostMsg<'_>>(&mut bytes);
            let _ = decode::<DeviceMsg<'_>>(&mut copy);
        }

        #[test]
        fn telemetry_and_events_roundtrip(
            us in any::<u64>(), tick in any::<u32>(), seq in any::<u32>(),
            outs in proptest::collection::vec(any::<i16>(), 0..MAX_VALUES),
            units in proptest::collection::vec(any::<i16>(), 0..MAX_UNITS),
            stim in proptest::collection::vec(any::<u16>(), 0..MAX_RULES),
            clocks in any::<u32>(), rule in any::<u8>(), high in any::<bool>(), value in any::<i16>(),
        ) {
            let t = Telemetry {
                device_us: us,
                tick,
                input_seq: seq,
                outputs: heapless::Vec::from_slice(&outs).unwrap(),
                state: heapless::Vec::from_slice(&units).unwrap(),
                rates: heapless::Vec::from_slice(&units).unwrap(),
                stimulus: heapless::Vec::from_slice(&stim).unwrap(),
                step_clocks: clocks,
            };
            let e = Event { device_us: us, tick, rule, high, value };
            for msg in [DeviceMsg::Telemetry(t), DeviceMsg::Event(e)] {
                let mut buf = [0u8; MAX_FRAME];
                let p = Packet { seq: 1, msg };
                let mut wire = encode(&p, &mut buf).unwrap().to_vec();
                prop_assert!(wire.len() <= MAX_FRAME);
                let got: Packet<DeviceMsg<'_>> = decode(&mut wire).unwrap();
                prop_assert_eq!(got, p);
            }
        }

        /// Every truncation of a valid frame is an error, never a panic or a wrong message.
        /// One truncation is not: a frame whose data after its last zero is a multiple of
        /// 254 bytes ends in a COBS code byte `0x01` that adds nothing, and without it the
        /// frame decodes to the same packet (`cobs_final_code_byte_is_redundant`).
        #[test]
        fn truncated_frames_are_errors(seq in any::<u16>(), offset in any::<u32>(), n in 0usize..MAX_CHUNK, cut in 0usize..600) {
            let bytes = vec![0xA5u8; n];
            let mut buf = [0u8; MAX_FRAME];
            let p = Packet { seq, msg: HostMsg::UploadChunk { offset, bytes: &bytes } };
            let wire = encode(&p, &mut buf).unwrap();
            let body = &wire[..wire.len() - 1];
            let cut = cut % body.len();
            let mut short = body[..cut].to_vec();
            match decode::<HostMsg<'_>>(&mut short) {
                Err(_) => {}
                Ok(got) => {
                    prop_assert_eq!(&got, &p);
                    prop_assert!(cut == body.len() - 1 && body[cut] == 0x01, "cut {} of {}", cut, body.len());
                }
            }
        }

        #[test]
        fn inputs_roundtrip(seq in any::<u16>(), s in any::<u32>(), v in proptest::collection::vec(any::<i16>(), 0..MAX_VALUES)) {
            roundtrip_host(HostMsg::Input { seq: s, values: heapless::Vec::from_slice(&v).unwrap() });
            let _ = seq;
        }
    }
}
