//! `neuroloop run`: run any model on recorded inputs ([`crate::run`]) and report.
//!
//! Flags that describe a PsychRNN `.npz` model (`--dt`, `--tau`, `--transfer`,
//! `--rec-noise`) are refused for a model that sets them itself, and `--noise-seed` for a
//! blob (its seed is stored in it), so a flag is never silently ignored. The report states
//! the noise setting and, for a blob, saturation counts; a NaN output is an error.

use super::report;
use crate::interop::psychrnn::ImportOptions;
use crate::model::{detect_kind, file, FileKind};
use crate::noise::Noise;
use crate::outputs::check_output;
use crate::run::RunConfig;
use neuroloop_core::Transfer;
use std::path::PathBuf;

/// Typed config of `neuroloop run`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunCmd {
    /// Model file (native float model, PsychRNN `.npz` or `.nlb`).
    pub model: PathBuf,
    /// Inputs `.npz` (key `x`).
    pub inputs: PathBuf,
    /// Output `.npz`.
    pub output: PathBuf,
    /// Time step, ms (PsychRNN `.npz` models only; with `tau`).
    pub dt: Option<f32>,
    /// Time constant, ms (PsychRNN `.npz` models only; with `dt`).
    pub tau: Option<f32>,
    /// Transfer function (PsychRNN `.npz` models only; default relu).
    pub transfer: Option<Transfer>,
    /// Recurrent noise σ (PsychRNN `.npz` models only; default 0).
    pub rec_noise: Option<f32>,
    /// Noise on/off (`None`: on if a noise seed is given, else off).
    pub noise: Option<Noise>,
    /// Noise seed for float models (default 0).
    pub noise_seed: Option<u64>,
    /// Overwrite an existing output.
    pub force: bool,
    /// JSON summary on stdout.
    pub json: bool,
}

impl RunCmd {
    /// Check the config before any work starts.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_output(&self.output, &[&self.model, &self.inputs], self.force)?;
        if self.dt.is_some() != self.tau.is_some() {
            anyhow::bail!("--dt and --tau go together (they describe a PsychRNN .npz model)");
        }
        if self.noise == Some(Noise::Off) && self.noise_seed.is_some() {
            anyhow::bail!("--noise-seed sets the seed of the recurrent noise, but --noise is off");
        }
        if let Some(r) = self.rec_noise {
            if !(r.is_finite() && r >= 0.0) {
                anyhow::bail!("--rec-noise is {r}; it must be a finite σ ≥ 0");
            }
        }
        Ok(())
    }

    /// The noise setting.
    pub fn noise(&self) -> Noise {
        self.noise.unwrap_or(if self.noise_seed.is_some() {
            Noise::On
        } else {
            Noise::Off
        })
    }

    /// Refuse flags that do not apply to a model of kind `kind` (`what`: its description).
    pub fn check_flags(&self, kind: FileKind, what: &str) -> anyhow::Result<()> {
        if kind != FileKind::Npz {
            let given = [
                ("--dt", self.dt.is_some()),
                ("--tau", self.tau.is_some()),
                ("--transfer", self.transfer.is_some()),
                ("--rec-noise", self.rec_noise.is_some()),
            ];
            if let Some((flag, _)) = given.iter().find(|(_, g)| *g) {
                anyhow::bail!(
                    "{flag} applies only to PsychRNN .npz models (which do not store it); {} is a {what}",
                    self.model.display()
                );
            }
        }
        if kind == FileKind::Blob && self.noise_seed.is_some() {
            anyhow::bail!(
                "--noise-seed applies only to float models; {} is a {what}, whose noise seed is stored in the blob (use --noise on|off)",
                self.model.display()
            );
        }
        Ok(())
    }

    /// The library's run config.
    pub fn config(&self) -> RunConfig {
        let psychrnn = match (self.dt, self.tau) {
            (Some(dt), Some(tau)) => Some(ImportOptions {
                dt,
                tau,
                transfer: self.transfer.unwrap_or(Transfer::Relu),
                rec_noise: self.rec_noise.unwrap_or(0.0),
                name: None,
                task: None,
                init_row: 0,
            }),
            _ => None,
        };
        RunConfig {
            model: self.model.clone(),
            inputs: self.inputs.clone(),
            output: self.output.clone(),
            psychrnn,
            noise: self.noise(),
            noise_seed: self.noise_seed.unwrap_or(0),
        }
    }
}

/// What a model file is, with the settings it carries (for flag errors).
fn describe(path: &std::path::Path) -> anyhow::Result<Option<(FileKind, String)>> {
    let bytes = file::read(path)?;
    let Some(kind) = detect_kind(&bytes) else {
        return Ok(None);
    };
    let what = match kind {
        FileKind::Native => {
            let m = file::from_bytes(path, &bytes)?;
            format!(
                "{} ({}, dt {} ms, tau {} ms, rec_noise {})",
                kind.name(),
                m.transfer.name(),
                m.dt,
                m.tau,
                m.rec_noise
            )
        }
        FileKind::Blob => match neuroloop_core::Model::from_bytes(&bytes) {
            Ok(m) => format!(
                "{} ({}, dt {} ms, tau {} ms, noise seed {})",
                kind.name(),
                m.transfer().name(),
                m.body().meta.dt,
                m.body().meta.tau,
                m.seed()
            ),
            Err(_) => kind.name().to_string(),
        },
        FileKind::Npz => kind.name().to_string(),
    };
    Ok(Some((kind, what)))
}

/// Run and report.
pub fn run(cmd: &RunCmd) -> anyhow::Result<()> {
    if let Some((kind, what)) = describe(&cmd.model)? {
        cmd.check_flags(kind, &what)?;
    }
    let s = crate::run::run(&cmd.config(), |w| eprintln!("{w}"))?;
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    let noise = if s.has_noise {
        format!("recurrent noise {}", s.noise.name())
    } else {
        format!("recurrent noise {} (the model has none)", s.noise.name())
    };
    eprintln!(
        "ran {} trials × {} steps on {} ({}, n_in {}, n_rec {}, n_out {}), {noise} → {}",
        s.batch,
        s.steps,
        cmd.model.display(),
        s.kind,
        s.n_in,
        s.n_rec,
        s.n_out,
        cmd.output.display()
    );
    if let Some(sat) = &s.saturation {
        let warn = if sat.any() { "warning: " } else { "" };
        eprintln!("  {warn}{}", report::saturation(sat));
    }
    Ok(())
}
