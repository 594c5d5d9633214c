//! neuroloop host tools: train leaky RNNs on cognitive tasks, quantize them to the
//! fixed-point blob the firmware runs, evaluate float against fixed, inspect blobs.
//!
//! # Layers
//!
//! The crate is built in three layers, each depending only on the ones below it:
//!
//! 1. [`cli`] — the clap structs; each converts to the typed config of a command.
//! 2. [`commands`] — one file per subcommand: typed config → `validate()` → library call
//!    → report (human text on stderr, `--json` on stdout). The only layer that uses
//!    `anyhow`.
//! 3. The library, by concept, returning typed errors and never seeing the command line:
//!    - [`task`]: cognitive tasks and reproducible trial streams;
//!    - [`model`]: the float model, its file format, forward run and initialisers;
//!    - [`linalg`]: scalar trait, GEMM, transfer function, BPTT step kernels (SIMD);
//!    - [`train`]: trainer, trainable network, BPTT workspace, Adam, checkpoints, the
//!      parallel split of a batch;
//!    - [`quantize`]: float model → fixed-point blob;
//!    - [`eval`], [`compare`], [`sim`], [`run`], [`inspect`], [`bench`]: evaluation,
//!      float vs fixed, the blob simulator, running recorded inputs, blob description,
//!      training benchmark;
//!    - [`noise`]: recurrent noise on or off, the same on both sides of a comparison;
//!    - [`cost`]: memory and time estimated before work, refusals and warnings;
//!    - [`interop`]: NumPy and PsychRNN files;
//!    - [`rig`]: the board client (transports, protocol client with timeouts), session
//!      recorder, recovery, clock alignment and the device simulator;
//!    - [`sweep`]: populations of networks: grid sweeps, run locally or as Slurm arrays;
//!    - [`progress`]: the one progress bar.
//!
//! Within the library no two files import each other, directly or through a loop
//! (checked with `rs-cycles`); `mod.rs` files only list and re-export their children.
#![deny(missing_docs)]

pub mod bench;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod cost;
pub mod eval;
pub mod inspect;
pub mod interop;
pub mod linalg;
pub mod model;
pub mod noise;
pub mod outputs;
pub mod plot;
pub mod progress;
pub mod quantize;
pub mod rig;
pub mod run;
pub mod sim;
pub mod sweep;
pub mod task;
pub mod train;

pub use model::{FloatModel, Transfer};
