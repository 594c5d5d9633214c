//! The trainer: BPTT + Adam on PsychRNN's leaky rate RNN, a GRU or an LSTM
//! ([`crate::model::Cell`]), on every core.
//!
//! | file | holds |
//! |---|---|
//! | `config.rs` | [`TrainConfig`]: the TOML file and its defaults |
//! | `validate.rs` | [`TrainConfig::validate`]: every key range-checked |
//! | `estimate.rs` | memory, checkpoint size and time of a run; machine and blob limits |
//! | `net.rs` | [`Net`]: raw parameters, constraints, effective weights |
//! | `workspace.rs` | [`Workspace`]: forward, loss, BPTT over a chunk of trials (leaky cell) |
//! | `gated.rs` | what the GRU and LSTM passes share: input projection, weight gradients |
//! | `gru.rs` | the GRU's forward and BPTT |
//! | `lstm.rs` | the LSTM's (both variants) forward and BPTT |
//! | `objective.rs` | [`LossKind`], [`Objective`]: loss and regularisers |
//! | `parallel.rs` | the split of a batch over worker threads |
//! | `adam.rs` | Adam and gradient clipping |
//! | `checkpoint.rs` | the resumable checkpoint file |
//! | `trainer.rs` | [`Trainer`]: the training loop |
//! | `log.rs` | [`TrainLog`]: the per-batch training log beside the checkpoint |
//!
//! One batch = generate `batch` trials, forward, loss, backward, PsychRNN's gradient
//! handling (fixed-weight masks, per-tensor clip to norm 1), Adam. The batch is split into
//! one chunk per worker thread; each worker generates, runs and differentiates its own
//! trials in preallocated buffers ([`Workspace`]), then the gradients are summed.
//! Every trial draws from its own generator seeded by `(seed, batch, trial)`, so the
//! trials are the same for any thread count and a resumed run continues exactly where it
//! stopped. The summed gradient is not bit-identical across thread counts: each worker
//! sums its own trials, so the float addition order follows the split, and two thread
//! counts differ in the last bits (measured: loss 0.20216354346 with 1 thread, …4949 with
//! 2). A run is bit-reproducible for a fixed `threads` setting.
//!
//! Loop semantics follow PsychRNN `RNN.train`: batches run while `k·batch < trials`
//! (k = 1, 2, …); every `metric_epoch` batches a fresh batch is tested for the curriculum
//! (advance when accuracy ≥ the stage threshold, stop after the last stage) and for
//! `performance_cutoff`.

pub mod adam;
pub mod checkpoint;
pub mod config;
pub mod estimate;
pub mod gated;
pub mod gru;
pub mod log;
pub mod lstm;
pub mod net;
pub mod objective;
pub mod parallel;
pub mod trainer;
pub mod validate;
pub mod workspace;

pub use config::TrainConfig;
pub use log::{log_path, LogRow, TrainLog};
pub use net::{Eff, Net, Params, N_TENSORS, TENSOR_NAMES};
pub use objective::{LossKind, Objective};
pub use parallel::{chunk_sizes, run_chunks, thread_count};
pub use trainer::{TrainError, TrainProgress, TrainSummary, Trainer};
pub use workspace::Workspace;
