//! Raw judge scores → confidences that mean what they say: a table fitted on
//! held-out labelled sentences maps a score to the share of claims with such
//! a score that were right (isotonic: the share never falls as the score
//! rises). `stancewatch train` fits the tables; `eval` prints how well they
//! hold on other data.

use serde::Deserialize;

/// The rule judge's table, built in.
pub const RULES: &str = include_str!("../../models/rules.json");

#[derive(Debug, Deserialize, Default)]
struct Table {
    calibration: Vec<(f64, f64)>,
}

/// The rule judge's calibration table.
pub fn rules_table() -> Vec<(f64, f64)> {
    serde_json::from_str::<Table>(RULES)
        .map(|t| t.calibration)
        .unwrap_or_default()
}

/// Fits a table on (raw score, right?) pairs: scores in bins of 0.05, then
/// pooled so that the share right never falls as the score rises.
pub fn fit(pairs: &[(f64, bool)]) -> Vec<(f64, f64)> {
    let mut bins: Vec<(f64, usize, usize)> = Vec::new();
    for b in 1..=20 {
        let upper = b as f64 * 0.05;
        let lower = upper - 0.05;
        let in_bin: Vec<&(f64, bool)> = pairs
            .iter()
            .filter(|(s, _)| *s > lower + 1e-12 && *s <= upper + 1e-12 || (b == 1 && *s <= 0.0))
            .collect();
        if in_bin.is_empty() {
            continue;
        }
        let right = in_bin.iter().filter(|(_, r)| *r).count();
        bins.push((upper, right, in_bin.len()));
    }
    // pool adjacent bins that violate the order
    let mut pooled: Vec<(f64, usize, usize)> = Vec::new();
    for b in bins {
        pooled.push(b);
        while pooled.len() >= 2 {
            let n = pooled.len();
            let (_, r1, c1) = pooled[n - 2];
            let (u2, r2, c2) = pooled[n - 1];
            if (r1 as f64 / c1 as f64) > (r2 as f64 / c2 as f64) {
                pooled.truncate(n - 2);
                pooled.push((u2, r1 + r2, c1 + c2));
            } else {
                break;
            }
        }
    }
    let mut out: Vec<(f64, f64)> = pooled
        .into_iter()
        .map(|(u, r, c)| (u, r as f64 / c as f64))
        .collect();
    if let Some(last) = out.last_mut() {
        last.0 = 1.0;
    }
    out
}

/// A reliability table: for each band of confidence, how many claims and
/// how many of them right.
pub fn reliability(pairs: &[(f64, bool)]) -> String {
    use std::fmt::Write;
    let mut out = String::from("confidence   claims  right  share\n");
    for (lo, hi) in [
        (0.0, 0.5),
        (0.5, 0.6),
        (0.6, 0.7),
        (0.7, 0.8),
        (0.8, 0.9),
        (0.9, 1.01),
    ] {
        let band: Vec<&(f64, bool)> = pairs.iter().filter(|(s, _)| *s >= lo && *s < hi).collect();
        let right = band.iter().filter(|(_, r)| *r).count();
        let share = if band.is_empty() {
            "-".to_string()
        } else {
            format!("{:.2}", right as f64 / band.len() as f64)
        };
        let _ = writeln!(
            out,
            "{:.1}–{:.1}   {:>7}  {:>5}  {:>5}",
            lo,
            hi.min(1.0),
            band.len(),
            right,
            share
        );
    }
    let high: Vec<&(f64, bool)> = pairs.iter().filter(|(s, _)| *s >= 0.8).collect();
    if !high.is_empty() {
        let right = high.iter().filter(|(_, r)| *r).count();
        let _ = writeln!(
            out,
            "at ≥ 0.8: {} of {} right ({:.2})",
            right,
            high.len(),
            right as f64 / high.len() as f64
        );
    }
    out
}
