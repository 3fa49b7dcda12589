//! Charts as inline SVG, drawn with plotters (no fonts or scripts needed to view them).

use plotters::prelude::*;

/// One line of a chart.
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

pub const BLUE: RGBColor = RGBColor(31, 119, 180);
pub const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub const GREEN: RGBColor = RGBColor(44, 160, 44);
pub const RED: RGBColor = RGBColor(214, 39, 40);
pub const PURPLE: RGBColor = RGBColor(148, 103, 189);

/// A line chart of `series` against x, as an SVG document string; empty series are skipped.
pub fn line_chart(title: &str, x_desc: &str, y_desc: &str, series: &[Series]) -> String {
    line_chart_with_bands(title, x_desc, y_desc, series, &[])
}

/// As `line_chart`, with `marks`: series drawn as dots, not lines (each step's verdict).
pub fn line_chart_with_marks(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    marks: &[Series],
) -> String {
    let mut svg = String::new();
    let all: Vec<&Series> = series.iter().chain(marks).collect();
    let drawn = draw(&mut svg, title, x_desc, y_desc, series, &[], marks);
    if drawn.is_err() || all.iter().all(|s| s.points.is_empty()) {
        return no_data(title);
    }
    svg
}

fn no_data(title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"60\">\
         <text x=\"10\" y=\"35\" font-family=\"sans-serif\" font-size=\"14\">{}: no data</text></svg>",
        escape(title)
    )
}

/// A band of x (from, to) shaded behind the lines, named once in the legend.
pub struct Bands<'a> {
    pub name: &'a str,
    pub spans: &'a [(f64, f64)],
}

/// As `line_chart`, with x ranges shaded behind the lines (outages on the throughput chart).
pub fn line_chart_with_bands(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    bands: &[Bands],
) -> String {
    let mut svg = String::new();
    let drawn = draw(&mut svg, title, x_desc, y_desc, series, bands, &[]);
    if drawn.is_err() || series.iter().all(|s| s.points.is_empty()) {
        return no_data(title);
    }
    svg
}

fn draw(
    out: &mut String,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    bands: &[Bands],
    marks: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    let all = series.iter().chain(marks).flat_map(|s| s.points.iter());
    let (mut x_max, mut y_max) = (1e-9f64, 1e-9f64);
    for (x, y) in all {
        x_max = x_max.max(*x);
        y_max = y_max.max(*y);
    }
    for (_, to) in bands.iter().flat_map(|b| b.spans) {
        x_max = x_max.max(*to);
    }
    let legend = legend_of(series, bands, marks);
    let rows = legend.last().map_or(0, |e| e.row + 1);
    let height = CHART_HEIGHT + LEGEND_ROW * rows;
    let root = SVGBackend::with_string(out, (CHART_WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot, below) = root.split_vertically(CHART_HEIGHT);
    draw_legend(&below, &legend)?;
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max * 1.02, 0f64..y_max * 1.1)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for band in bands.iter().filter(|b| !b.spans.is_empty()) {
        let top = y_max * 1.1;
        chart.draw_series(
            band.spans
                .iter()
                .map(|(a, b)| Rectangle::new([(*a, 0.0), (*b, top)], SHADE.filled())),
        )?;
    }
    for s in series.iter().filter(|s| !s.points.is_empty()) {
        let color = s.color;
        chart.draw_series(LineSeries::new(
            s.points.iter().copied(),
            color.stroke_width(2),
        ))?;
    }
    for s in marks.iter().filter(|s| !s.points.is_empty()) {
        let color = s.color;
        chart.draw_series(s.points.iter().map(|p| Circle::new(*p, 5, color.filled())))?;
    }
    root.present()?;
    Ok(())
}

const CHART_WIDTH: u32 = 760;
const CHART_HEIGHT: u32 = 300;
/// The legend sits below the plot, never over the data: rows of this height.
const LEGEND_ROW: u32 = 20;
const SHADE: RGBColor = RGBColor(250, 205, 205);

/// How a legend entry is drawn: a line, a dot, a shaded band.
#[derive(Clone, Copy)]
enum Key {
    Line(RGBColor),
    Dot(RGBColor),
    Band,
}

/// One legend entry, placed: its row and its left edge.
struct Entry {
    key: Key,
    name: String,
    row: u32,
    x: i32,
}

/// The legend's entries in rows across the chart's width (a name ~5 px a character at 13 px).
fn legend_of(series: &[Series], bands: &[Bands], marks: &[Series]) -> Vec<Entry> {
    let keys = bands
        .iter()
        .filter(|b| !b.spans.is_empty())
        .map(|b| (Key::Band, b.name.to_string()))
        .chain(
            series
                .iter()
                .filter(|s| !s.points.is_empty())
                .map(|s| (Key::Line(s.color), s.name.clone())),
        )
        .chain(
            marks
                .iter()
                .filter(|s| !s.points.is_empty())
                .map(|s| (Key::Dot(s.color), s.name.clone())),
        );
    let (mut row, mut x) = (0, 70);
    let mut entries = Vec::new();
    for (key, name) in keys {
        let width = 34 + 5 * name.chars().count() as i32;
        if x + width > CHART_WIDTH as i32 - 10 && x > 70 {
            (row, x) = (row + 1, 70);
        }
        entries.push(Entry { key, name, row, x });
        x += width;
    }
    entries
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[Entry],
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    for e in entries {
        let y = (e.row * LEGEND_ROW) as i32 + LEGEND_ROW as i32 / 2;
        match e.key {
            Key::Line(c) => area.draw(&PathElement::new(
                vec![(e.x, y), (e.x + 16, y)],
                c.stroke_width(2),
            ))?,
            Key::Dot(c) => area.draw(&Circle::new((e.x + 8, y), 5, c.filled()))?,
            Key::Band => area.draw(&Rectangle::new(
                [(e.x, y - 5), (e.x + 16, y + 5)],
                SHADE.filled(),
            ))?,
        }
        let style = ("sans-serif", 13).into_font().color(&BLACK);
        let text = Text::new(e.name.clone(), (e.x + 22, y - 7), style);
        area.draw(&text)?;
    }
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_svg_with_title_and_legend() {
        let svg = line_chart(
            "Run time",
            "seconds",
            "ms",
            &[Series {
                name: "p95".into(),
                color: BLUE,
                points: vec![(0.0, 10.0), (1.0, 20.0)],
            }],
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("Run time") && svg.contains("p95"));
        let banded = line_chart_with_bands(
            "Throughput",
            "seconds",
            "runs/s",
            &[Series {
                name: "runs/s".into(),
                color: BLUE,
                points: vec![(0.0, 10.0), (9.0, 20.0)],
            }],
            &[Bands {
                name: "target unreachable",
                spans: &[(4.0, 9.0)],
            }],
        );
        assert!(
            banded.contains("target unreachable") && banded.contains("<rect"),
            "{banded}"
        );
        let empty = line_chart("Nothing", "s", "ms", &[]);
        assert!(empty.contains("Nothing: no data"));
    }

    #[test]
    fn legends_sit_below_the_plot_never_over_the_data() {
        let series: Vec<Series> = (0..6)
            .map(|i| Series {
                name: format!("a long series name number {i}"),
                color: BLUE,
                points: vec![(0.0, 10.0), (9.0, 20.0)],
            })
            .collect();
        let svg = line_chart("Run time", "s", "ms", &series);
        for i in 0..6 {
            let name = format!("\na long series name number {i}\n");
            let at = svg
                .find(&name)
                .unwrap_or_else(|| panic!("{name} missing: {svg}"));
            let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
            let y: f64 = tag
                .split("y=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(y > f64::from(CHART_HEIGHT), "{tag}");
        }
        // Six long names take more than one row: the chart grows to hold them.
        assert!(
            svg.contains(&format!("height=\"{}\"", CHART_HEIGHT + 2 * LEGEND_ROW))
                || svg.contains(&format!("height=\"{}\"", CHART_HEIGHT + 3 * LEGEND_ROW)),
            "{}",
            &svg[..200]
        );
    }
}
