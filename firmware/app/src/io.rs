//! What a board provides: [`Serial`], [`Ticker`], [`Actuators`] (bundled in [`Io`]).

use embedded_hal::digital::OutputPin;
use embedded_hal::pwm::SetDutyCycle;

/// A byte pipe to the host whose transmit side is a queue the board drains in the
/// background (interrupt, DMA or USB), so that queueing a frame never waits for the line.
pub trait Serial {
    /// The next received byte, if one is waiting (never blocks).
    fn read(&mut self) -> Option<u8>;
    /// Queue a whole frame if it fits, else queue nothing and return `false` (never blocks).
    fn try_queue(&mut self, frame: &[u8]) -> bool;
    /// Bytes free in the transmit queue.
    fn tx_free(&self) -> usize;
    /// Capacity of the transmit queue, bytes.
    fn tx_capacity(&self) -> usize;
    /// Move queued bytes toward the wire, for boards whose drain is polled (USB); boards
    /// draining from an interrupt or DMA do nothing here. The app calls it on every poll.
    fn tx_pump(&mut self) {}
}

/// A clock and a periodic tick.
pub trait Ticker {
    /// Frequency of [`Ticker::now`], Hz.
    fn clock_hz(&self) -> u32;
    /// A free-running counter at `clock_hz` (wraps at `u32::MAX`).
    fn now(&mut self) -> u32;
    /// Start ticking at `rate_hz`; `false` if the hardware cannot.
    fn start(&mut self, rate_hz: u32) -> bool;
    /// Stop ticking (the clock keeps running).
    fn stop(&mut self);
    /// Ticks since the last call (0 when stopped).
    fn take_ticks(&mut self) -> u32;
}

/// Stimulus outputs: PWM channels and digital pins, addressed by index.
pub trait Actuators {
    /// Number of PWM channels.
    fn pwm_channels(&self) -> u8;
    /// Number of TTL/sync pins.
    fn pins(&self) -> u8;
    /// Set channel `ch` to `permyriad` / 10 000 of full duty (out-of-range `ch`: ignored).
    fn set_pwm(&mut self, ch: u8, permyriad: u16);
    /// Drive pin `pin` (out-of-range: ignored).
    fn set_pin(&mut self, pin: u8, high: bool);
}

/// [`Actuators`] over embedded-hal: `NP` PWM channels of type `P`, `NO` pins of type `O`.
/// Hardware errors are ignored (a stimulus line has nobody to report to mid-step).
#[derive(Debug)]
pub struct Outputs<P, O, const NP: usize, const NO: usize> {
    /// PWM channels, index = `channel` in rules.
    pub pwm: [P; NP],
    /// Pins, index = `pin` in rules.
    pub pins: [O; NO],
}

impl<P: SetDutyCycle, O: OutputPin, const NP: usize, const NO: usize> Actuators
    for Outputs<P, O, NP, NO>
{
    fn pwm_channels(&self) -> u8 {
        NP as u8
    }
    fn pins(&self) -> u8 {
        NO as u8
    }
    fn set_pwm(&mut self, ch: u8, permyriad: u16) {
        if let Some(p) = self.pwm.get_mut(ch as usize) {
            let _ = p.set_duty_cycle_fraction(permyriad.min(10_000), 10_000);
        }
    }
    fn set_pin(&mut self, pin: u8, high: bool) {
        if let Some(p) = self.pins.get_mut(pin as usize) {
            let _ = if high { p.set_high() } else { p.set_low() };
        }
    }
}

/// A board without stimulus outputs.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoActuators;

impl Actuators for NoActuators {
    fn pwm_channels(&self) -> u8 {
        0
    }
    fn pins(&self) -> u8 {
        0
    }
    fn set_pwm(&mut self, _: u8, _: u16) {}
    fn set_pin(&mut self, _: u8, _: bool) {}
}

/// The board's I/O, passed to [`App::poll`](crate::App::poll).
#[derive(Debug)]
pub struct Io<S, T, A> {
    /// Protocol byte pipe.
    pub serial: S,
    /// Clock and tick.
    pub ticker: T,
    /// Stimulus outputs.
    pub actuators: A,
}
