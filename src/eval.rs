//! Scoring the engine on labelled data.
//!
//! Two formats: a folder of articles with `labels.json` (the events each
//! article should report as shifts), and a JSON-lines file of single
//! sentences with the claims each should yield. Prints precision, recall and
//! F1, relevance accuracy, and every miss.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::analyze;
use crate::article::Article;
use crate::engine::Engine;

#[derive(Debug, Deserialize)]
struct Label {
    relevant: bool,
    events: Vec<Event>,
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    actor: String,
    topic: String,
    stance: String,
}

#[derive(Debug, Deserialize)]
struct ExpectedBaseline {
    #[serde(default)]
    optional: Vec<Event>,
}

/// Precision, recall, F1 and the counts behind them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Score {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub relevant_ok: usize,
    pub items: usize,
}

/// What was scored: the score, the misses, and each reported item's
/// confidence with whether it was right (for the reliability table).
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub score: Score,
    pub misses: String,
    pub confidences: Vec<(f64, bool)>,
}

impl Report {
    /// The misses, the reliability table and the summary, as printed.
    pub fn text(&self) -> String {
        format!(
            "{}\nreliability (reported items by confidence):\n{}{}",
            self.misses,
            crate::analyze::calibration::reliability(&self.confidences),
            self.score.summary()
        )
    }
}

impl Score {
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            0.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            0.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    pub fn summary(&self) -> String {
        format!(
            "items={} tp={} fp={} fn={} relevance={}/{}\nP={:.3} R={:.3} F1={:.3}",
            self.items,
            self.tp,
            self.fp,
            self.fn_,
            self.relevant_ok,
            self.items,
            self.precision(),
            self.recall(),
            self.f1()
        )
    }
}

/// Scores a labelled article folder. `expected` (a baseline file with
/// `optional` cells) makes shifts equal to an optional cell count as neither
/// hit nor miss, as the reference scorer does.
pub fn score_dir(engine: &Engine, dir: &Path, expected: Option<&Path>) -> Result<(Score, String)> {
    let r = report_dir(engine, dir, expected)?;
    Ok((r.score, r.misses))
}

/// [`score_dir`], with the confidences of the reported shifts.
pub fn report_dir(engine: &Engine, dir: &Path, expected: Option<&Path>) -> Result<Report> {
    let labels_path = dir.join("labels.json");
    let text = std::fs::read_to_string(&labels_path)
        .with_context(|| format!("{}: cannot read", labels_path.display()))?;
    let labels: BTreeMap<String, Label> = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a labels file", labels_path.display()))?;
    let optional: BTreeSet<(String, String, String)> = match expected {
        Some(p) => {
            let t = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            let b: ExpectedBaseline = serde_json::from_str(&t)
                .with_context(|| format!("{}: not a baseline file", p.display()))?;
            b.optional
                .into_iter()
                .map(|e| (e.actor, e.topic, e.stance))
                .collect()
        }
        None => BTreeSet::new(),
    };
    let mut score = Score::default();
    let mut report = String::new();
    let mut confidences = Vec::new();
    for (name, label) in &labels {
        let article = Article::load(&dir.join(name))?;
        let (analysis, shifts) = engine.compare(&article);
        let got: BTreeSet<(String, String, String)> = shifts
            .iter()
            .map(|s| (s.actor.clone(), s.topic.clone(), s.to.as_str().to_string()))
            .filter(|k| !optional.contains(k))
            .collect();
        let gold: BTreeSet<(String, String, String)> = label
            .events
            .iter()
            .map(|e| (e.actor.clone(), e.topic.clone(), e.stance.clone()))
            .collect();
        for sh in &shifts {
            let k = (
                sh.actor.clone(),
                sh.topic.clone(),
                sh.to.as_str().to_string(),
            );
            if !optional.contains(&k) {
                confidences.push((sh.confidence, gold.contains(&k)));
            }
        }
        score.items += 1;
        score.tp += got.intersection(&gold).count();
        score.fp += got.difference(&gold).count();
        score.fn_ += gold.difference(&got).count();
        if analysis.relevant == label.relevant {
            score.relevant_ok += 1;
        } else {
            let _ = writeln!(
                report,
                "{name}: relevant={} expected {}",
                analysis.relevant, label.relevant
            );
        }
        if got != gold {
            let fmt = |s: Vec<&(String, String, String)>| {
                s.iter()
                    .map(|(a, t, st)| format!("{a}/{t}/{st}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                report,
                "{name}: missed [{}] spurious [{}]",
                fmt(gold.difference(&got).collect()),
                fmt(got.difference(&gold).collect())
            );
        }
    }
    Ok(Report {
        score,
        misses: report,
        confidences,
    })
}

#[derive(Debug, Deserialize)]
struct SentenceCase {
    id: String,
    #[serde(default)]
    context: String,
    sentence: String,
    relevant: bool,
    claims: Vec<SentenceClaim>,
}

#[derive(Debug, Deserialize)]
struct SentenceClaim {
    actor: String,
    topic: String,
    stance: String,
}

/// Scores single labelled sentences on (actor, topic, stance). Each
/// sentence is read as a one-paragraph article after its context sentence.
pub fn score_sentences(engine: &Engine, path: &Path) -> Result<(Score, String)> {
    let r = report_sentences(engine, path)?;
    Ok((r.score, r.misses))
}

/// [`score_sentences`], with the confidences of the claims found.
pub fn report_sentences(engine: &Engine, path: &Path) -> Result<Report> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let mut confidences = Vec::new();
    let mut score = Score::default();
    let mut report = String::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: SentenceCase = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a case", path.display(), n + 1))?;
        let body = if case.context.is_empty() {
            case.sentence.clone()
        } else {
            format!("{} {}", case.context, case.sentence)
        };
        let a = analyze::analyze_seed(&engine.profile, engine.judge.as_ref(), &body);
        let relevant_got = engine
            .analyze(&crate::article::Article {
                title: String::new(),
                body: body.clone(),
            })
            .relevant;
        for c in a.claims.iter().filter(|c| {
            c.sentence.trim() == case.sentence.trim() && c.confidence >= engine.min_confidence
        }) {
            let right = case
                .claims
                .iter()
                .any(|g| g.actor == c.actor && g.topic == c.topic && g.stance == c.stance.as_str());
            confidences.push((c.confidence, right));
        }
        let got: BTreeSet<(String, String, String)> = a
            .claims
            .iter()
            .filter(|c| {
                c.sentence.trim() == case.sentence.trim() && c.confidence >= engine.min_confidence
            })
            .map(|c| {
                (
                    c.actor.clone(),
                    c.topic.clone(),
                    c.stance.as_str().to_string(),
                )
            })
            .collect();
        let gold: BTreeSet<(String, String, String)> = case
            .claims
            .iter()
            .map(|c| (c.actor.clone(), c.topic.clone(), c.stance.clone()))
            .collect();
        score.items += 1;
        score.tp += got.intersection(&gold).count();
        score.fp += got.difference(&gold).count();
        score.fn_ += gold.difference(&got).count();
        if relevant_got == case.relevant {
            score.relevant_ok += 1;
        }
        if got != gold {
            let fmt = |s: Vec<&(String, String, String)>| {
                s.iter()
                    .map(|(a, t, st)| format!("{a}/{t}/{st}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                report,
                "{}: missed [{}] spurious [{}] :: {}",
                case.id,
                fmt(gold.difference(&got).collect()),
                fmt(got.difference(&gold).collect()),
                case.sentence
            );
        }
    }
    Ok(Report {
        score,
        misses: report,
        confidences,
    })
}
