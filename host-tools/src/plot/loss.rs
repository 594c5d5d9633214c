//! `plot loss`: loss (log scale when it spans more than a decade) and training-batch
//! accuracy against trials trained, from the training log; each batch's value in a pale
//! line under a running mean, so the trend reads through the batch-to-batch noise.

use super::style::{self, Figure};
use super::{draw_err, PlotError};
use crate::train::LogRow;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The loss figure.
pub struct LossPlot {
    /// Log rows, in batch order.
    pub rows: Vec<LogRow>,
    /// Title (e.g. the log's file name).
    pub title: String,
}

impl LossPlot {
    /// A figure of `rows`; an empty log is an error.
    pub fn new(rows: Vec<LogRow>, title: String) -> Result<LossPlot, PlotError> {
        if rows.is_empty() {
            return Err(PlotError::NoData(format!(
                "{title}: the training log has no rows yet"
            )));
        }
        Ok(LossPlot { rows, title })
    }
}

/// Running mean over a centred window of `w` points (shrunk at the ends).
pub fn running_mean(v: &[f64], w: usize) -> Vec<f64> {
    let h = w / 2;
    (0..v.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(h), (i + h + 1).min(v.len()));
            v[a..b].iter().sum::<f64>() / (b - a) as f64
        })
        .collect()
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: &[f64],
    y: &[f64],
    (name, colour): (&str, RGBColor),
    log_y: bool,
    fixed: Option<(f64, f64)>,
) -> Result<(), PlotError> {
    let w = (x.len() / 50).max(1) | 1;
    let smooth = running_mean(y, w);
    let finite = || y.iter().cloned().filter(|v| v.is_finite());
    let (lo, hi) = fixed.unwrap_or_else(|| {
        let lo = finite().fold(f64::INFINITY, f64::min);
        let hi = finite().fold(f64::NEG_INFINITY, f64::max);
        if log_y {
            (lo * 0.8, hi * 1.25)
        } else {
            let pad = ((hi - lo) * 0.05).max(1e-6);
            (lo - pad, hi + pad)
        }
    });
    let x_range = x[0].min(0.0)..x[x.len() - 1].max(1.0);
    let pale = colour.mix(0.3);
    let label = if log_y {
        format!("{name} (log scale)")
    } else {
        name.to_string()
    };
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(12)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(80);
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc("trials trained")
                .y_labels(if log_y { 6 } else { 8 })
                .y_desc(label.as_str())
                .label_style(style::small())
                .axis_desc_style(style::label())
                .light_line_style(WHITE.mix(0.0))
                .x_label_formatter(&style::tick)
                .y_label_formatter(&style::tick)
                .draw()
                .map_err(draw_err)?;
            chart
                .draw_series(LineSeries::new(
                    x.iter().cloned().zip(y.iter().cloned()),
                    pale.stroke_width(1),
                ))
                .map_err(draw_err)?;
            chart
                .draw_series(LineSeries::new(
                    x.iter().cloned().zip(smooth.iter().cloned()),
                    colour.stroke_width(3),
                ))
                .map_err(draw_err)?;
        }};
    }
    if log_y {
        draw!(builder
            .build_cartesian_2d(x_range, (lo..hi).log_scale())
            .map_err(draw_err)?);
    } else {
        draw!(builder
            .build_cartesian_2d(x_range, lo..hi)
            .map_err(draw_err)?);
    }
    Ok(())
}

impl Figure for LossPlot {
    fn size(&self) -> (u32, u32) {
        (1000, 760)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let w = (self.rows.len() / 50).max(1) | 1;
        let title = if w > 1 {
            format!("{} (pale: each batch; line: mean of {w})", self.title)
        } else {
            self.title.clone()
        };
        let root = root.titled(&title, style::title()).map_err(draw_err)?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
        let x: Vec<f64> = self.rows.iter().map(|r| r.trials as f64).collect();
        let loss: Vec<f64> = self.rows.iter().map(|r| r.loss).collect();
        let acc: Vec<f64> = self.rows.iter().map(|r| r.accuracy).collect();
        let (lo, hi) = loss
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let log_y = lo > 0.0 && hi / lo > 10.0;
        panel(&top, &x, &loss, ("loss", style::category(0)), log_y, None)?;
        panel(
            &bottom,
            &x,
            &acc,
            ("accuracy", style::category(1)),
            false,
            Some((0.0, 1.02)),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn running_mean_shrinks_at_the_ends() {
        let m = super::running_mean(&[1.0, 2.0, 3.0, 4.0, 5.0], 3);
        assert_eq!(m, vec![1.5, 2.0, 3.0, 4.0, 4.5]);
    }
}
