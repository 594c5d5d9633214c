//! Interoperability with the Python world: NumPy `.npy`/`.npz` files and PsychRNN 1.0.0
//! weight files.
//!
//! - [`npy`]: one array (f4/f8/i4/i8, object arrays as raw pickle bytes);
//! - [`npz`]: a zip of `.npy` members (`np.savez`, `np.savez_compressed`);
//! - [`pickle`]: reads the one pickle PsychRNN writes (`dale_ratio = None`) without executing it;
//! - [`psychrnn`]: PsychRNN weights ⇄ [`FloatModel`](crate::model::FloatModel).
//!
//! The CLI edges (`neuroloop import psychrnn`, `neuroloop export psychrnn`) are
//! [`import_cli`] and [`export_cli`].

pub mod npy;
pub mod npz;
pub mod pickle;
pub mod psychrnn;

use anyhow::Context;

/// `neuroloop import psychrnn WEIGHTS.npz --dt MS --tau MS -o MODEL`.
pub fn import_cli(a: &crate::cli::ImportPsychrnnArgs) -> anyhow::Result<()> {
    let transfer = crate::model::Transfer::from_name(&a.transfer).with_context(|| {
        format!(
            "--transfer {:?}: expected relu, tanh, sigmoid or identity",
            a.transfer
        )
    })?;
    let opts = psychrnn::ImportOptions {
        dt: a.dt,
        tau: a.tau,
        transfer,
        rec_noise: a.rec_noise,
        name: a.name.clone(),
    };
    let imported = psychrnn::import(&a.weights, &opts)?;
    imported.model.save(&a.output)?;
    let m = &imported.model;
    eprintln!(
        "imported {} → {}: n_in {}, n_rec {}, n_out {}, dt {} ms, tau {} ms, {}",
        a.weights.display(),
        a.output.display(),
        m.n_in,
        m.n_rec,
        m.n_out,
        m.dt,
        m.tau,
        m.transfer.name()
    );
    for n in &imported.notes {
        eprintln!("  note: {n}");
    }
    Ok(())
}

/// `neuroloop export psychrnn MODEL -o WEIGHTS.npz`.
pub fn export_cli(a: &crate::cli::ExportPsychrnnArgs) -> anyhow::Result<()> {
    let m = crate::model::load(&a.model)?;
    psychrnn::export_to(&m, &a.output)
        .with_context(|| format!("exporting {} to {}", a.model.display(), a.output.display()))?;
    eprintln!(
        "exported {} → {} (PsychRNN 1.0.0 layout; dt {} ms and tau {} ms are not stored in the file)",
        a.model.display(),
        a.output.display(),
        m.dt,
        m.tau
    );
    Ok(())
}
