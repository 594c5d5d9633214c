//! The sweep's table: one row per run of the plan, with its config values, status and
//! error, final loss, float and fixed-point accuracy, blob sizes, wall time and host;
//! written as CSV (`DIR/results.csv`) and JSON (`DIR/results.json`).

use super::plan::PlanRecord;
use super::result::{write_json, ResultError, RunState};
use serde::Serialize;
use std::path::Path;

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Grid index.
    pub index: usize,
    /// Run id.
    pub id: String,
    /// `done`, `failed`, `stale`, `partial` or `missing`.
    pub status: String,
    /// The config values: each axis, then `seed`, by column name.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Last training batch loss.
    pub final_loss: Option<f64>,
    /// Last training batch accuracy.
    pub train_accuracy: Option<f64>,
    /// Batches trained.
    pub batches: Option<u64>,
    /// Float model accuracy on the eval trials.
    pub float_accuracy: Option<f64>,
    /// Fixed-point accuracy per weight format (`i8`, `i16`).
    pub fixed_accuracy: serde_json::Map<String, serde_json::Value>,
    /// Blob bytes per weight format.
    pub blob_bytes: serde_json::Map<String, serde_json::Value>,
    /// Float model file bytes.
    pub model_bytes: Option<u64>,
    /// Wall seconds of the last attempt.
    pub wall_seconds: Option<f64>,
    /// Host of the last attempt.
    pub host: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// The table of `plan`'s runs given their states (in plan order).
pub fn rows(plan: &PlanRecord, states: &[RunState]) -> Vec<Row> {
    plan.runs
        .iter()
        .zip(states)
        .map(|(r, st)| {
            let res = st.result();
            let mut fixed_accuracy = serde_json::Map::new();
            let mut blob_bytes = serde_json::Map::new();
            for f in res.map(|r| r.fixed.as_slice()).unwrap_or(&[]) {
                fixed_accuracy.insert(f.weights.clone(), f.accuracy.into());
                blob_bytes.insert(f.weights.clone(), f.blob_bytes.into());
            }
            Row {
                index: r.index,
                id: r.id.clone(),
                status: st.name().into(),
                params: plan
                    .columns
                    .iter()
                    .cloned()
                    .zip(r.params.iter().cloned())
                    .collect(),
                final_loss: res.and_then(|x| x.train.as_ref()).map(|t| t.loss),
                train_accuracy: res.and_then(|x| x.train.as_ref()).map(|t| t.accuracy),
                batches: res.and_then(|x| x.train.as_ref()).map(|t| t.batches),
                float_accuracy: res.and_then(|x| x.float_accuracy),
                fixed_accuracy,
                blob_bytes,
                model_bytes: res.and_then(|x| x.model_bytes),
                wall_seconds: res.map(|x| x.wall_seconds),
                host: res.map(|x| x.host.clone()),
                error: res
                    .and_then(|x| x.error.clone())
                    .or_else(|| r.invalid.clone().filter(|_| res.is_none())),
            }
        })
        .collect()
}

/// CSV text of `rows`: `index,id,status`, the plan's columns, then the metrics (one
/// accuracy and one blob-size column per weight format of the plan).
pub fn csv_text(plan: &PlanRecord, rows: &[Row]) -> Result<String, csv::Error> {
    let formats: Vec<&str> = plan.steps.quantize.iter().map(|w| w.name()).collect();
    let mut header: Vec<String> = vec!["index".into(), "id".into(), "status".into()];
    header.extend(plan.columns.iter().cloned());
    header.extend(
        ["final_loss", "train_accuracy", "batches", "float_accuracy"]
            .iter()
            .map(|s| s.to_string()),
    );
    for f in &formats {
        header.push(format!("fixed_accuracy_{f}"));
    }
    for f in &formats {
        header.push(format!("blob_bytes_{f}"));
    }
    header.extend(
        ["model_bytes", "wall_seconds", "host", "error"]
            .iter()
            .map(|s| s.to_string()),
    );
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header)?;
    for r in rows {
        let mut rec = vec![r.index.to_string(), r.id.clone(), r.status.clone()];
        for c in &plan.columns {
            rec.push(match r.params.get(c) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => String::new(),
            });
        }
        rec.push(opt(r.final_loss.map(|v| v.to_string())));
        rec.push(opt(r.train_accuracy.map(|v| v.to_string())));
        rec.push(opt(r.batches.map(|v| v.to_string())));
        rec.push(opt(r.float_accuracy.map(|v| v.to_string())));
        for f in &formats {
            let acc = r.fixed_accuracy.get(*f).and_then(serde_json::Value::as_f64);
            rec.push(opt(acc.map(|v| v.to_string())));
        }
        for f in &formats {
            rec.push(
                r.blob_bytes
                    .get(*f)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            );
        }
        rec.push(opt(r.model_bytes.map(|v| v.to_string())));
        rec.push(opt(r.wall_seconds.map(|v| format!("{v:.3}"))));
        rec.push(opt(r.host.clone()));
        rec.push(opt(r.error.clone()));
        w.write_record(&rec)?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Write `DIR/results.csv` and `DIR/results.json` atomically.
pub fn write_tables(dir: &Path, plan: &PlanRecord, rows: &[Row]) -> Result<(), ResultError> {
    let csv_path = dir.join("results.csv");
    let text = csv_text(plan, rows).map_err(|e| ResultError::Format {
        path: csv_path.clone(),
        reason: e.to_string(),
    })?;
    crate::model::file::write_atomic_io(&csv_path, text.as_bytes()).map_err(|source| {
        ResultError::Io {
            path: csv_path,
            source,
        }
    })?;
    write_json(&dir.join("results.json"), &rows)
}
