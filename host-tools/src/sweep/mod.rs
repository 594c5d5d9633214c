//! Populations of networks: a sweep file's grid of training runs, run on this machine
//! (`neuroloop sweep run`) or as a Slurm job array (`neuroloop sweep slurm`), then
//! tabulated (`neuroloop sweep collect`).
//!
//! | file | holds |
//! |---|---|
//! | `file.rs` | [`SweepFile`]: the TOML sweep file (base config, axes, seeds, steps) and its checks |
//! | `plan.rs` | [`Plan`]: the grid product, each run's resolved config and stable id |
//! | `result.rs` | the output folder's layout, [`RunResult`], where each run stands |
//! | `runner.rs` | one run (train, quantize, eval, result), and the local runner (`-j`, pinned) |
//! | `slurm.rs` | the `sbatch` array script and its submission |
//! | `collect.rs` | the CSV and JSON table |
//!
//! Slurm is the cluster engine labs already have, so a sweep on a cluster is a Slurm job
//! array whose tasks each run one grid point; nothing here schedules work across machines.

pub mod collect;
pub mod file;
pub mod plan;
pub mod result;
pub mod runner;
pub mod slurm;

pub use file::{SweepError, SweepFile};
pub use plan::{Plan, PlanRecord};
pub use result::{RunResult, RunState};
