//! `plot compare`: the outputs of two runs of the same inputs overlaid (A solid, B
//! dashed, one colour per output channel), a few trials in panels, each panel naming its
//! largest difference; the title gives the RMSE and largest difference over every trial.
//! A is typically a fixed-point blob, B the float model it came from, a `neuroloop run`
//! output or a rig recording.

use super::style::{self, Figure, Mark};
use super::{draw_err, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Outputs of one run: per trial, `steps × n_out` row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Outputs {
    /// Label (a file name and what it is).
    pub label: String,
    /// Per trial.
    pub trials: Vec<Vec<f64>>,
    /// Outputs per step.
    pub n_out: usize,
}

/// How far two runs are apart.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Difference {
    /// Root mean square difference over every output of every step of every trial.
    pub rmse: f64,
    /// Largest absolute difference.
    pub max_abs: f64,
    /// Output range of B (max − min), the scale the differences are read against.
    pub range: f64,
}

/// The difference of `a` and `b` (same trial count, steps and channels, else an error).
pub fn difference(a: &Outputs, b: &Outputs) -> Result<Difference, PlotError> {
    let shape = |o: &Outputs| {
        (
            o.trials.len(),
            o.trials.first().map_or(0, Vec::len),
            o.n_out,
        )
    };
    if shape(a) != shape(b)
        || a.trials
            .iter()
            .zip(&b.trials)
            .any(|(x, y)| x.len() != y.len())
    {
        return Err(PlotError::NoData(format!(
            "{} has {:?} (trials, values per trial, outputs) but {} has {:?}; they must be runs of the same inputs",
            a.label,
            shape(a),
            b.label,
            shape(b)
        )));
    }
    let (mut sq, mut n, mut max_abs) = (0.0, 0usize, 0.0f64);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in a.trials.iter().flatten().zip(b.trials.iter().flatten()) {
        sq += (x - y) * (x - y);
        n += 1;
        max_abs = max_abs.max((x - y).abs());
        lo = lo.min(*y);
        hi = hi.max(*y);
    }
    Ok(Difference {
        rmse: (sq / n.max(1) as f64).sqrt(),
        max_abs,
        range: if n == 0 { 0.0 } else { hi - lo },
    })
}

/// The comparison figure.
#[derive(Clone, Debug)]
pub struct ComparePlot {
    /// Title.
    pub title: String,
    /// Run A (solid).
    pub a: Outputs,
    /// Run B (dashed).
    pub b: Outputs,
    /// Trials shown (the first few).
    pub shown: usize,
    /// Step length, ms (1 when unknown: the x axis is then in steps).
    pub dt: f64,
    /// The difference over every trial.
    pub diff: Difference,
}

/// B's colour for channel colour `c`: darker, so the dashes show on A's line.
fn dark(c: RGBColor) -> RGBColor {
    RGBColor(c.0 / 2, c.1 / 2, c.2 / 2)
}

/// Trials drawn.
pub const PANELS: usize = 3;

impl ComparePlot {
    /// Compare `a` with `b`; `dt` in ms, or `None` for steps.
    pub fn new(
        a: Outputs,
        b: Outputs,
        dt: Option<f64>,
        title: &str,
    ) -> Result<ComparePlot, PlotError> {
        let diff = difference(&a, &b)?;
        Ok(ComparePlot {
            title: format!(
                "{title}: RMSE {:.3e}, max |A−B| {:.3e} ({:.3} % of range)",
                diff.rmse,
                diff.max_abs,
                100.0 * diff.max_abs / diff.range.max(f64::MIN_POSITIVE)
            ),
            shown: a.trials.len().min(PANELS),
            a,
            b,
            dt: dt.unwrap_or(1.0),
            diff,
        })
    }

    fn draw_trial<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        k: usize,
    ) -> Result<(), PlotError> {
        let n = self.a.n_out.max(1);
        let (ta, tb) = (&self.a.trials[k], &self.b.trials[k]);
        let steps = ta.len() / n;
        let (lo, hi) = ta
            .iter()
            .chain(tb)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let (lo, hi) = if lo < hi {
            (lo, hi)
        } else {
            (lo - 1.0, lo + 1.0)
        };
        let pad = (hi - lo) * 0.06;
        let max_abs = ta
            .iter()
            .zip(tb)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        let t1 = (steps as f64 * self.dt).max(self.dt);
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("trial {k}: max |A−B| {max_abs:.3e}"),
                style::label(),
            )
            .margin(10)
            .margin_right(30)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..t1, lo - pad..hi + pad)
            .map_err(draw_err)?;
        style::output_mesh(
            &mut chart,
            if self.dt == 1.0 { "step" } else { "time (ms)" },
        )?;
        let time = |t: usize| (t + 1) as f64 * self.dt;
        for o in 0..n {
            let c = style::category(o);
            chart
                .draw_series(LineSeries::new(
                    (0..steps).map(|t| (time(t), ta[t * n + o])),
                    c.stroke_width(3),
                ))
                .map_err(draw_err)?;
            let dark = dark(c);
            chart
                .draw_series(DashedLineSeries::new(
                    (0..steps).map(|t| (time(t), tb[t * n + o])),
                    6,
                    6,
                    dark.stroke_width(2),
                ))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

impl Figure for ComparePlot {
    fn size(&self) -> (u32, u32) {
        (1000, 300 * self.shown.max(1) as u32 + 140)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let root = root.titled(&self.title, style::label()).map_err(draw_err)?;
        let (head, body) = root.split_vertically(34);
        let mut items = Vec::new();
        for o in 0..self.a.n_out {
            let c = style::category(o);
            items.push((Mark::Line(c), format!("A output {o}")));
            items.push((Mark::Dashed(dark(c)), format!("B output {o}")));
        }
        style::legend_row(&head, &items)?;
        let (head2, body) = body.split_vertically(30);
        head2
            .draw_text(
                &format!("A: {}     B: {}", self.a.label, self.b.label),
                &style::small(),
                (20, 4),
            )
            .map_err(draw_err)?;
        for (k, area) in body
            .split_evenly((self.shown.max(1), 1))
            .iter()
            .enumerate()
            .take(self.shown)
        {
            self.draw_trial(area, k)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_and_shape_check() {
        let a = Outputs {
            label: "a".into(),
            trials: vec![vec![0.0, 1.0, 2.0, 3.0]],
            n_out: 2,
        };
        let mut b = a.clone();
        b.trials[0][3] = 2.0;
        let d = difference(&a, &b).unwrap();
        assert_eq!((d.rmse, d.max_abs, d.range), (0.5, 1.0, 2.0));
        b.trials[0].push(0.0);
        assert!(difference(&a, &b).is_err());
    }
}
