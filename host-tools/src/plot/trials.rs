//! `plot trials`: one panel per condition (a variable's value), showing that condition's
//! first trial: each output channel (solid) against its target (dashed, same colour), the
//! time the loss ignores (mask 0 on every channel) shaded grey.

use super::rollout::Rollout;
use super::style::{self, num, Figure, Mark};
use super::{draw_err, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One panel: a trial's outputs, targets and mask over time.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Caption (`coherence = 0.3`).
    pub caption: String,
    /// Step times, ms.
    pub time: Vec<f64>,
    /// Per channel, per step.
    pub outputs: Vec<Vec<f64>>,
    /// Per channel, per step.
    pub targets: Vec<Vec<f64>>,
    /// Per step: whether any channel is scored.
    pub scored: Vec<bool>,
}

/// The trials figure.
#[derive(Clone, Debug)]
pub struct TrialsPlot {
    /// Title.
    pub title: String,
    /// Panels, by condition.
    pub panels: Vec<Panel>,
}

impl TrialsPlot {
    /// One panel per condition of variable `by`.
    pub fn new(r: &Rollout, by: &str, title: String) -> Result<TrialsPlot, PlotError> {
        let (steps, n_out) = (r.batch.n_steps, r.batch.n_out);
        let panels = r
            .conditions(by)?
            .into_iter()
            .filter_map(|(value, trials)| trials.first().copied().map(|b| (value, b)))
            .map(|(value, b)| {
                let tr = &r.traces[b];
                let at = |a: &[f32], t: usize, o: usize| a[(b * steps + t) * n_out + o] as f64;
                Panel {
                    caption: format!("{by} = {}", num(value)),
                    time: (1..=steps).map(|t| t as f64 * r.dt as f64).collect(),
                    outputs: (0..n_out)
                        .map(|o| (0..steps).map(|t| tr.outputs[t * n_out + o]).collect())
                        .collect(),
                    targets: (0..n_out)
                        .map(|o| (0..steps).map(|t| at(&r.batch.y, t, o)).collect())
                        .collect(),
                    scored: (0..steps)
                        .map(|t| (0..n_out).any(|o| at(&r.batch.mask, t, o) > 0.0))
                        .collect(),
                }
            })
            .collect();
        Ok(TrialsPlot { title, panels })
    }

    fn grid(&self) -> (usize, usize) {
        let n = self.panels.len().max(1);
        let cols = if n <= 4 { n.min(2) } else { 4 };
        (n.div_ceil(cols), cols)
    }
}

/// The spans `[start, end)` of steps where `scored` is false.
pub fn unscored_spans(scored: &[bool]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, &s) in scored.iter().chain(std::iter::once(&true)).enumerate() {
        match (s, start) {
            (false, None) => start = Some(i),
            (true, Some(a)) => {
                spans.push((a, i));
                start = None;
            }
            _ => {}
        }
    }
    spans
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
) -> Result<(), PlotError> {
    let all = p.outputs.iter().chain(&p.targets).flatten().cloned();
    let (lo, hi) = all
        .filter(|v| v.is_finite())
        .fold((0.0f64, 1.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let pad = (hi - lo) * 0.06;
    let (t0, t1) = (0.0, p.time.last().copied().unwrap_or(1.0));
    let mut chart = ChartBuilder::on(area)
        .caption(&p.caption, style::label())
        .margin(10)
        .margin_right(30)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(t0..t1, lo - pad..hi + pad)
        .map_err(draw_err)?;
    style::output_mesh(&mut chart, "time (ms)")?;
    let dt = p.time.first().copied().unwrap_or(1.0);
    chart
        .draw_series(unscored_spans(&p.scored).into_iter().map(|(a, b)| {
            Rectangle::new(
                [(a as f64 * dt, lo - pad), (b as f64 * dt, hi + pad)],
                style::SHADE.filled(),
            )
        }))
        .map_err(draw_err)?;
    for (o, (out, tgt)) in p.outputs.iter().zip(&p.targets).enumerate() {
        let c = style::category(o);
        chart
            .draw_series(DashedLineSeries::new(
                p.time.iter().cloned().zip(tgt.iter().cloned()),
                8,
                5,
                c.stroke_width(2),
            ))
            .map_err(draw_err)?;
        chart
            .draw_series(LineSeries::new(
                p.time.iter().cloned().zip(out.iter().cloned()),
                c.stroke_width(3),
            ))
            .map_err(draw_err)?;
    }
    Ok(())
}

impl Figure for TrialsPlot {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = self.grid();
        (cols as u32 * 520, rows as u32 * 340 + 84)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let root = root.titled(&self.title, style::title()).map_err(draw_err)?;
        let (head, body) = root.split_vertically(34);
        let n_out = self.panels.first().map_or(0, |p| p.outputs.len());
        let mut items = Vec::new();
        for o in 0..n_out {
            items.push((Mark::Line(style::category(o)), format!("output {o}")));
            items.push((Mark::Dashed(style::category(o)), format!("target {o}")));
        }
        items.push((Mark::Box(style::SHADE), "mask 0 (not scored)".to_string()));
        style::legend_row(&head, &items)?;
        let areas = body.split_evenly(self.grid());
        for (p, a) in self.panels.iter().zip(&areas) {
            draw_panel(a, p)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans() {
        let s = [false, false, true, true, false, true, false];
        assert_eq!(super::unscored_spans(&s), vec![(0, 2), (4, 5), (6, 7)]);
        assert!(super::unscored_spans(&[true, true]).is_empty());
    }
}
