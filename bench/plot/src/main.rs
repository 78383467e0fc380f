//! bench/plot: draws `bench/results/programs.svg`, the whole-program ratios of
//! `bench/all`, from the `ratios.tsv` that `bench/programs/wp.py` writes.
//!
//! ```text
//! kasan-bench-plot RATIOS.tsv OUT.svg [TITLE]
//! ```
//!
//! One group of bars per program: kasan/libasan time, kasan/floor time and
//! kasan/libasan peak RSS (below 1: kasan is faster or smaller), on a log scale, each
//! bar drawn from 1 up or down to its ratio.

use std::error::Error;
use std::fs;
use std::process::ExitCode;

use plotters::prelude::*;

/// The columns of `ratios.tsv` drawn, with their legend text and colour.
const SERIES: [(&str, &str, RGBColor); 3] = [
    (
        "kasan/libasan_time",
        "kasan / libasan, time",
        RGBColor(0x1f, 0x77, 0xb4),
    ),
    (
        "kasan/floor_time",
        "kasan / floor, time",
        RGBColor(0xff, 0x7f, 0x0e),
    ),
    (
        "kasan/libasan_rss",
        "kasan / libasan, peak RSS",
        RGBColor(0x2c, 0xa0, 0x2c),
    ),
];

/// One program's row: its name and the ratios of [`SERIES`] (NaN when not measured).
#[derive(Debug, Clone, PartialEq)]
struct Row {
    name: String,
    values: Vec<f64>,
}

/// Parses `ratios.tsv`: a header of column names, then one program per line.
fn parse(text: &str) -> Result<Vec<Row>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or("empty ratios file")?
        .split('\t')
        .collect();
    let index: Vec<usize> = SERIES
        .iter()
        .map(|(col, _, _)| {
            header
                .iter()
                .position(|h| h == col)
                .ok_or(format!("column {col} missing from the header"))
        })
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != header.len() {
            return Err(format!(
                "line {}: {} fields, the header has {}",
                n + 2,
                fields.len(),
                header.len()
            ));
        }
        let values = index
            .iter()
            .map(|&i| fields[i].trim().parse::<f64>().unwrap_or(f64::NAN))
            .collect();
        rows.push(Row {
            name: fields[0].to_string(),
            values,
        });
    }
    if rows.is_empty() {
        return Err("no program in the ratios file".into());
    }
    Ok(rows)
}

/// The y axis range (log scale): the finite ratios and 1, with a margin.
fn y_range(rows: &[Row]) -> (f64, f64) {
    let finite = rows
        .iter()
        .flat_map(|r| r.values.iter().copied())
        .filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = finite.fold((1.0_f64, 1.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (lo / 1.4, hi * 1.4)
}

fn draw(rows: &[Row], out: &str, title: &str) -> Result<(), Box<dyn Error>> {
    let n = rows.len();
    let width = (120 + 70 * n as u32).max(640);
    let root = SVGBackend::new(out, (width, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let (lo, hi) = y_range(rows);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..n as f64, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_desc("ratio, log scale (1 = same; bars go up or down from 1)")
        .y_label_formatter(&|v| format!("{v:.2}"))
        .draw()?;
    let bar = 0.8 / SERIES.len() as f64;
    for (s, (_, legend, color)) in SERIES.iter().enumerate() {
        let color = *color;
        chart
            .draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
                let v = r.values[s];
                (v.is_finite() && v > 0.0).then(|| {
                    let x0 = i as f64 + 0.1 + s as f64 * bar;
                    Rectangle::new([(x0, 1.0), (x0 + bar * 0.9, v)], color.filled())
                })
            }))?
            .label(*legend)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        // the value above each bar
        chart.draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
            let v = r.values[s];
            (v.is_finite() && v > 0.0).then(|| {
                let x = i as f64 + 0.1 + (s as f64 + 0.45) * bar;
                EmptyElement::at((x, v))
                    + Text::new(
                        format!("{v:.2}"),
                        (-9, if v >= 1.0 { -12 } else { 3 }),
                        ("sans-serif", 9).into_font().color(&BLACK),
                    )
            })
        }))?;
    }
    chart.draw_series(LineSeries::new(
        [(0.0, 1.0), (n as f64, 1.0)],
        BLACK.stroke_width(1),
    ))?;
    // program names under their groups
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        EmptyElement::at((i as f64 + 0.5, lo))
            + Text::new(
                r.name.clone(),
                (-(r.name.len() as i32) * 3, 8),
                ("sans-serif", 12).into_font().color(&BLACK),
            )
    }))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 || args.len() > 4 {
        eprintln!("usage: kasan-bench-plot RATIOS.tsv OUT.svg [TITLE]");
        return ExitCode::from(2);
    }
    let title = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "whole programs: kasan against libasan and the floor".into());
    let result = fs::read_to_string(&args[1])
        .map_err(|e| format!("{}: {e}", args[1]))
        .and_then(|t| parse(&t).map_err(|e| format!("{}: {e}", args[1])))
        .and_then(|rows| draw(&rows, &args[2], &title).map_err(|e| format!("{}: {e}", args[2])));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kasan-bench-plot: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_columns_by_name_and_missing_values_as_nan() {
        let t = "program\tx\tkasan/libasan_time\tkasan/floor_time\tkasan/libasan_rss\n\
                 sqlite\t9\t1.5\tnan\t0.8\n";
        let rows = parse(t).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "sqlite");
        assert_eq!(rows[0].values[0], 1.5);
        assert!(rows[0].values[1].is_nan());
        assert_eq!(rows[0].values[2], 0.8);
        let (lo, hi) = y_range(&rows);
        assert!((lo - 0.8 / 1.4).abs() < 1e-9 && (hi - 1.5 * 1.4).abs() < 1e-9);
    }

    #[test]
    fn rejects_a_short_line_and_a_missing_column() {
        let t = "program\tkasan/libasan_time\tkasan/floor_time\tkasan/libasan_rss\na\t1\n";
        assert!(parse(t).is_err());
        assert!(parse("program\tkasan/libasan_time\n").is_err());
    }
}
