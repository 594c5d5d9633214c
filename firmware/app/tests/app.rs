//! The app on the host: mock serial, ticker and pins; the core run is the reference.

mod common;

use common::*;
use neuroloop_core::blob::CRC;
use neuroloop_core::protocol::{
    DeviceMsg, HostMsg, Mode, ModelStore, NackReason, RandomSync, Rule, Source, Streams, MAX_UNITS,
    PROTOCOL_VERSION,
};
use neuroloop_core::Model;
use neuroloop_firmware::testing::{
    default_blob, discrimination_inputs, host_run, random_blob, NetSpec,
};
use neuroloop_firmware::DEFAULT_BLOB;

#[test]
fn default_blob_is_current() {
    let want = default_blob();
    if std::env::var_os("NEUROLOOP_BLESS").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/default.nlb"), &want).unwrap();
        return;
    }
    assert!(
        DEFAULT_BLOB == want.as_slice(),
        "firmware/app/default.nlb is stale: rerun this test with NEUROLOOP_BLESS=1"
    );
    Model::from_bytes(DEFAULT_BLOB).unwrap();
}

#[test]
fn hello_reports_model_and_refuses_other_versions() {
    let mut d = Dev::new();
    let f = d.request(HostMsg::Hello {
        protocol: PROTOCOL_VERSION,
    });
    match f[0].packet().unwrap().msg {
        DeviceMsg::Info(i) => {
            assert_eq!((i.n_in, i.n_rec, i.n_out), (2, 32, 2));
            assert_eq!(i.model_crc, Model::from_bytes(DEFAULT_BLOB).unwrap().crc());
            assert_eq!(i.model_store, ModelStore::Builtin);
            assert_eq!(i.ram_slot_bytes as usize, SLOT);
            assert_eq!((i.flash_slot_bytes, i.tx_queue_bytes), (0, 4096));
            assert_eq!((i.pwm_channels, i.pins), (1, 2));
        }
        other => panic!("{other:?}"),
    }
    for old in [1, 99] {
        assert_eq!(
            d.expect_nack(HostMsg::Hello { protocol: old }),
            format!("ProtocolVersion {{ host: {old}, device: {PROTOCOL_VERSION} }}")
        );
    }
}

#[test]
fn lockstep_default_model_matches_host() {
    let mut d = Dev::new();
    let inputs = discrimination_inputs(200, 2, 1);
    assert_eq!(d.lockstep_outputs(&inputs), host_run(DEFAULT_BLOB, &inputs));
}

#[test]
fn uploads_swap_models_bit_exact_in_both_slots() {
    let mut d = Dev::new();
    for (k, spec) in [
        NetSpec::new(3, 40, 2, 1, 0, 7),
        NetSpec::new(2, 64, 3, 2, 1, 8),
        NetSpec::new(4, 20, 1, 1, 2, 9),
    ]
    .iter()
    .enumerate()
    {
        let blob = random_blob(spec);
        let f = d.upload(&blob, CRC.checksum(&blob), blob.len());
        assert!(
            matches!(f[0].packet().unwrap().msg, DeviceMsg::Ack { re, .. } if re == d.seq),
            "upload {k}"
        );
        assert_eq!(
            d.info(),
            (
                Model::from_bytes(&blob).unwrap().crc(),
                ModelStore::Ram { slot: k as u8 % 2 }
            )
        );
        let inputs = discrimination_inputs(200, spec.n_in, k as u64);
        let outs = d.lockstep_outputs(&inputs);
        assert_eq!(outs, host_run(&blob, &inputs), "model {}", spec.name);
        assert!(
            outs.iter().any(|y| y.iter().any(|&v| v != 0)),
            "outputs are not trivially zero"
        );
    }
    assert_eq!(d.stats().uploads, 3);
}

#[test]
fn bad_uploads_are_refused_and_old_model_keeps_running() {
    let mut d = Dev::new();
    let inputs = discrimination_inputs(50, 2, 3);
    let before = d.lockstep_outputs(&inputs);
    let blob = random_blob(&NetSpec::new(2, 16, 2, 2, 0, 5));
    let crc = CRC.checksum(&blob);

    let f = d.upload(&blob, crc ^ 1, blob.len());
    assert!(matches!(
        f[0].packet().unwrap().msg,
        DeviceMsg::Nack {
            reason: NackReason::CrcMismatch { .. },
            ..
        }
    ));
    let f = d.upload(&blob, crc, blob.len() - 100);
    assert_eq!(
        f[0].packet().unwrap().msg,
        DeviceMsg::Nack {
            re: d.seq,
            reason: NackReason::Incomplete {
                have: blob.len() as u32 - 100,
                need: blob.len() as u32
            }
        }
    );
    let mut corrupt = blob.clone();
    corrupt[20] ^= 0x40;
    let f = d.upload(&corrupt, CRC.checksum(&corrupt), corrupt.len());
    match f[0].packet().unwrap().msg {
        DeviceMsg::Nack {
            reason: NackReason::BadBlob { detail },
            ..
        } => assert!(!detail.is_empty()),
        other => panic!("{other:?}"),
    }
    let r = d.expect_nack(HostMsg::UploadBegin {
        len: SLOT as u32 + 1,
        crc: 0,
        persist: false,
    });
    assert!(
        r.contains(&format!("len: {}", SLOT + 1)) && r.contains(&format!("max: {SLOT}")),
        "{r}"
    );
    assert!(d.expect_nack(HostMsg::UploadCommit).contains("NoUpload"));
    assert_eq!(
        d.expect_nack(HostMsg::UploadBegin {
            len: 10,
            crc: 0,
            persist: true
        }),
        "Unsupported",
        "no flash slots on this board"
    );
    d.expect_ack(HostMsg::UploadBegin {
        len: 10,
        crc: 0,
        persist: false,
    });
    assert!(d
        .expect_nack(HostMsg::UploadChunk {
            offset: u32::MAX - 1,
            bytes: &[1, 2, 3, 4]
        })
        .contains("BadOffset"));
    assert!(d
        .expect_nack(HostMsg::UploadChunk {
            offset: 4,
            bytes: &[1, 2]
        })
        .contains("BadOffset"));
    assert!(d
        .expect_nack(HostMsg::UploadChunk {
            offset: 0,
            bytes: &[0; 11]
        })
        .contains("BadOffset"));

    assert_eq!(
        d.info(),
        (
            Model::from_bytes(DEFAULT_BLOB).unwrap().crc(),
            ModelStore::Builtin
        )
    );
    assert_eq!(d.lockstep_outputs(&inputs), before);
    assert_eq!(d.stats().uploads, 0);
}

#[test]
fn model_needing_more_state_than_the_device_has_is_refused() {
    let mut d = Dev::new();
    let blob = random_blob(&NetSpec::new(1, 210, 1, 1, 0, 5));
    let f = d.upload(&blob, CRC.checksum(&blob), blob.len());
    match f[0].packet().unwrap().msg {
        DeviceMsg::Nack {
            reason: NackReason::BadBlob { detail },
            ..
        } => assert!(detail.contains("state words"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_is_counted_and_device_still_answers() {
    let mut d = Dev::new();
    let mut rng = neuroloop_firmware::testing::Rng::new(42);
    let junk: Vec<u8> = (0..10 * 1024).map(|_| rng.next_u64() as u8).collect();
    d.send_raw(&junk);
    d.send_raw(&[0]);
    d.pump();
    let replies = d.take_frames();
    let errors = d.stats().rx_frame_errors;
    assert!(errors >= 20, "{errors} frame errors for 10 KiB of noise");
    // Noise may decode to a valid message now and then; the device must answer it sanely.
    assert!(replies.iter().all(|f| f.packet().is_ok()));
    d.expect_ack(HostMsg::Ping);
    let inputs = discrimination_inputs(30, 2, 9);
    d.expect_ack(HostMsg::SetStimulusMap {
        rules: heapless::Vec::new(),
    });
    assert_eq!(d.lockstep_outputs(&inputs), host_run(DEFAULT_BLOB, &inputs));
}

#[test]
fn input_errors() {
    let mut d = Dev::new();
    let two = heapless::Vec::from_slice(&[1, 2]).unwrap();
    assert!(d
        .expect_nack(HostMsg::Input {
            seq: 0,
            values: two
        })
        .contains("NotRunning"));
    d.expect_ack(HostMsg::Start {
        mode: Mode::Lockstep,
        streams: Streams {
            every: 1,
            ..Streams::default()
        },
    });
    let three = heapless::Vec::from_slice(&[1, 2, 3]).unwrap();
    assert!(d
        .expect_nack(HostMsg::Input {
            seq: 0,
            values: three
        })
        .contains("InputLength { expected: 2, found: 3 }"));
    let mut units = heapless::Vec::new();
    units.push(32).unwrap();
    assert!(d
        .expect_nack(HostMsg::Start {
            mode: Mode::Lockstep,
            streams: Streams {
                every: 1,
                state_units: units,
                ..Streams::default()
            }
        })
        .contains("BadIndex"));
    assert!(d
        .expect_nack(HostMsg::Start {
            mode: Mode::Timer { rate_hz: 0 },
            streams: Streams::default()
        })
        .contains("BadRate"));
    assert!(d
        .expect_nack(HostMsg::Start {
            mode: Mode::Timer { rate_hz: 500_000 },
            streams: Streams::default()
        })
        .contains("BadRate"));
}

#[test]
fn timer_mode_steps_on_ticks_and_counts_misses() {
    let mut d = Dev::new();
    // Clock 1 MHz, rate 1 kHz: period 1000 clocks; a step reads the clock twice (10 apart).
    d.expect_ack(HostMsg::Start {
        mode: Mode::Timer { rate_hz: 1000 },
        streams: Streams::default(),
    });
    assert_eq!(d.io.ticker.rate, Some(1000));
    let u = heapless::Vec::from_slice(&[2048, 1024]).unwrap();
    assert!(
        d.request(HostMsg::Input { seq: 5, values: u }).is_empty(),
        "timer mode: input stored, no reply"
    );
    for _ in 0..100 {
        d.io.ticker.ticks.push_back(1);
        d.pump();
    }
    let s = d.stats();
    assert_eq!((s.steps, s.ticks, s.deadline_misses), (100, 100, 0));
    // A tick reads the clock at its start, for the device time and at its end.
    assert_eq!(s.max_step_clocks, 20);
    // Ticks pile up by 3: the last one steps, the two before it were skipped (2 misses).
    d.io.ticker.ticks.push_back(3);
    d.pump();
    let s = d.stats();
    assert_eq!((s.steps, s.ticks, s.deadline_misses), (101, 103, 2));
    // A slow step: one more tick arrives while it runs. That tick missed its deadline
    // once; the late tick then steps on time: 1 miss, not 2.
    d.io.ticker.ticks.extend([1, 1, 0]);
    d.pump();
    let s = d.stats();
    assert_eq!((s.steps, s.ticks, s.deadline_misses), (103, 105, 3));
    d.expect_ack(HostMsg::Stop);
    assert_eq!(d.io.ticker.rate, None);
    d.io.ticker.ticks.push_back(5);
    d.pump();
    assert_eq!(d.stats().steps, 103, "stopped: ticks do not step");
}

#[test]
fn timer_telemetry_uses_latest_input_and_selected_units() {
    let mut d = Dev::new();
    let mut units = heapless::Vec::new();
    units.extend_from_slice(&[0, 31]).unwrap();
    let streams = Streams {
        every: 2,
        state_units: units.clone(),
        rate_units: units,
        events: false,
    };
    d.expect_ack(HostMsg::Start {
        mode: Mode::Timer { rate_hz: 1000 },
        streams,
    });
    let inputs = discrimination_inputs(10, 2, 4);
    let mut tel = Vec::new();
    for (k, u) in inputs.iter().enumerate() {
        assert!(d
            .request(HostMsg::Input {
                seq: 100 + k as u32,
                values: heapless::Vec::from_slice(u).unwrap()
            })
            .is_empty());
        d.io.ticker.ticks.push_back(1);
        d.pump();
        tel.extend(d.take_frames());
    }
    assert_eq!(tel.len(), 5, "every 2nd step");
    let want = host_run(DEFAULT_BLOB, &inputs);
    for (j, f) in tel.iter().enumerate() {
        let t = telemetry(f);
        let k = 2 * j + 1;
        assert_eq!((t.tick, t.input_seq), (k as u32 + 1, 100 + k as u32));
        assert_eq!(t.outputs.to_vec(), want[k]);
        assert_eq!((t.state.len(), t.rates.len()), (2, 2));
    }
}

#[test]
fn stimulus_map_drives_pins_and_reports() {
    let mut d = Dev::new();
    let mut rules = heapless::Vec::new();
    rules
        .push(Rule::Pwm {
            source: Source::Output(0),
            channel: 0,
            lo: -4096,
            hi: 4096,
        })
        .unwrap();
    rules
        .push(Rule::Ttl {
            source: Source::Output(1),
            pin: 0,
            on: 0,
            off: -1,
        })
        .unwrap();
    rules.push(Rule::Sync { pin: 1, every: 4 }).unwrap();
    d.expect_ack(HostMsg::SetStimulusMap {
        rules: rules.clone(),
    });
    let mut bad = rules.clone();
    bad[2] = Rule::Sync { pin: 2, every: 4 };
    assert!(d
        .expect_nack(HostMsg::SetStimulusMap { rules: bad })
        .contains("BadIndex { at: 2 }"));
    d.expect_ack(HostMsg::Start {
        mode: Mode::Lockstep,
        streams: Streams {
            every: 1,
            events: true,
            ..Streams::default()
        },
    });
    let inputs = discrimination_inputs(40, 2, 11);
    let want = host_run(DEFAULT_BLOB, &inputs);
    let mut level = false;
    let mut events = 0;
    for (k, u) in inputs.iter().enumerate() {
        let f = d.request(HostMsg::Input {
            seq: k as u32,
            values: heapless::Vec::from_slice(u).unwrap(),
        });
        let t = telemetry(&f[0]);
        let y = &want[k];
        let duty = neuroloop_firmware::stimulus::pwm_permyriad(y[0], -4096, 4096);
        let new_level = if level { y[1] > -1 } else { y[1] >= 0 };
        assert_eq!(
            t.stimulus.to_vec(),
            vec![duty, new_level as u16, (k % 4 == 0) as u16]
        );
        assert_eq!(
            d.io.actuators.pwm[0].0,
            (duty as u32 * 1000 / 10_000) as u16
        );
        assert_eq!(d.io.actuators.pins[0].0, new_level);
        assert_eq!(d.io.actuators.pins[1].0, k % 4 == 0);
        if new_level != level {
            events += 1;
            assert_eq!(f.len(), 2);
            assert!(
                matches!(f[1].packet().unwrap().msg, DeviceMsg::Event(e) if e.high == new_level && e.rule == 1)
            );
        }
        level = new_level;
    }
    let _ = events;
}

#[test]
fn heartbeat_once_a_second_of_device_time_with_counters() {
    let mut d = Dev::new();
    d.expect_ack(HostMsg::Start {
        mode: Mode::Timer { rate_hz: 1000 },
        streams: Streams::default(),
    });
    // 10 clocks per clock read at 1 MHz: about 3.5 s of device time.
    for _ in 0..50_000 {
        d.io.ticker.ticks.push_back(1);
        d.pump();
    }
    let _ = d.take_frames();
    let hb = &d.heartbeats;
    let seconds = d.io.ticker.clock / 1_000_000;
    assert!(seconds >= 2);
    assert_eq!(hb.len() as u32, seconds, "{hb:?}");
    for (k, h) in hb.iter().enumerate() {
        let s = (k as u64 + 1) * 1_000_000;
        assert!((s..s + 50).contains(&h.device_us), "{h:?}");
        assert!(h.running);
    }
    assert!(hb[0].stats.steps > 0 && hb[0].stats.steps < hb[1].stats.steps);
    assert!(hb.iter().all(|h| h.stats.deadline_misses == 0));
}

#[test]
fn full_tx_queue_drops_and_counts_telemetry_and_the_loop_keeps_stepping() {
    let mut d = Dev::new();
    let mut units: heapless::Vec<u16, MAX_UNITS> = heapless::Vec::new();
    units.extend(0..16);
    d.expect_ack(HostMsg::Start {
        mode: Mode::Timer { rate_hz: 1000 },
        streams: Streams {
            every: 1,
            state_units: units.clone(),
            rate_units: units,
            events: false,
        },
    });
    // The link carries 20 bytes per poll; a telemetry frame is ~110 bytes.
    d.io.serial.link = 20;
    d.io.serial.cap = 1024;
    let n = 400;
    let mut wire = Vec::new();
    for _ in 0..n {
        d.io.ticker.ticks.push_back(1);
        d.pump();
        wire.append(&mut d.io.serial.tx);
    }
    // What is still queued reaches the wire too (the host reads on).
    wire.extend(d.io.serial.queue.drain(..));
    let s = d.stats();
    assert_eq!((s.steps, s.ticks, s.deadline_misses), (n, n, 0));
    let mut frames = Vec::new();
    d.deframer.feed(&wire, &mut frames);
    let ticks: Vec<u32> = frames
        .iter()
        .filter_map(|f| match f.packet().unwrap().msg {
            DeviceMsg::Telemetry(t) => Some(t.tick),
            _ => None,
        })
        .collect();
    assert!(s.telemetry_dropped > n / 2, "{s:?}");
    // Every frame whole or not at all: the ticks received plus the drops are the steps.
    assert_eq!(ticks.len() as u32 + s.telemetry_dropped, s.steps);
    assert!(ticks.windows(2).all(|w| w[0] < w[1]));
    // Replies still get through the full queue.
    d.io.serial.link = 20;
    let f = d.request(HostMsg::GetStats);
    assert!(f
        .iter()
        .any(|f| matches!(f.packet().unwrap().msg, DeviceMsg::Stats { .. })));
}

#[test]
fn random_sync_pulses_are_events_with_device_time() {
    let mut d = Dev::new();
    let (seed, min_ms, max_ms, pulse_ms) = (12345, 20, 40, 5);
    let mut rules = heapless::Vec::new();
    rules
        .push(Rule::RandomSync {
            pin: 1,
            seed,
            min_ms,
            max_ms,
            pulse_ms,
        })
        .unwrap();
    let f = d.request(HostMsg::SetStimulusMap { rules });
    let set_us = match f[0].packet().unwrap().msg {
        DeviceMsg::Ack { device_us, .. } => device_us,
        other => panic!("{other:?}"),
    };
    // Idle polls advance the mock clock 10 µs per read: run ~300 ms of device time.
    let mut events = Vec::new();
    for _ in 0..12_000 {
        d.io.serial.rx.extend([0u8]);
        d.pump();
        for f in d.take_frames() {
            if let DeviceMsg::Event(e) = f.packet().unwrap().msg {
                events.push(e);
            }
        }
    }
    assert!(events.len() >= 10, "{}", events.len());
    let mut gen = RandomSync::new(seed, min_ms, max_ms);
    let mut rise = set_us;
    for pair in events.chunks(2) {
        rise += gen.next_interval_ms() as u64 * 1000;
        let k = pair[0].value;
        assert!(pair[0].high && pair[0].rule == 0);
        // Edges come within one poll (a few clock reads) of their scheduled time.
        // (`rise` counts from the Ack's time, read just after the map's start time.)
        assert!(
            (rise - 50..rise + 100).contains(&pair[0].device_us),
            "{pair:?} {rise}"
        );
        if let Some(fall) = pair.get(1) {
            assert!(!fall.high && fall.value == k);
            let at = rise + pulse_ms as u64 * 1000;
            assert!((at - 50..at + 100).contains(&fall.device_us), "{fall:?}");
        }
    }
}
