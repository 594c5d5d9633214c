//! `plot pca`: state trajectories projected on the first two principal components of the
//! states (every step of every trial drawn, centred; nalgebra's SVD), a few trials per
//! condition, coloured by the condition's value; a dot marks each trial's start.

use super::rollout::Rollout;
use super::style::{self, num, Figure, Mark};
use super::{draw_err, PlotError};
use nalgebra::DMatrix;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Principal axes of a set of points.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// Mean point.
    pub mean: Vec<f64>,
    /// Principal axes (unit vectors), by decreasing variance.
    pub axes: Vec<Vec<f64>>,
    /// Fraction of the total variance along each axis.
    pub explained: Vec<f64>,
}

impl Pca {
    /// The first `k` principal axes of `rows` (each a point of dimension `dim`).
    pub fn fit(rows: &[f64], dim: usize, k: usize) -> Result<Pca, PlotError> {
        let n = rows.len() / dim.max(1);
        if n < 2 || dim == 0 {
            return Err(PlotError::NoData("PCA needs at least 2 states".into()));
        }
        let mut mean = vec![0.0; dim];
        for r in rows.chunks_exact(dim) {
            mean.iter_mut().zip(r).for_each(|(m, v)| *m += v / n as f64);
        }
        let x = DMatrix::from_fn(n, dim, |i, j| rows[i * dim + j] - mean[j]);
        let svd = x.svd(false, true);
        let v_t = svd
            .v_t
            .ok_or_else(|| PlotError::NoData("SVD did not converge".into()))?;
        let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
        order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
        let total: f64 = svd.singular_values.iter().map(|s| s * s).sum();
        let k = k.min(order.len());
        Ok(Pca {
            mean,
            axes: order[..k]
                .iter()
                .map(|&i| v_t.row(i).iter().cloned().collect())
                .collect(),
            explained: order[..k]
                .iter()
                .map(|&i| svd.singular_values[i].powi(2) / total.max(f64::MIN_POSITIVE))
                .collect(),
        })
    }

    /// The coordinates of point `p` on the axes.
    pub fn project(&self, p: &[f64]) -> Vec<f64> {
        self.axes
            .iter()
            .map(|a| {
                a.iter()
                    .zip(p)
                    .zip(&self.mean)
                    .map(|((a, p), m)| a * (p - m))
                    .sum()
            })
            .collect()
    }
}

/// One trajectory in the (PC1, PC2) plane.
pub type Trajectory = Vec<(f64, f64)>;

/// The PCA figure: trajectories (PC1, PC2) grouped by condition.
#[derive(Clone, Debug)]
pub struct PcaPlot {
    /// Title.
    pub title: String,
    /// Condition variable.
    pub by: String,
    /// Per condition: its value and its trials' trajectories.
    pub groups: Vec<(f64, Vec<Trajectory>)>,
    /// Variance explained by PC1 and PC2.
    pub explained: [f64; 2],
}

/// Trials drawn per condition.
pub const TRIALS_PER_CONDITION: usize = 4;

impl PcaPlot {
    /// PCA of every state of `r`, trajectories of up to [`TRIALS_PER_CONDITION`] trials
    /// per condition of `by`.
    pub fn new(r: &Rollout, by: &str, title: String) -> Result<PcaPlot, PlotError> {
        let n_rec = r
            .traces
            .first()
            .map_or(0, |t| t.states.len() / t.steps.max(1));
        let all: Vec<f64> = r
            .traces
            .iter()
            .flat_map(|t| t.states.iter().cloned())
            .collect();
        let pca = Pca::fit(&all, n_rec, 2)?;
        if pca.axes.len() < 2 {
            return Err(PlotError::NoData(
                "the states have fewer than 2 dimensions".into(),
            ));
        }
        let groups = r
            .conditions(by)?
            .into_iter()
            .map(|(value, trials)| {
                let trajs = trials
                    .iter()
                    .take(TRIALS_PER_CONDITION)
                    .map(|&b| {
                        r.traces[b]
                            .states
                            .chunks_exact(n_rec)
                            .map(|s| {
                                let p = pca.project(s);
                                (p[0], p[1])
                            })
                            .collect()
                    })
                    .collect();
                (value, trajs)
            })
            .collect();
        Ok(PcaPlot {
            title,
            by: by.into(),
            groups,
            explained: [pca.explained[0], pca.explained[1]],
        })
    }
}

impl Figure for PcaPlot {
    fn size(&self) -> (u32, u32) {
        (950, 750)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let pts = || self.groups.iter().flat_map(|g| g.1.iter().flatten());
        let (x0, x1, y0, y1) = pts().fold(
            (
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ),
            |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
        );
        let (px, py) = ((x1 - x0).max(1e-9) * 0.06, (y1 - y0).max(1e-9) * 0.06);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, style::title())
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(76)
            .build_cartesian_2d(x0 - px..x1 + px, y0 - py..y1 + py)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc(format!(
                "PC1 ({:.1} % of variance)",
                100.0 * self.explained[0]
            ))
            .y_desc(format!(
                "PC2 ({:.1} % of variance)",
                100.0 * self.explained[1]
            ))
            .label_style(style::small())
            .axis_desc_style(style::label())
            .light_line_style(WHITE.mix(0.0))
            .x_label_formatter(&style::tick)
            .y_label_formatter(&style::tick)
            .draw()
            .map_err(draw_err)?;
        let n = self.groups.len();
        for (i, (value, trajs)) in self.groups.iter().enumerate() {
            let c = style::ordered(i, n);
            for (k, t) in trajs.iter().enumerate() {
                let s = chart
                    .draw_series(LineSeries::new(t.iter().cloned(), c.stroke_width(2)))
                    .map_err(draw_err)?;
                if k == 0 {
                    s.label(format!("{} = {}", self.by, num(*value)))
                        .legend(style::key(Mark::Line(c)));
                }
                if let Some(&p0) = t.first() {
                    chart
                        .draw_series(std::iter::once(Circle::new(p0, 5, c.filled())))
                        .map_err(draw_err)?;
                }
            }
        }
        style::legend_box(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pca_finds_the_long_axis() {
        // points along (1, 1, 0)/√2 around (3, -1, 0), each twice with z = ±0.1 (so z is
        // uncorrelated with the long axis and the axis is exact)
        let mut rows = Vec::new();
        for i in -24..=24 {
            let t = i as f64;
            for z in [0.1, -0.1] {
                rows.extend([t + 3.0, t - 1.0, z]);
            }
        }
        let p = super::Pca::fit(&rows, 3, 2).unwrap();
        let a = &p.axes[0];
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!(
            (a[0].abs() - h).abs() < 1e-9 && (a[1].abs() - h).abs() < 1e-9 && a[2].abs() < 1e-9,
            "{a:?}"
        );
        assert!(p.explained[0] > 0.999 && p.explained[0] + p.explained[1] <= 1.0 + 1e-12);
        let q = p.project(&[3.0, -1.0, 0.0]);
        assert!(q[0].abs() < 1e-9, "{q:?}");
    }
}
