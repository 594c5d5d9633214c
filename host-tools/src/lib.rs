//! neuroloop host tools: train leaky RNNs on cognitive tasks, quantize them to the
//! fixed-point blob the firmware runs, evaluate float against fixed, inspect blobs.
//!
//! Modules never see the command line: `cli` parses, the rest takes typed configs.
#![deny(missing_docs)]

pub mod bench;
pub mod cli;
pub mod compare;
pub mod eval;
pub mod init;
pub mod inspect;
pub mod interop;
pub mod model;
pub mod progress;
pub mod quantize;
pub mod quickstart;
pub mod rig;
pub mod rig_cli;
pub mod run;
pub mod sim;
pub mod task;
pub mod train;

pub use model::{FloatModel, Transfer};
