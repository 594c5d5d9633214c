//! `plot psychometric`: the fraction of trials choosing one output channel against a
//! trial variable, binned (each distinct value its own bin when there are at most 12,
//! else 10 equal-count bins), with ±1 binomial standard error and the maximum-likelihood
//! logistic ([`super::logistic`]) fitted to the single-trial choices.

use super::logistic::{fit, Logistic};
use super::rollout::distinct;
use super::style::{self, Figure, Mark};
use super::{draw_err, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One bin: mean x, fraction choosing the channel, trials.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Bin {
    /// Mean x of the bin's trials.
    pub x: f64,
    /// Fraction of the bin's trials choosing the channel.
    pub p: f64,
    /// Trials in the bin.
    pub n: usize,
}

/// The psychometric data and fit.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Psychometric {
    /// Variable on the x axis.
    pub x_name: String,
    /// The output channel whose choice is counted.
    pub channel: usize,
    /// Bins, by x.
    pub bins: Vec<Bin>,
    /// The fit.
    pub fit: Logistic,
    /// Trials.
    pub trials: usize,
    /// Title.
    pub title: String,
}

/// Bin `x` (each distinct value when at most 12, else 10 equal-count bins).
pub fn bins(x: &[f64], chose: &[bool]) -> Vec<Bin> {
    let mut order: Vec<usize> = (0..x.len()).filter(|&i| x[i].is_finite()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let groups: Vec<Vec<usize>> = if distinct(x).len() <= 12 {
        let mut g: Vec<Vec<usize>> = Vec::new();
        for &i in &order {
            match g.last_mut() {
                Some(last) if x[last[0]] == x[i] => last.push(i),
                _ => g.push(vec![i]),
            }
        }
        g
    } else {
        let per = order.len().div_ceil(10);
        order.chunks(per).map(<[usize]>::to_vec).collect()
    };
    groups
        .iter()
        .map(|g| Bin {
            x: g.iter().map(|&i| x[i]).sum::<f64>() / g.len() as f64,
            p: g.iter().filter(|&&i| chose[i]).count() as f64 / g.len() as f64,
            n: g.len(),
        })
        .collect()
}

impl Psychometric {
    /// Bin and fit: `chose[i]` is whether trial `i` chose `channel`.
    pub fn new(
        x_name: &str,
        x: &[f64],
        chose: &[bool],
        channel: usize,
        lapses: bool,
        title: String,
    ) -> Result<Psychometric, PlotError> {
        if distinct(x).len() < 2 {
            return Err(PlotError::NoData(format!(
                "`{x_name}` takes fewer than 2 values on these trials; choose another --x"
            )));
        }
        Ok(Psychometric {
            x_name: x_name.into(),
            channel,
            bins: bins(x, chose),
            fit: fit(x, chose, lapses),
            trials: x.len(),
            title,
        })
    }
}

impl Figure for Psychometric {
    fn size(&self) -> (u32, u32) {
        (900, 650)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let lo = self.bins.first().map_or(0.0, |b| b.x);
        let hi = self.bins.last().map_or(1.0, |b| b.x);
        let pad = (hi - lo) * 0.05;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, style::title())
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(76)
            .build_cartesian_2d(lo - pad..hi + pad, -0.02f64..1.02)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc(self.x_name.as_str())
            .y_desc(format!("P(choose output {})", self.channel))
            .label_style(style::small())
            .axis_desc_style(style::label())
            .light_line_style(WHITE.mix(0.0))
            .x_label_formatter(&style::tick)
            .y_label_formatter(&style::tick)
            .draw()
            .map_err(draw_err)?;
        let (c_data, c_fit) = (style::category(0), style::category(1));
        chart
            .draw_series(self.bins.iter().map(|b| {
                let se = (b.p * (1.0 - b.p) / b.n as f64).sqrt();
                PathElement::new(
                    vec![(b.x, b.p - se), (b.x, b.p + se)],
                    c_data.stroke_width(2),
                )
            }))
            .map_err(draw_err)?;
        chart
            .draw_series(
                self.bins
                    .iter()
                    .map(|b| Circle::new((b.x, b.p), 6, c_data.filled())),
            )
            .map_err(draw_err)?
            .label(format!("{} trials, binned (±1 s.e.)", self.trials))
            .legend(style::key(Mark::Dot(c_data)));
        let n = 300;
        chart
            .draw_series(LineSeries::new(
                (0..=n).map(|i| {
                    let x = lo - pad + (hi - lo + 2.0 * pad) * i as f64 / n as f64;
                    (x, self.fit.p(x))
                }),
                c_fit.stroke_width(3),
            ))
            .map_err(draw_err)?
            .label(format!("fit: {}", self.fit.describe()))
            .legend(style::key(Mark::Line(c_fit)));
        style::legend_box(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bins_by_value_then_by_count() {
        let x = [1.0, 0.0, 1.0, 0.0, 1.0];
        let c = [true, false, true, true, false];
        let b = super::bins(&x, &c);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].x, b[0].p, b[0].n), (0.0, 0.5, 2));
        assert_eq!((b[1].x, b[1].n), (1.0, 3));
        let x: Vec<f64> = (0..100).map(f64::from).collect();
        let c: Vec<bool> = x.iter().map(|&v| v >= 50.0).collect();
        let b = super::bins(&x, &c);
        assert_eq!(b.len(), 10);
        assert_eq!((b[0].x, b[0].p, b[9].p), (4.5, 0.0, 1.0));
    }
}
