//! The stimulus map: after each step, every [`Rule`] turns an output or a rate into an
//! actuator value.
//!
//! | rule | value v from | drives | reported value |
//! |---|---|---|---|
//! | `Pwm{lo, hi}` | `y[i]` or `r[i]` | duty = clamp((v − lo)/(hi − lo), 0, 1) | duty in 1/10 000 |
//! | `Ttl{on, off}` | `y[i]` or `r[i]` | high once v ≥ on, low once v ≤ off (hysteresis) | 0 / 1 |
//! | `Sync{every}` | the step number k | high on steps with k mod every = 0 | 0 / 1 |
//! | `RandomSync{seed, min_ms, max_ms, pulse_ms}` | device time | pulses at pseudo-random intervals ([`RandomSync`]) | 0 / 1 |
//!
//! Integer arithmetic only; a source index past the model's outputs/units reads 0 (a map
//! outliving a model swap never panics). Step-driven rules run in [`StimulusMap::apply`]
//! after each step; `RandomSync` runs on the device clock in [`StimulusMap::on_clock`],
//! stepping or not.

use heapless::Vec;
use neuroloop_core::protocol::{NackReason, RandomSync, Rule, Source, MAX_RULES};

use crate::Actuators;

/// Schedule of one `RandomSync` rule, in device µs. Edges are scheduled from the previous
/// scheduled edge, so a late loop delays one edge but never shifts the train.
#[derive(Clone, Copy, Debug)]
struct SyncTrain {
    gen: RandomSync,
    pulse_us: u64,
    next_rise: u64,
    fall_at: u64,
    pulse_no: u32,
}

/// The rules and the levels they hold (hysteresis memory, sync trains).
#[derive(Clone, Debug, Default)]
pub struct StimulusMap {
    rules: Vec<Rule, MAX_RULES>,
    high: [bool; MAX_RULES],
    trains: [Option<SyncTrain>; MAX_RULES],
}

impl StimulusMap {
    /// No rules.
    pub const fn new() -> Self {
        StimulusMap {
            rules: Vec::new(),
            high: [false; MAX_RULES],
            trains: [None; MAX_RULES],
        }
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Check `rules` against the board and the model's sizes, then replace the map and drive
    /// every output it names to its idle level (0 duty, low). `RandomSync` trains start
    /// at `now_us` (device time).
    pub fn set(
        &mut self,
        rules: &[Rule],
        n_out: usize,
        n_rec: usize,
        now_us: u64,
        act: &mut impl Actuators,
    ) -> Result<(), NackReason<'static>> {
        for (i, r) in rules.iter().enumerate() {
            let src_ok = |s: &Source| match *s {
                Source::Output(k) => (k as usize) < n_out,
                Source::Rate(k) => (k as usize) < n_rec,
            };
            let ok = match r {
                Rule::Pwm {
                    source,
                    channel,
                    lo,
                    hi,
                } => src_ok(source) && *channel < act.pwm_channels() && lo != hi,
                Rule::Ttl {
                    source,
                    pin,
                    on,
                    off,
                } => src_ok(source) && *pin < act.pins() && off <= on,
                Rule::Sync { pin, every } => *pin < act.pins() && *every >= 1,
                Rule::RandomSync {
                    pin,
                    seed,
                    min_ms,
                    max_ms,
                    pulse_ms,
                } => {
                    *pin < act.pins()
                        && *seed != 0
                        && *pulse_ms >= 1
                        && min_ms > pulse_ms
                        && max_ms >= min_ms
                }
            };
            if !ok {
                return Err(NackReason::BadIndex { at: i as u8 });
            }
        }
        self.rules = Vec::from_slice(rules).map_err(|_| NackReason::BadIndex {
            at: MAX_RULES as u8,
        })?;
        self.high = [false; MAX_RULES];
        self.trains = [None; MAX_RULES];
        for (i, r) in self.rules.iter().enumerate() {
            match *r {
                Rule::Pwm { channel, .. } => act.set_pwm(channel, 0),
                Rule::Ttl { pin, .. } | Rule::Sync { pin, .. } => act.set_pin(pin, false),
                Rule::RandomSync {
                    pin,
                    seed,
                    min_ms,
                    max_ms,
                    pulse_ms,
                } => {
                    act.set_pin(pin, false);
                    let mut gen = RandomSync::new(seed, min_ms, max_ms);
                    let first = gen.next_interval_ms() as u64 * 1000;
                    self.trains[i] = Some(SyncTrain {
                        gen,
                        pulse_us: pulse_ms as u64 * 1000,
                        next_rise: now_us.saturating_add(first),
                        fall_at: u64::MAX,
                        pulse_no: 0,
                    });
                }
            }
        }
        Ok(())
    }

    /// Run the clock-driven rules (`RandomSync`) at device time `now_us`: every edge due
    /// drives its pin and goes to `on_event(rule, high, pulse number mod 2^15)`.
    pub fn on_clock(
        &mut self,
        now_us: u64,
        act: &mut impl Actuators,
        mut on_event: impl FnMut(u8, bool, i16),
    ) {
        for (i, r) in self.rules.iter().enumerate() {
            let (Rule::RandomSync { pin, .. }, Some(t)) = (r, self.trains[i].as_mut()) else {
                continue;
            };
            let no = (t.pulse_no & 0x7FFF) as i16;
            if self.high[i] && now_us >= t.fall_at {
                self.high[i] = false;
                act.set_pin(*pin, false);
                on_event(i as u8, false, no);
                t.pulse_no = t.pulse_no.wrapping_add(1);
            } else if !self.high[i] && now_us >= t.next_rise {
                self.high[i] = true;
                act.set_pin(*pin, true);
                on_event(i as u8, true, no);
                t.fall_at = t.next_rise.saturating_add(t.pulse_us);
                let next = t.gen.next_interval_ms() as u64 * 1000;
                t.next_rise = t.next_rise.saturating_add(next);
            }
        }
    }

    /// Apply every step-driven rule after step number `step` (0 = first step after a
    /// reset); values go to `act` and `values` (`RandomSync`: its current level), TTL
    /// transitions to `on_event(rule, high, v)`.
    pub fn apply(
        &mut self,
        outputs: &[i16],
        rates: &[i16],
        step: u32,
        act: &mut impl Actuators,
        values: &mut Vec<u16, MAX_RULES>,
        mut on_event: impl FnMut(u8, bool, i16),
    ) {
        values.clear();
        let read = |s: Source| match s {
            Source::Output(k) => outputs.get(k as usize).copied().unwrap_or(0),
            Source::Rate(k) => rates.get(k as usize).copied().unwrap_or(0),
        };
        for (i, r) in self.rules.iter().enumerate() {
            let value = match *r {
                Rule::Pwm {
                    source,
                    channel,
                    lo,
                    hi,
                } => {
                    let d = pwm_permyriad(read(source), lo, hi);
                    act.set_pwm(channel, d);
                    d
                }
                Rule::Ttl {
                    source,
                    pin,
                    on,
                    off,
                } => {
                    let v = read(source);
                    let was = self.high[i];
                    let now = if was { v > off } else { v >= on };
                    if now != was {
                        self.high[i] = now;
                        act.set_pin(pin, now);
                        on_event(i as u8, now, v);
                    }
                    now as u16
                }
                Rule::Sync { pin, every } => {
                    let high = step % every.max(1) == 0;
                    if high != self.high[i] {
                        self.high[i] = high;
                        act.set_pin(pin, high);
                    }
                    high as u16
                }
                Rule::RandomSync { .. } => self.high[i] as u16,
            };
            let _ = values.push(value);
        }
    }
}

/// clamp((v − lo)/(hi − lo), 0, 1) in 1/10 000, rounded to nearest; `hi < lo` inverts.
pub fn pwm_permyriad(v: i16, lo: i16, hi: i16) -> u16 {
    let (v, lo, hi) = (v as i64, lo as i64, hi as i64);
    if hi == lo {
        return 0;
    }
    let num = (v - lo) * 10_000;
    let den = hi - lo;
    let q = (2 * num + den) / (2 * den);
    q.clamp(0, 10_000) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Rec {
        pwm: [u16; 2],
        pins: [bool; 3],
        writes: usize,
    }
    impl Actuators for Rec {
        fn pwm_channels(&self) -> u8 {
            2
        }
        fn pins(&self) -> u8 {
            3
        }
        fn set_pwm(&mut self, ch: u8, p: u16) {
            self.pwm[ch as usize] = p;
        }
        fn set_pin(&mut self, pin: u8, high: bool) {
            self.pins[pin as usize] = high;
            self.writes += 1;
        }
    }

    #[test]
    fn pwm_permyriad_clamps_and_rounds() {
        assert_eq!(pwm_permyriad(0, 0, 4096), 0);
        assert_eq!(pwm_permyriad(2048, 0, 4096), 5000);
        assert_eq!(pwm_permyriad(4096, 0, 4096), 10_000);
        assert_eq!(pwm_permyriad(9999, 0, 4096), 10_000);
        assert_eq!(pwm_permyriad(-5, 0, 4096), 0);
        assert_eq!(pwm_permyriad(1, 0, 3), 3333);
        assert_eq!(pwm_permyriad(2, 0, 3), 6667);
        assert_eq!(pwm_permyriad(0, 4096, 0), 10_000, "inverted range");
        assert_eq!(pwm_permyriad(i16::MAX, i16::MIN, i16::MAX), 10_000);
        assert_eq!(pwm_permyriad(3, 3, 3), 0);
    }

    #[test]
    fn ttl_hysteresis_and_events() {
        let mut map = StimulusMap::new();
        let mut act = Rec::default();
        let rules = [Rule::Ttl {
            source: Source::Output(0),
            pin: 1,
            on: 100,
            off: 50,
        }];
        map.set(&rules, 1, 4, 0, &mut act).unwrap();
        let mut vals = Vec::new();
        let mut events = std::vec::Vec::new();
        let trace = [0i16, 99, 100, 70, 51, 50, 80, 100];
        let mut levels = std::vec::Vec::new();
        for (k, &v) in trace.iter().enumerate() {
            map.apply(&[v], &[], k as u32, &mut act, &mut vals, |r, h, v| {
                events.push((r, h, v))
            });
            levels.push(vals[0]);
            assert_eq!(act.pins[1], vals[0] == 1);
        }
        assert_eq!(levels, [0, 0, 1, 1, 1, 0, 0, 1]);
        assert_eq!(events, [(0, true, 100), (0, false, 50), (0, true, 100)]);
    }

    #[test]
    fn sync_every_n_steps() {
        let mut map = StimulusMap::new();
        let mut act = Rec::default();
        map.set(&[Rule::Sync { pin: 2, every: 3 }], 1, 1, 0, &mut act)
            .unwrap();
        let mut vals = Vec::new();
        let highs: std::vec::Vec<u16> = (0..7)
            .map(|k| {
                map.apply(&[], &[], k, &mut act, &mut vals, |_, _, _| {});
                vals[0]
            })
            .collect();
        assert_eq!(highs, [1, 0, 0, 1, 0, 0, 1]);
    }

    #[test]
    fn pwm_from_rate_and_out_of_range_source_reads_zero() {
        let mut map = StimulusMap::new();
        let mut act = Rec::default();
        map.set(
            &[Rule::Pwm {
                source: Source::Rate(1),
                channel: 1,
                lo: 0,
                hi: 1000,
            }],
            1,
            2,
            0,
            &mut act,
        )
        .unwrap();
        let mut vals = Vec::new();
        map.apply(&[], &[0, 250], 0, &mut act, &mut vals, |_, _, _| {});
        assert_eq!((vals[0], act.pwm[1]), (2500, 2500));
        map.apply(&[], &[0], 1, &mut act, &mut vals, |_, _, _| {});
        assert_eq!(vals[0], 0);
    }

    #[test]
    fn set_rejects_bad_rules_with_index() {
        let mut map = StimulusMap::new();
        let mut act = Rec::default();
        let ok = Rule::Sync { pin: 0, every: 1 };
        let cases = [
            Rule::Pwm {
                source: Source::Output(0),
                channel: 2,
                lo: 0,
                hi: 1,
            },
            Rule::Pwm {
                source: Source::Output(0),
                channel: 0,
                lo: 1,
                hi: 1,
            },
            Rule::Pwm {
                source: Source::Output(5),
                channel: 0,
                lo: 0,
                hi: 1,
            },
            Rule::Ttl {
                source: Source::Rate(9),
                pin: 0,
                on: 1,
                off: 0,
            },
            Rule::Ttl {
                source: Source::Rate(0),
                pin: 0,
                on: 0,
                off: 1,
            },
            Rule::Ttl {
                source: Source::Rate(0),
                pin: 3,
                on: 1,
                off: 0,
            },
            Rule::Sync { pin: 0, every: 0 },
            Rule::RandomSync {
                pin: 3,
                seed: 1,
                min_ms: 10,
                max_ms: 20,
                pulse_ms: 5,
            },
            Rule::RandomSync {
                pin: 0,
                seed: 0,
                min_ms: 10,
                max_ms: 20,
                pulse_ms: 5,
            },
            Rule::RandomSync {
                pin: 0,
                seed: 1,
                min_ms: 10,
                max_ms: 20,
                pulse_ms: 0,
            },
            Rule::RandomSync {
                pin: 0,
                seed: 1,
                min_ms: 5,
                max_ms: 20,
                pulse_ms: 5,
            },
            Rule::RandomSync {
                pin: 0,
                seed: 1,
                min_ms: 10,
                max_ms: 9,
                pulse_ms: 5,
            },
        ];
        for bad in cases {
            assert_eq!(
                map.set(&[ok, bad], 2, 4, 0, &mut act),
                Err(NackReason::BadIndex { at: 1 }),
                "{bad:?}"
            );
        }
        assert!(map.rules().is_empty(), "a refused map leaves the old one");
    }

    #[test]
    fn random_sync_edges_follow_the_reference_schedule() {
        let mut map = StimulusMap::new();
        let mut act = Rec::default();
        let (seed, min_ms, max_ms, pulse_ms) = (0xBEEF, 20, 60, 5);
        let t0 = 1_234_567u64;
        map.set(
            &[Rule::RandomSync {
                pin: 2,
                seed,
                min_ms,
                max_ms,
                pulse_ms,
            }],
            1,
            1,
            t0,
            &mut act,
        )
        .unwrap();
        // The host-side prediction from the reference generator.
        let mut gen = RandomSync::new(seed, min_ms, max_ms);
        let mut want = std::vec::Vec::new();
        let mut rise = t0;
        for k in 0..20i16 {
            rise += gen.next_interval_ms() as u64 * 1000;
            want.push((rise, true, k));
            want.push((rise + pulse_ms as u64 * 1000, false, k));
        }
        // A loop polling every 1 µs sees each edge exactly at its time.
        let mut got = std::vec::Vec::new();
        let end = want.last().unwrap().0;
        let mut vals = Vec::new();
        for now in t0..=end {
            map.on_clock(now, &mut act, |r, h, v| {
                assert_eq!(r, 0);
                got.push((now, h, v));
            });
            if now % 997 == 0 {
                map.apply(&[], &[], 0, &mut act, &mut vals, |_, _, _| {});
                assert_eq!(vals[0], act.pins[2] as u16);
            }
        }
        assert_eq!(got, want);
        assert!(!act.pins[2]);
    }
}
