//! Stance judges: from a [`Reading`] (holder, topic, cue, negations,
//! frame) to a stance and a raw score. More than one judge can exist behind
//! [`StanceJudge`]; `eval` scores each on the same readings and the config
//! chooses one.

use super::Stance;
use super::attribution::{CueKind, HolderVia, Reading};
use super::sentence::Sentence;
use crate::profile::TermKind;

/// A judge's verdict: a stance and a raw score in 0..1 (calibrated later).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub stance: Stance,
    pub score: f64,
}

/// Decides the stance of one reading, or that it states none.
pub trait StanceJudge: Send + Sync {
    /// The judge's name, as `[analysis] judge` spells it.
    fn name(&self) -> &'static str;
    fn judge(&self, s: &Sentence, r: &Reading) -> Option<Verdict>;
}

/// The stance a cue reads as, after its negations and reversals.
pub fn polarity(r: &Reading) -> Option<Stance> {
    let cue = r.cue?;
    let flipped = (r.negations % 2 == 1) ^ r.reversed;
    let base = match (cue.kind, flipped) {
        (CueKind::Supports | CueKind::Action | CueKind::Deontic, false) => Stance::Supports,
        (CueKind::Supports | CueKind::Action | CueKind::Deontic, true) => Stance::Opposes,
        (CueKind::Opposes, false) => Stance::Opposes,
        (CueKind::Opposes, true) => Stance::Supports,
        (CueKind::RuleOut, false) => Stance::Opposes,
        (CueKind::RuleOut, true) => Stance::Conditional,
        (CueKind::Openness | CueKind::Softened, false) => Stance::Conditional,
        (CueKind::Openness | CueKind::Softened, true) => Stance::Opposes,
    };
    Some(base)
}

/// The hand-written rules: polarity, then the frames; the raw score comes
/// from how the holder and cue were found, mapped through a calibration
/// table.
#[derive(Debug, Clone)]
pub struct Rules {
    table: Vec<(f64, f64)>,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules::builtin()
    }
}

impl Rules {
    /// The rules with the built-in calibration.
    pub fn builtin() -> Rules {
        Rules {
            table: super::calibration::rules_table(),
        }
    }

    /// The rules with raw scores (for fitting a table).
    pub fn raw() -> Rules {
        Rules { table: Vec::new() }
    }

    /// The rules with a calibration table of one's own.
    pub fn with_table(table: Vec<(f64, f64)>) -> Rules {
        Rules { table }
    }
}

impl StanceJudge for Rules {
    fn name(&self) -> &'static str {
        "rules"
    }

    fn judge(&self, _s: &Sentence, r: &Reading) -> Option<Verdict> {
        let f = r.frame;
        if ((f.question || f.indirect_question) && !f.answered_no)
            || f.hypothetical
            || f.predicted
            || f.withheld
            || f.historical
            || f.non_actor
            || f.subordinate
        {
            return None;
        }
        let mut stance = polarity(r)?;
        if f.answered_no {
            stance = match stance {
                Stance::Supports | Stance::Conditional => Stance::Opposes,
                Stance::Opposes => Stance::Supports,
            };
        }
        if f.denied {
            // a denial of a position is its opposite, held by the denier
            stance = match stance {
                Stance::Supports | Stance::Conditional => Stance::Opposes,
                Stance::Opposes => Stance::Supports,
            };
        } else if (f.condition || (f.not_until && r.negations % 2 == 1))
            && stance != Stance::Conditional
        {
            stance = Stance::Conditional;
        }
        // how sure the reading is: the holder as subject or owner and a cue
        // right at the topic are the surest; a holder taken from who speaks,
        // a possessive, rival actors, a weak term, distance and a long
        // clause each take some away
        let mut score: f64 = 0.9;
        let cue = r.cue?;
        if r.mention.kind == TermKind::Weak {
            score -= 0.15;
        }
        score -= match r.via {
            HolderVia::Agent | HolderVia::Owner | HolderVia::Before => 0.0,
            HolderVia::After => 0.05,
            HolderVia::Possessive => 0.1,
            HolderVia::Speaker => 0.15,
            HolderVia::Context => 0.2,
        };
        if cue.kind == CueKind::Supports {
            // a bare "yes" word ("support", "offer") is the commonest
            // misreading: it attaches to many things
            score -= 0.05;
        }
        let distance = if cue.end <= r.mention.start {
            r.mention.start - cue.end
        } else {
            cue.start.saturating_sub(r.mention.end)
        };
        if distance > 6 {
            score -= 0.1;
        }
        if r.negations >= 2 {
            score -= 0.1;
        }
        score -= 0.05 * r.rivals.min(3) as f64;
        let (a, b) = r.clause;
        if b.saturating_sub(a) > 30 {
            score -= 0.05;
        }
        if f.denied || f.answered_no || f.condition {
            score -= 0.05;
        }
        Some(Verdict {
            stance,
            score: super::linear::calibrate(&self.table, score.clamp(0.05, 0.99)),
        })
    }
}
