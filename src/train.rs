//! Training and comparing stance judges on labelled sentences.
//!
//! The corpus (`corpus/*.jsonl`, one labelled sentence a line, in several
//! languages) is split by a hash of each case's id into a training part
//! (70 %), a calibration part (15 %) and a test part (15 %) that neither the
//! weights nor the calibration see. `stancewatch train` fits the linear
//! judge on the first, fits both judges' calibration tables on the second,
//! and prints both judges' scores and reliability tables on the third.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::analyze::attribution::Reading;
use crate::analyze::judge::{Rules, StanceJudge};
use crate::analyze::linear::{self, Linear};
use crate::analyze::{self, Stance, calibration};
use crate::profile::Profile;

/// One labelled sentence.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    pub id: String,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub context: String,
    pub sentence: String,
    pub relevant: bool,
    pub claims: Vec<CaseClaim>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CaseClaim {
    pub actor: String,
    pub topic: String,
    pub stance: String,
}

/// Which part of the corpus a case is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Train,
    Calibrate,
    Test,
}

/// The part of a case, by a hash of its id.
pub fn part_of(id: &str) -> Part {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    match h % 20 {
        0..=13 => Part::Train,
        14..=16 => Part::Calibrate,
        _ => Part::Test,
    }
}

/// Reads labelled sentence files.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Case>> {
    let mut out = Vec::new();
    for p in paths {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let c: Case = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a labelled sentence", p.display(), n + 1))?;
            out.push(c);
        }
    }
    Ok(out)
}

/// The readings of a case's sentence (its context read first, for
/// pronouns, but none of its readings kept).
pub fn case_readings(
    profile: &Profile,
    c: &Case,
) -> Vec<(analyze::sentence::Sentence, Vec<Reading>)> {
    let ctx_len = if c.context.trim().is_empty() {
        0
    } else {
        analyze::readings(profile, "", &c.context).len()
    };
    let body = if c.context.trim().is_empty() {
        c.sentence.clone()
    } else {
        format!("{} {}", c.context, c.sentence)
    };
    let mut all = analyze::readings(profile, "", &body);
    let keep = all.split_off(ctx_len.min(all.len()));
    // a sentence naming another debate yields nothing
    keep.into_iter()
        .map(|(s, r)| {
            if profile.off_topic.any(&s.toks) {
                (s, Vec::new())
            } else {
                (s, r)
            }
        })
        .collect()
}

/// The cell a reading speaks of (after the profile's redirects), or none
/// when its holder cannot hold that topic.
fn cell(profile: &Profile, r: &Reading) -> Option<(String, String)> {
    let (t, _) = *analyze::topic_claims(profile, r, Stance::Supports).first()?;
    Some((
        profile.actors[r.holder].id.clone(),
        profile.topics[t].id.clone(),
    ))
}

/// The claims a judge takes from a case: (actor, topic, stance) → score.
pub fn predict(
    profile: &Profile,
    judge: &dyn StanceJudge,
    c: &Case,
) -> BTreeMap<(String, String, String), f64> {
    let mut out: BTreeMap<(String, String), (String, f64)> = BTreeMap::new();
    for (s, rs) in case_readings(profile, c) {
        for r in &rs {
            let Some(v) = judge.judge(&s, r) else {
                continue;
            };
            for (t, st) in analyze::topic_claims(profile, r, v.stance) {
                let key = (
                    profile.actors[r.holder].id.clone(),
                    profile.topics[t].id.clone(),
                );
                let e = out.entry(key).or_insert((st.as_str().to_string(), v.score));
                if v.score > e.1 {
                    *e = (st.as_str().to_string(), v.score);
                }
            }
        }
    }
    out.into_iter()
        .map(|((a, t), (st, sc))| ((a, t, st), sc))
        .collect()
}

fn gold(c: &Case) -> BTreeSet<(String, String, String)> {
    c.claims
        .iter()
        .map(|x| (x.actor.clone(), x.topic.clone(), x.stance.clone()))
        .collect()
}

/// Scores a judge on cases: (tp, fp, fn) and the (score, right) pairs.
pub fn score(
    profile: &Profile,
    judge: &dyn StanceJudge,
    cases: &[&Case],
) -> (usize, usize, usize, Vec<(f64, bool)>) {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    let mut pairs = Vec::new();
    for c in cases {
        let got = predict(profile, judge, c);
        let g = gold(c);
        for (k, sc) in &got {
            let right = g.contains(k);
            pairs.push((*sc, right));
            if right {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        fn_ += g.iter().filter(|k| !got.contains_key(*k)).count();
    }
    (tp, fp, fn_, pairs)
}

fn prf(tp: usize, fp: usize, fn_: usize) -> String {
    let p = if tp + fp == 0 {
        0.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let r = if tp + fn_ == 0 {
        0.0
    } else {
        tp as f64 / (tp + fn_) as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    format!("P={p:.3} R={r:.3} F1={f:.3} (tp={tp} fp={fp} fn={fn_})")
}

/// (raw score, right?) for every shift a judge reports on labelled article
/// folders: real coverage to calibrate on, next to the corpus.
fn article_pairs(
    engine: &mut crate::engine::Engine,
    judge: Box<dyn StanceJudge>,
    dirs: &[PathBuf],
    expected: Option<&Path>,
) -> Result<Vec<(f64, bool)>> {
    engine.use_judge(judge);
    let saved = engine.min_confidence;
    engine.min_confidence = 0.0;
    let mut pairs = Vec::new();
    for d in dirs {
        pairs.extend(crate::eval::report_dir(engine, d, expected)?.confidences);
    }
    engine.min_confidence = saved;
    Ok(pairs)
}

/// Fits the linear judge and both calibration tables; writes
/// `linear.json` and `rules.json` into `out`; returns the report. Shifts on
/// the labelled article folders `articles` (with the expected baseline's
/// optional cells ignored) join the corpus's calibration part.
pub fn train_with(
    engine: &mut crate::engine::Engine,
    paths: &[PathBuf],
    articles: &[PathBuf],
    expected: Option<&Path>,
    out: &Path,
) -> Result<String> {
    let profile = engine.profile.clone();
    train_inner(&profile, paths, out, |rules_pairs, lin_pairs, lin| {
        let mut rp = rules_pairs;
        let mut lp = lin_pairs;
        if !articles.is_empty() {
            rp.extend(article_pairs(
                engine,
                Box::new(Rules::raw()),
                articles,
                expected,
            )?);
            let mut raw_lin = lin.clone();
            raw_lin.set_calibration(Vec::new());
            lp.extend(article_pairs(
                engine,
                Box::new(raw_lin),
                articles,
                expected,
            )?);
        }
        Ok((rp, lp))
    })
}

/// Fits the linear judge and both calibration tables; writes
/// `linear.json` and `rules.json` into `out`; returns the report.
pub fn train(profile: &Profile, paths: &[PathBuf], out: &Path) -> Result<String> {
    train_inner(profile, paths, out, |r, l, _| Ok((r, l)))
}

/// Pairs of (raw score, right?) for the rule and the linear judge.
type Pairs = Vec<(f64, bool)>;

fn train_inner(
    profile: &Profile,
    paths: &[PathBuf],
    out: &Path,
    mut more: impl FnMut(Pairs, Pairs, &Linear) -> Result<(Pairs, Pairs)>,
) -> Result<String> {
    let cases = load(paths)?;
    let part = |p: Part| -> Vec<&Case> { cases.iter().filter(|c| part_of(&c.id) == p).collect() };
    let (train, calib, test) = (part(Part::Train), part(Part::Calibrate), part(Part::Test));
    let mut report = String::new();
    let _ = writeln!(
        report,
        "{} cases: {} train, {} calibrate, {} test",
        cases.len(),
        train.len(),
        calib.len(),
        test.len()
    );
    // examples: every reading of a training sentence, labelled by the gold
    let mut examples: Vec<(Vec<String>, usize)> = Vec::new();
    for c in &train {
        let g = gold(c);
        for (s, rs) in case_readings(profile, c) {
            for r in &rs {
                let Some((a, t)) = cell(profile, r) else {
                    continue;
                };
                let stance = g
                    .iter()
                    .find(|(ga, gt, _)| *ga == a && *gt == t)
                    .and_then(|(_, _, st)| Stance::parse(st));
                examples.push((linear::features(&s, r), linear::class_of(stance)));
            }
        }
    }
    let _ = writeln!(report, "{} training readings", examples.len());
    let mut lin = Linear::train(&examples, 400, 0.5, 1e-4);
    // calibration on the calibration part (and on real coverage, if given)
    let raw_rules = Rules::raw();
    let (_, _, _, rules_pairs) = score(profile, &raw_rules, &calib);
    let (_, _, _, lin_pairs) = score(profile, &lin, &calib);
    let (rules_pairs, lin_pairs) = more(rules_pairs, lin_pairs, &lin)?;
    let _ = writeln!(
        report,
        "calibration on {} rule and {} linear claims",
        rules_pairs.len(),
        lin_pairs.len()
    );
    let rules_table = calibration::fit(&rules_pairs);
    lin.set_calibration(calibration::fit(&lin_pairs));
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    std::fs::write(out.join("linear.json"), lin.to_json())
        .with_context(|| format!("{}: cannot write", out.join("linear.json").display()))?;
    let table_json = format!(
        "{{\"calibration\": [{}]}}\n",
        rules_table
            .iter()
            .map(|(a, b)| format!("[{:.2}, {:.4}]", a, b))
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::fs::write(out.join("rules.json"), table_json)
        .with_context(|| format!("{}: cannot write", out.join("rules.json").display()))?;
    // the test part, seen by neither
    let rules = Rules::with_table(rules_table);
    for (name, judge) in [("rules", &rules as &dyn StanceJudge), ("linear", &lin)] {
        let (tp, fp, fn_, pairs) = score(profile, judge, &test);
        let _ = writeln!(report, "\n{name} on the test part: {}", prf(tp, fp, fn_));
        let mut by_lang: BTreeMap<String, Vec<&Case>> = BTreeMap::new();
        for c in &test {
            by_lang
                .entry(
                    c.lang
                        .clone()
                        .unwrap_or_else(|| c.id.split('-').next().unwrap_or("").to_string()),
                )
                .or_default()
                .push(c);
        }
        for (lang, cs) in &by_lang {
            let (tp, fp, fn_, _) = score(profile, judge, cs);
            let _ = writeln!(report, "  {lang}: {}", prf(tp, fp, fn_));
        }
        let _ = write!(report, "{}", calibration::reliability(&pairs));
    }
    Ok(report)
}
