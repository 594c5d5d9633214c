//! The one look of every plot: DejaVu Sans embedded (from the `dejavu` crate, so no
//! system font library is needed), a colour-blind-safe palette for categories, viridis
//! for ordered conditions, sizes, legends ([`Mark`]s drawn the same in a chart's
//! [`legend_box`] and in a [`legend_row`] above panels), and [`save`], which picks PNG or
//! SVG by extension and writes atomically (a temporary file in the same folder, then a
//! rename).

use super::{draw_err, PlotError};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters_backend::DrawingErrorKind;
use std::path::Path;
use std::sync::Once;

/// A pixel position on the drawing (plotters' backend coordinate).
type Px = (i32, i32);

/// The font family every text uses (registered once from the embedded DejaVu Sans).
pub const FONT: &str = "sans-serif";

/// Output format, from the file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Raster, `.png`.
    Png,
    /// Vector, `.svg`.
    Svg,
}

impl Format {
    /// The format of `path` (`.png` or `.svg`, any case).
    pub fn of(path: &Path) -> Result<Format, PlotError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(PlotError::Format { path: path.into() }),
        }
    }
}

/// A plot that can draw itself on any plotters backend.
pub trait Figure {
    /// Size in pixels (width, height).
    fn size(&self) -> (u32, u32);
    /// Draw on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is a valid TrueType file; a failure here is a build defect.
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| ())
            .expect("embedded DejaVu Sans parses");
        plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            .map_err(|_| ())
            .expect("embedded DejaVu Sans Bold parses");
    });
}

/// Draw `fig` to `path` as PNG or SVG (by extension), atomically.
pub fn save(fig: &impl Figure, path: &Path) -> Result<(), PlotError> {
    let format = Format::of(path)?;
    register_font();
    let with_path = |e: PlotError| match e {
        PlotError::Write { reason, .. } => PlotError::Write {
            path: path.into(),
            reason,
        },
        e => e,
    };
    let io = |e: std::io::Error| PlotError::Write {
        path: path.into(),
        reason: e.to_string(),
    };
    match format {
        Format::Svg => {
            let mut s = String::new();
            {
                let root = SVGBackend::with_string(&mut s, fig.size()).into_drawing_area();
                root.fill(&WHITE).map_err(draw_err).map_err(with_path)?;
                fig.draw(&root).map_err(with_path)?;
                root.present().map_err(draw_err).map_err(with_path)?;
            }
            crate::model::file::write_atomic_io(path, s.as_bytes()).map_err(io)
        }
        Format::Png => {
            let (w, h) = fig.size();
            let mut buf = vec![0u8; (w * h * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(draw_err).map_err(with_path)?;
                fig.draw(&root).map_err(with_path)?;
                root.present().map_err(draw_err).map_err(with_path)?;
            }
            let mut png = Vec::new();
            {
                let mut enc = png::Encoder::new(&mut png, w, h);
                enc.set_color(png::ColorType::Rgb);
                enc.set_depth(png::BitDepth::Eight);
                let mut wr = enc.write_header().map_err(draw_err).map_err(with_path)?;
                wr.write_image_data(&buf)
                    .map_err(draw_err)
                    .map_err(with_path)?;
            }
            crate::model::file::write_atomic_io(path, &png).map_err(io)
        }
    }
}

/// Okabe–Ito colours (safe for colour-blind readers), for unordered categories and
/// output channels.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// Colour `i` of the categorical palette (wraps).
pub fn category(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Colour of the `i`-th of `n` ordered conditions: viridis from dark blue to green-yellow
/// (the palest end is left out so every line stays visible on white).
pub fn ordered(i: usize, n: usize) -> RGBColor {
    let h = if n <= 1 {
        0.0
    } else {
        i as f64 / (n - 1) as f64 * 0.85
    };
    ViridisRGB::get_color(h)
}

/// Light grey for shaded spans (mask 0).
pub const SHADE: RGBColor = RGBColor(225, 225, 225);

/// Title text style.
pub fn title<'a>() -> TextStyle<'a> {
    (FONT, 26).into_font().style(FontStyle::Bold).into()
}

/// Axis description text style.
pub fn label<'a>() -> TextStyle<'a> {
    (FONT, 20).into_font().into()
}

/// The mesh of an output-against-time panel (`plot trials`, `plot compare`): `x_desc`
/// under the axis, "output" beside it, five x ticks, the house label style.
pub fn output_mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    x_desc: &str,
) -> Result<(), PlotError> {
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("output")
        .label_style(small())
        .axis_desc_style(small())
        .light_line_style(WHITE.mix(0.0))
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .x_labels(5)
        .draw()
        .map_err(draw_err)
}

/// Tick label and legend text style.
pub fn small<'a>() -> TextStyle<'a> {
    (FONT, 16).into_font().into()
}

/// A variable's value, short (`0.3`, `-12`, `0.0125`).
pub fn num(v: f64) -> String {
    if v == v.round() && v.abs() < 1e6 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A tick label: short, no trailing zeros (`1500`, `0.3`, `2e-4`). A value within 10⁻¹²
/// of 0 is the zero tick with float rounding in it (`-1e-16` on a ±0.7 axis): "0".
pub fn tick(v: &f64) -> String {
    let v = *v;
    if v.abs() < 1e-12 {
        return "0".into();
    }
    if v.abs() < 0.01 {
        return format!("{v:.0e}");
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// Width of a legend entry's mark, px.
pub const KEY_WIDTH: i32 = 28;

/// A legend entry's mark.
#[derive(Clone, Copy, Debug)]
pub enum Mark {
    /// A solid line.
    Line(RGBColor),
    /// A dashed line.
    Dashed(RGBColor),
    /// A filled box.
    Box(RGBColor),
    /// A filled dot (data points).
    Dot(RGBColor),
}

impl Mark {
    /// The mark drawn [`KEY_WIDTH`] px wide from `at` (its left end, vertically centred):
    /// the one look of a legend entry, in a chart's legend box ([`key`]) and in a
    /// [`legend_row`] alike.
    pub fn at(self, at: Px) -> Sample {
        Sample { mark: self, at }
    }
}

/// A legend mark placed on the drawing: an element plotters draws (a plotters element
/// of its own rather than a `DynElement`, whose borrow rules would tie every legend to a
/// `'static` backend).
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    mark: Mark,
    at: Px,
}

impl<'a> PointCollection<'a, Px> for &'a Sample {
    type Point = &'a Px;
    type IntoIter = std::iter::Once<&'a Px>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<DB: DrawingBackend> Drawable<DB> for Sample {
    fn draw<I: Iterator<Item = Px>>(
        &self,
        mut pos: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = pos.next() else {
            return Ok(());
        };
        match self.mark {
            Mark::Line(c) => backend.draw_path([(x, y), (x + KEY_WIDTH, y)], &c.stroke_width(3)),
            Mark::Dashed(c) => [0, 11, 22].into_iter().try_for_each(|a| {
                backend.draw_path([(x + a, y), (x + a + 6, y)], &c.stroke_width(2))
            }),
            Mark::Box(c) => {
                backend.draw_rect((x, y - 8), (x + KEY_WIDTH, y + 8), &c.filled(), true)
            }
            Mark::Dot(c) => backend.draw_circle((x + KEY_WIDTH / 2, y), 6, &c.filled(), true),
        }
    }
}

/// A series' legend mark, for plotters' `.legend(...)` (drawn by [`legend_box`]).
pub fn key(mark: Mark) -> impl Fn(Px) -> Sample {
    move |p| mark.at(p)
}

/// The legend of a one-panel chart: its labelled series ([`key`]), in a box at `at`.
pub fn legend_box<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .position(at)
        .legend_area_size(KEY_WIDTH + 8)
        .label_font(small())
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(draw_err)
}

/// One row of legend entries drawn across the top of `area` (for figures of several
/// panels, where a legend inside a panel would hide data).
pub fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(Mark, String)],
) -> Result<(), PlotError> {
    let font = small();
    let (mut x, y) = (20i32, 16i32);
    for (mark, text) in items {
        area.draw(&mark.at((x, y))).map_err(draw_err)?;
        area.draw_text(text, &font, (x + KEY_WIDTH + 8, y - 9))
            .map_err(draw_err)?;
        let (w, _) = area.estimate_text_size(text, &font).map_err(draw_err)?;
        x += KEY_WIDTH + 8 + w as i32 + 28;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short_and_zero_is_zero() {
        assert_eq!(tick(&-1.1102230246251565e-16), "0");
        assert_eq!(tick(&0.0), "0");
        assert_eq!(tick(&-0.0), "0");
        assert_eq!(tick(&0.30000000000000004), "0.3");
        assert_eq!(tick(&1500.0), "1500");
        assert_eq!(tick(&0.0002), "2e-4");
    }
}
