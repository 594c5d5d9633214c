//! Logging shim (after embassy's `fmt.rs`): `trace!` … `error!` forward to [`defmt`] with
//! the crate feature `defmt`, and compile to nothing otherwise (the arguments are still
//! type-checked and borrowed, so no "unused" warnings either way).
//!
//! `#[macro_use] mod fmt;` comes first in `lib.rs`, so every module sees the macros.
//!
//! Format strings use defmt syntax (`{}`, `{=u32}`, `{:#x}`); without the feature they are
//! never parsed, so build with `--features defmt` (CI does) after editing a message.
//! [`Debug2Format`] logs a `core::fmt::Debug` value (types without `defmt::Format`).
#![allow(unused_macros, unused_imports)]

macro_rules! trace {
    ($s:literal $(, $x:expr)* $(,)?) => {
        {
            #[cfg(feature = "defmt")]
            ::defmt::trace!($s $(, $x)*);
            #[cfg(not(feature = "defmt"))]
            let _ = ($( & $x ),*);
        }
    };
}

macro_rules! debug {
    ($s:literal $(, $x:expr)* $(,)?) => {
        {
            #[cfg(feature = "defmt")]
            ::defmt::debug!($s $(, $x)*);
            #[cfg(not(feature = "defmt"))]
            let _ = ($( & $x ),*);
        }
    };
}

macro_rules! info {
    ($s:literal $(, $x:expr)* $(,)?) => {
        {
            #[cfg(feature = "defmt")]
            ::defmt::info!($s $(, $x)*);
            #[cfg(not(feature = "defmt"))]
            let _ = ($( & $x ),*);
        }
    };
}

macro_rules! warn {
    ($s:literal $(, $x:expr)* $(,)?) => {
        {
            #[cfg(feature = "defmt")]
            ::defmt::warn!($s $(, $x)*);
            #[cfg(not(feature = "defmt"))]
            let _ = ($( & $x ),*);
        }
    };
}

macro_rules! error {
    ($s:literal $(, $x:expr)* $(,)?) => {
        {
            #[cfg(feature = "defmt")]
            ::defmt::error!($s $(, $x)*);
            #[cfg(not(feature = "defmt"))]
            let _ = ($( & $x ),*);
        }
    };
}

/// Logs a value through its `core::fmt::Debug` impl (defmt's `Debug2Format`; a plain
/// wrapper without the feature).
#[cfg(feature = "defmt")]
pub(crate) use defmt::Debug2Format;

/// Logs a value through its `core::fmt::Debug` impl (defmt's `Debug2Format`; a plain
/// wrapper without the feature).
#[cfg(not(feature = "defmt"))]
#[allow(dead_code)]
pub(crate) struct Debug2Format<'a, T: ?Sized>(pub &'a T);
