//! A statistical stance judge: a multinomial logistic regression over
//! features of a [`Reading`] (cue kind, negations, frames, how the holder
//! was found, the rule judge's own verdict, the cue's words), trained on the
//! project's labelled sentence corpus (`corpus/`), four classes: no claim,
//! supports, opposes, conditional.
//!
//! The weights ship in `models/linear.json` (built in); `stancewatch train`
//! fits them anew. Training is plain gradient descent with L2, in a fixed
//! order, so the same corpus gives the same weights.

use std::collections::HashMap;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::Stance;
use super::attribution::{CueKind, HolderVia, Reading};
use super::judge::{Rules, StanceJudge, Verdict, polarity};
use super::sentence::Sentence;
use crate::profile::TermKind;

/// The built-in weights.
pub const BUILTIN: &str = include_str!("../../models/linear.json");

/// Classes, in the order of the weights.
pub const CLASSES: [Option<Stance>; 4] = [
    None,
    Some(Stance::Supports),
    Some(Stance::Opposes),
    Some(Stance::Conditional),
];

/// The class index of a stance (0: no claim).
pub fn class_of(s: Option<Stance>) -> usize {
    CLASSES.iter().position(|c| *c == s).unwrap_or(0)
}

/// Weights on disk.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Weights {
    pub bias: [f64; 4],
    pub weights: HashMap<String, [f64; 4]>,
    /// Calibration: (raw probability upper bound, share right), ascending.
    #[serde(default)]
    pub calibration: Vec<(f64, f64)>,
}

/// The judge.
#[derive(Debug, Clone)]
pub struct Linear {
    w: Weights,
}

impl Linear {
    /// The built-in weights.
    pub fn builtin() -> Linear {
        Linear::parse(BUILTIN).expect("the built-in weights are valid")
    }

    pub fn parse(text: &str) -> Result<Linear> {
        let w: Weights = serde_json::from_str(text).context("not a weights file")?;
        Ok(Linear { w })
    }

    pub fn weights(&self) -> &Weights {
        &self.w
    }

    /// Class probabilities for a feature list.
    pub fn probabilities(&self, feats: &[String]) -> [f64; 4] {
        let mut z = self.w.bias;
        for f in feats {
            if let Some(w) = self.w.weights.get(f) {
                for k in 0..4 {
                    z[k] += w[k];
                }
            }
        }
        softmax(z)
    }

    /// Fits weights on (features, class) examples.
    pub fn train(examples: &[(Vec<String>, usize)], epochs: usize, rate: f64, l2: f64) -> Linear {
        let mut w = Weights::default();
        for (feats, _) in examples {
            for f in feats {
                w.weights.entry(f.clone()).or_insert([0.0; 4]);
            }
        }
        let n = examples.len().max(1) as f64;
        for _ in 0..epochs {
            let mut grad_b = [0.0f64; 4];
            let mut grad: HashMap<&str, [f64; 4]> = HashMap::new();
            for (feats, y) in examples {
                let mut z = w.bias;
                for f in feats {
                    let wf = w.weights[f];
                    for k in 0..4 {
                        z[k] += wf[k];
                    }
                }
                let p = softmax(z);
                for (k, gb) in grad_b.iter_mut().enumerate() {
                    let g = p[k] - if k == *y { 1.0 } else { 0.0 };
                    *gb += g;
                    for f in feats {
                        grad.entry(f.as_str()).or_insert([0.0; 4])[k] += g;
                    }
                }
            }
            for (b, gb) in w.bias.iter_mut().zip(grad_b) {
                *b -= rate * gb / n;
            }
            for (f, wf) in w.weights.iter_mut() {
                let g = grad.get(f.as_str()).copied().unwrap_or([0.0; 4]);
                for k in 0..4 {
                    wf[k] -= rate * (g[k] / n + l2 * wf[k]);
                }
            }
        }
        // weights too small to matter are left out of the file
        w.weights.retain(|_, v| v.iter().any(|x| x.abs() > 1e-3));
        Linear { w }
    }

    /// Sets the calibration table.
    pub fn set_calibration(&mut self, table: Vec<(f64, f64)>) {
        self.w.calibration = table;
    }

    /// The weights as JSON, keys sorted.
    pub fn to_json(&self) -> String {
        let mut keys: Vec<&String> = self.w.weights.keys().collect();
        keys.sort();
        let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
        let mut out = String::from("{\n  \"bias\": [");
        out.push_str(
            &self
                .w
                .bias
                .iter()
                .map(|x| round(*x).to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
        out.push_str("],\n  \"calibration\": [");
        out.push_str(
            &self
                .w
                .calibration
                .iter()
                .map(|(a, b)| format!("[{}, {}]", round(*a), round(*b)))
                .collect::<Vec<_>>()
                .join(", "),
        );
        out.push_str("],\n  \"weights\": {\n");
        let lines: Vec<String> = keys
            .iter()
            .map(|k| {
                let v = self.w.weights[*k];
                format!(
                    "    {}: [{}, {}, {}, {}]",
                    serde_json::to_string(k).unwrap_or_default(),
                    round(v[0]),
                    round(v[1]),
                    round(v[2]),
                    round(v[3])
                )
            })
            .collect();
        out.push_str(&lines.join(",\n"));
        out.push_str("\n  }\n}\n");
        out
    }
}

fn softmax(z: [f64; 4]) -> [f64; 4] {
    let m = z.iter().copied().fold(f64::MIN, f64::max);
    let e = z.map(|x| (x - m).exp());
    let s: f64 = e.iter().sum();
    e.map(|x| x / s)
}

/// Maps a raw score through a calibration table (upper bound → share right).
pub fn calibrate(table: &[(f64, f64)], score: f64) -> f64 {
    if table.is_empty() {
        return score;
    }
    table
        .iter()
        .find(|(upper, _)| score <= *upper)
        .or(table.last())
        .map_or(score, |(_, share)| *share)
}

/// The features of a reading: what the representation says, the rule
/// judge's verdict, and the words of the cue.
pub fn features(s: &Sentence, r: &Reading) -> Vec<String> {
    let mut f: Vec<String> = Vec::with_capacity(32);
    let cue = r
        .cue
        .map_or("none".to_string(), |c| format!("{:?}", c.kind));
    f.push(format!("cue={cue}"));
    let odd = r.negations % 2 == 1;
    f.push(format!("cue={cue}&neg={odd}"));
    if r.negations >= 2 {
        f.push("neg>=2".into());
    }
    if r.reversed {
        f.push("reversed".into());
    }
    let fr = r.frame;
    for (on, name) in [
        (fr.question, "question"),
        (fr.indirect_question, "indirect_question"),
        (fr.hypothetical, "hypothetical"),
        (fr.predicted, "predicted"),
        (fr.withheld, "withheld"),
        (fr.historical, "historical"),
        (fr.non_actor, "non_actor"),
        (fr.denied, "denied"),
        (fr.condition, "condition"),
        (fr.subordinate, "subordinate"),
        (fr.answered_no, "answered_no"),
        (fr.not_until, "not_until"),
    ] {
        if on {
            f.push(format!("frame.{name}"));
        }
    }
    f.push(format!("via={:?}", r.via));
    if r.via == HolderVia::Context || r.via == HolderVia::Speaker {
        f.push("holder_indirect".into());
    }
    f.push(format!(
        "term={}",
        match r.mention.kind {
            TermKind::Strong => "strong",
            TermKind::Weak => "weak",
            TermKind::Action => "action",
        }
    ));
    if r.mention.own {
        f.push("own".into());
    }
    if r.rivals > 0 {
        f.push("rivals".into());
    }
    if r.holder != r.speaker {
        f.push("reported".into());
    }
    let pol = polarity(r).map_or("none".into(), |p| p.as_str().to_string());
    f.push(format!("polarity={pol}"));
    f.push(format!("polarity={pol}&condition={}", fr.condition));
    f.push(format!("polarity={pol}&denied={}", fr.denied));
    let rule = Rules::raw()
        .judge(s, r)
        .map_or("none".into(), |v| v.stance.as_str().to_string());
    f.push(format!("rule={rule}"));
    if let Some(c) = r.cue {
        let d = if c.end <= r.mention.start {
            r.mention.start - c.end
        } else {
            c.start.saturating_sub(r.mention.end)
        };
        f.push(format!(
            "dist={}",
            if d <= 2 {
                "near"
            } else if d <= 6 {
                "mid"
            } else {
                "far"
            }
        ));
        if c.start >= r.mention.end {
            f.push("cue_after".into());
        }
        if c.kind != CueKind::Action {
            let words: Vec<&str> = s.toks[c.start..c.end.min(s.toks.len())]
                .iter()
                .map(|t| t.norm.as_str())
                .collect();
            if let Some(w) = words.last() {
                f.push(format!("cueword={w}"));
            }
        }
    }
    let (ca, cb) = r.clause;
    if cb > ca && cb - ca > 25 {
        f.push("long_clause".into());
    }
    f
}

impl StanceJudge for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn judge(&self, s: &Sentence, r: &Reading) -> Option<Verdict> {
        let p = self.probabilities(&features(s, r));
        let (k, best) = p
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        let stance = CLASSES[k]?;
        Some(Verdict {
            stance,
            score: calibrate(&self.w.calibration, best),
        })
    }
}
