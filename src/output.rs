//! The JSON contract of SPEC §4 (wire types; the only serde in the engine's
//! path) and the plain-text tables printed with `--format text`.

use serde::Serialize;

use crate::analyze::{Analysis, Claim};
use crate::compare::Shift;
use crate::ledger::Ledger;

#[derive(Debug, Serialize)]
pub struct BaselineJson<'a> {
    pub positions: Vec<PositionJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct PositionJson<'a> {
    pub actor: &'a str,
    pub topic: &'a str,
    pub stance: &'static str,
    pub evidence: Vec<EvidenceJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct EvidenceJson<'a> {
    pub source: &'a str,
    pub sentence: &'a str,
}

pub fn baseline_json(ledger: &Ledger) -> String {
    let positions = ledger
        .cells()
        .map(|c| PositionJson {
            actor: &c.actor,
            topic: &c.topic,
            stance: c.stance.as_str(),
            evidence: c
                .evidence
                .iter()
                .map(|e| EvidenceJson {
                    source: &e.source,
                    sentence: &e.sentence,
                })
                .collect(),
        })
        .collect();
    serde_json::to_string(&BaselineJson { positions }).expect("serialisable")
}

pub fn baseline_text(ledger: &Ledger) -> String {
    let mut out = format!(
        "{:<10} {:<24} {:<12} evidence\n",
        "actor", "topic", "stance"
    );
    for c in ledger.cells() {
        let ev = c
            .evidence
            .first()
            .map(|e| format!("{}: {}", e.source, e.sentence))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<10} {:<24} {:<12} {}\n",
            c.actor,
            c.topic,
            c.stance.as_str(),
            ev
        ));
    }
    out.push_str(&format!("{} positions\n", ledger.len()));
    out
}

#[derive(Debug, Serialize)]
pub struct CompareJson<'a> {
    pub source: &'a str,
    pub title: &'a str,
    pub relevant: bool,
    pub claims: Vec<ClaimJson<'a>>,
    pub shifts: Vec<ShiftJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ClaimJson<'a> {
    pub actor: &'a str,
    pub topic: &'a str,
    pub stance: &'static str,
    pub speaker: &'a str,
    pub confidence: f64,
    pub sentence: &'a str,
}

#[derive(Debug, Serialize)]
pub struct ShiftJson<'a> {
    pub actor: &'a str,
    pub topic: &'a str,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub kind: &'static str,
    pub confidence: f64,
    pub sentence: &'a str,
    pub baseline_sentence: &'a str,
    pub diff: &'a str,
    /// The words that carry the stance, now and in the baseline sentence.
    pub stance_words: &'a [String],
    pub baseline_stance_words: &'a [String],
    /// For a `new` cell: what the ledger holds on the topic for others.
    pub others: Vec<OtherJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct OtherJson<'a> {
    pub actor: &'a str,
    pub stance: &'static str,
    pub sentence: &'a str,
}

fn claim_json(c: &Claim) -> ClaimJson<'_> {
    ClaimJson {
        actor: &c.actor,
        topic: &c.topic,
        stance: c.stance.as_str(),
        speaker: &c.speaker,
        confidence: c.confidence,
        sentence: &c.sentence,
    }
}

fn shift_json(s: &Shift) -> ShiftJson<'_> {
    ShiftJson {
        actor: &s.actor,
        topic: &s.topic,
        from: s.from.map(|f| f.as_str()),
        to: s.to.as_str(),
        kind: s.kind.as_str(),
        confidence: s.confidence,
        sentence: &s.sentence,
        baseline_sentence: &s.baseline_sentence,
        diff: &s.diff,
        stance_words: &s.stance_words,
        baseline_stance_words: &s.baseline_stance_words,
        others: s
            .others
            .iter()
            .map(|o| OtherJson {
                actor: &o.actor,
                stance: o.stance.as_str(),
                sentence: &o.sentence,
            })
            .collect(),
    }
}

/// One line of `compare --format json`.
pub fn compare_json(source: &str, title: &str, analysis: &Analysis, shifts: &[Shift]) -> String {
    let v = CompareJson {
        source,
        title,
        relevant: analysis.relevant,
        claims: analysis.claims.iter().map(claim_json).collect(),
        shifts: shifts.iter().map(shift_json).collect(),
    };
    serde_json::to_string(&v).expect("serialisable")
}

/// The readable report of `compare --format text`.
pub fn compare_text(source: &str, title: &str, analysis: &Analysis, shifts: &[Shift]) -> String {
    let mut out = format!("== {source}\n   {title}\n");
    if !analysis.relevant {
        out.push_str("   not relevant\n");
        return out;
    }
    out.push_str(&format!(
        "   {} claims, {} shifts\n",
        analysis.claims.len(),
        shifts.len()
    ));
    for c in &analysis.claims {
        let spk = if c.speaker != c.actor {
            format!(" (said by {})", c.speaker)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "   claim  {}/{} {}{} [{:.2}]\n",
            c.actor, c.topic, c.stance, spk, c.confidence
        ));
        out.push_str(&format!("          {}\n", c.sentence));
    }
    for s in shifts {
        let from = s.from.map(|f| f.as_str()).unwrap_or("none");
        out.push_str(&format!(
            "   {:<5}  {}/{} {} -> {} [{:.2}]\n",
            s.kind.as_str(),
            s.actor,
            s.topic,
            from,
            s.to,
            s.confidence
        ));
        out.push_str(&format!(
            "          now:  {}\n",
            crate::compare::mark(&s.sentence, &s.stance_words)
        ));
        if s.baseline_sentence.is_empty() {
            for o in &s.others {
                out.push_str(&format!(
                    "          held: {} {}: {}\n",
                    o.actor, o.stance, o.sentence
                ));
            }
        } else {
            out.push_str(&format!(
                "          was:  {}\n",
                crate::compare::mark(&s.baseline_sentence, &s.baseline_stance_words)
            ));
            out.push_str(&format!("          diff: {}\n", s.marked_diff));
        }
    }
    out
}

/// `positions --format json`.
#[derive(Debug, Serialize)]
pub struct PositionsJson<'a> {
    pub positions: Vec<CellJson<'a>>,
    pub pending: Vec<PendingJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct CellJson<'a> {
    pub actor: &'a str,
    pub topic: &'a str,
    pub stance: &'static str,
    pub since: String,
    pub sources: Vec<SourceJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct SourceJson<'a> {
    pub url: Option<&'a str>,
    pub outlet: Option<&'a str>,
    pub sentence: &'a str,
}

#[derive(Debug, Serialize)]
pub struct PendingJson<'a> {
    pub actor: &'a str,
    pub topic: &'a str,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub first_seen: String,
    pub sources: Vec<SourceJson<'a>>,
}

/// A line of `history --format json` for a move that was reported and
/// dropped because no other outlet confirmed it within `alerts.window`.
#[derive(Debug, Serialize)]
pub struct ExpiredJson<'a> {
    pub actor: &'a str,
    pub topic: &'a str,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub first_seen: String,
    /// Always `true`: what tells this line from a change.
    pub expired: bool,
    pub sources: Vec<SourceJson<'a>>,
}

/// One line of `history --format json`, and one shift of `export --format json`.
#[derive(Debug, Serialize)]
pub struct ChangeJson<'a> {
    pub id: i64,
    pub actor: &'a str,
    pub topic: &'a str,
    pub from: Option<&'static str>,
    /// `null`: the cell was removed.
    pub to: Option<&'static str>,
    pub at: String,
    pub by: &'a str,
    pub note: Option<&'a str>,
    pub sentence: &'a str,
    pub source: &'a str,
    pub sources: Vec<SourceJson<'a>>,
}
