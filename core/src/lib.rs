#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod activation;
pub mod blob;
pub mod cell;
pub mod fixed;
pub mod kernel;
pub mod model;
pub mod network;
pub mod protocol;
pub mod rng;

pub use activation::Transfer;
pub use blob::{CellKind, Error};
pub use model::Model;
pub use network::{Network, State, StepError};
