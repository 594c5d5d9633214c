//! The one look of every plot: DejaVu Sans embedded (from the `dejavu` crate, so no
//! system font library is needed), a colour-blind-safe palette for categories, viridis
//! for ordered conditions, sizes, and [`save`], which picks PNG or SVG by extension and
//! writes atomically (a temporary file in the same folder, then a rename).

use super::{draw_err, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use std::path::Path;
use std::sync::Once;

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

/// A legend entry's mark.
#[derive(Clone, Copy, Debug)]
pub enum Mark {
    /// A solid line.
    Line(RGBColor),
    /// A dashed line.
    Dashed(RGBColor),
    /// A filled box.
    Box(RGBColor),
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
        match *mark {
            Mark::Line(c) => area.draw(&PathElement::new(
                vec![(x, y), (x + 28, y)],
                c.stroke_width(3),
            )),
            Mark::Dashed(c) => {
                for k in 0..3 {
                    let a = x + k * 11;
                    area.draw(&PathElement::new(
                        vec![(a, y), (a + 6, y)],
                        c.stroke_width(2),
                    ))
                    .map_err(draw_err)?;
                }
                Ok(())
            }
            Mark::Box(c) => area.draw(&Rectangle::new([(x, y - 8), (x + 28, y + 8)], c.filled())),
        }
        .map_err(draw_err)?;
        area.draw_text(text, &font, (x + 36, y - 9))
            .map_err(draw_err)?;
        let (w, _) = area.estimate_text_size(text, &font).map_err(draw_err)?;
        x += 36 + w as i32 + 28;
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
