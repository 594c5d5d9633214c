//! The stimulus map: after each step, every [`Rule`] turns an output or a rate into an
//! actuator value.
//!
//! | rule | value v from | drives | reported value |
//! |---|---|---|---|
//! | `Pwm{lo, hi}` | `y[i]` or `r[i]` | duty = clamp((v − lo)/(hi − lo), 0, 1) | duty in 1/10 000 |
//! | `Ttl{on, off}` | `y[i]` or `r[i]` | high once v ≥ on, low once v ≤ off (hysteresis) | 0 / 1 |
//! | `Sync{every}` | the step number k | high on steps with k mod every = 0 | 0 / 1 |
//!
//! Integer arithmetic only; a source index past the model's outputs/units reads 0 (a map
//! outliving a model swap never panics).

use heapless::Vec;
use neuroloop_core::protocol::{Event, NackReason, Rule, Source, MAX_RULES};

use crate::Actuators;

/// The rules and the TTL levels they hold (hysteresis memory).
#[derive(Clone, Debug, Default)]
pub struct StimulusMap {
    rules: Vec<Rule, MAX_RULES>,
    high: [bool; MAX_RULES],
}

impl StimulusMap {
    /// No rules.
    pub const fn new() -> Self {
        StimulusMap {
            rules: Vec::new(),
            high: [false; MAX_RULES],
        }
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Check `rules` against the board and the model's sizes, then replace the map and drive
    /// every output it names to its idle level (0 duty, low).
    pub fn set(
        &mut self,
        rules: &[Rule],
        n_out: usize,
        n_rec: usize,
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
            };
            if !ok {
                return Err(NackReason::BadIndex { at: i as u8 });
            }
        }
        self.rules = Vec::from_slice(rules).map_err(|_| NackReason::BadIndex {
            at: MAX_RULES as u8,
        })?;
        self.high = [false; MAX_RULES];
        for r in &self.rules {
            match *r {
                Rule::Pwm { channel, .. } => act.set_pwm(channel, 0),
                Rule::Ttl { pin, .. } | Rule::Sync { pin, .. } => act.set_pin(pin, false),
            }
        }
        Ok(())
    }

    /// Apply every rule after step number `step` (0 = first step after a reset); values
    /// go to `act` and `values`, TTL transitions to `on_event(rule, high, v)`.
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

/// An [`Event`] for the telemetry stream.
pub fn event(tick: u32, rule: u8, high: bool, value: i16) -> Event {
    Event {
        tick,
        rule,
        high,
        value,
    }
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
        map.set(&rules, 1, 4, &mut act).unwrap();
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
        map.set(&[Rule::Sync { pin: 2, every: 3 }], 1, 1, &mut act)
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
        ];
        for bad in cases {
            assert_eq!(
                map.set(&[ok, bad], 2, 4, &mut act),
                Err(NackReason::BadIndex { at: 1 }),
                "{bad:?}"
            );
        }
        assert!(map.rules().is_empty(), "a refused map leaves the old one");
    }
}
