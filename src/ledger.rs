//! The ledger: for every (actor, topic), the current stance and its evidence.
//!
//! The baseline is the ledger built from the seed articles: each seed is
//! analysed, seeds are applied oldest first, and a later dated seed wins
//! where seeds disagree. Pure: seeds come in as text, the ledger goes out.
//! Storing the ledger and its history is [`crate::state`]'s job.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::analyze::judge::StanceJudge;
use crate::analyze::{self, Stance};
use crate::profile::Profile;

/// The five seed articles of the built-in profile, by file name.
pub const BUILTIN_SEEDS: &[(&str, &str)] = &[
    (
        "000_d481890ccf61c0f0.txt",
        include_str!("../seeds/000_d481890ccf61c0f0.txt"),
    ),
    (
        "001_c4f10d3762449928.txt",
        include_str!("../seeds/001_c4f10d3762449928.txt"),
    ),
    (
        "002_308d88a7bd9ca93f.txt",
        include_str!("../seeds/002_308d88a7bd9ca93f.txt"),
    ),
    (
        "003_a36b1e070f83d72e.txt",
        include_str!("../seeds/003_a36b1e070f83d72e.txt"),
    ),
    (
        "004_559797c7e96b10d1.txt",
        include_str!("../seeds/004_559797c7e96b10d1.txt"),
    ),
];

/// A seed article: its name and its text.
#[derive(Debug, Clone)]
pub struct Seed {
    pub name: String,
    pub text: String,
}

impl Seed {
    pub fn builtin() -> Vec<Seed> {
        BUILTIN_SEEDS
            .iter()
            .map(|(n, t)| Seed {
                name: (*n).to_string(),
                text: (*t).to_string(),
            })
            .collect()
    }
}

/// The sentence that states a cell, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub source: String,
    pub sentence: String,
    pub confidence: f64,
    /// The words that carry the stance (empty when read back from the state).
    pub stance_words: Vec<String>,
}

/// One (actor, topic) position.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub actor: String,
    pub topic: String,
    pub stance: Stance,
    /// Strongest first.
    pub evidence: Vec<Evidence>,
    pub date: Option<NaiveDate>,
}

/// Positions indexed by (actor, topic).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    cells: BTreeMap<(String, String), Cell>,
}

impl Ledger {
    pub fn get(&self, actor: &str, topic: &str) -> Option<&Cell> {
        self.cells.get(&(actor.to_string(), topic.to_string()))
    }

    pub fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.cells.values()
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Sets a cell, replacing what it held.
    pub fn set(&mut self, cell: Cell) {
        self.cells
            .insert((cell.actor.clone(), cell.topic.clone()), cell);
    }

    /// Builds the baseline from seeds: oldest first, a later date wins,
    /// undated seeds count as oldest, ties go by name.
    pub fn from_seeds(profile: &Profile, judge: &dyn StanceJudge, seeds: &[Seed]) -> Ledger {
        let mut dated: Vec<(Option<NaiveDate>, &Seed)> =
            seeds.iter().map(|s| (seed_date(profile, s), s)).collect();
        dated.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
        let mut ledger = Ledger::default();
        for (date, seed) in dated {
            let analysis = analyze::analyze_seed(profile, judge, &seed.text);
            for c in analysis.claims {
                let ev = Evidence {
                    source: seed.name.clone(),
                    sentence: c.sentence.clone(),
                    confidence: c.confidence,
                    stance_words: c.stance_words.clone(),
                };
                match ledger.cells.get_mut(&(c.actor.clone(), c.topic.clone())) {
                    Some(cell) if cell.stance == c.stance => {
                        cell.evidence.insert(0, ev);
                        cell.date = date.or(cell.date);
                    }
                    _ => ledger.set(Cell {
                        actor: c.actor,
                        topic: c.topic,
                        stance: c.stance,
                        evidence: vec![ev],
                        date,
                    }),
                }
            }
        }
        ledger
    }
}

/// A seed's date: pinned by the profile, else the latest full date in its text.
pub fn seed_date(profile: &Profile, seed: &Seed) -> Option<NaiveDate> {
    if let Some(d) = profile.seed_dates.get(&seed.name) {
        return Some(*d);
    }
    seed.text
        .lines()
        .filter_map(|l| analyze::find_date(profile, l))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_dates_come_from_the_text() {
        let p = Profile::builtin();
        let seeds = Seed::builtin();
        let d0 = seed_date(&p, &seeds[0]).unwrap();
        let d1 = seed_date(&p, &seeds[1]).unwrap();
        assert_eq!(d0, NaiveDate::from_ymd_opt(2026, 1, 6).unwrap());
        assert_eq!(d1, NaiveDate::from_ymd_opt(2025, 12, 3).unwrap());
    }

    #[test]
    fn later_seed_wins() {
        let p = Profile::builtin();
        let old = Seed {
            name: "a.txt".into(),
            text: "Published 1 March 2025.\n\nThe Kremlin firmly rejects the presence of European peacekeepers in Ukraine.\n".into(),
        };
        let new = Seed {
            name: "b.txt".into(),
            text: "Published 1 June 2025.\n\nThe Kremlin said it could accept European peacekeepers in Ukraine only if they were neutral.\n".into(),
        };
        let l = Ledger::from_seeds(
            &p,
            &crate::analyze::judge::Rules::builtin(),
            &[new.clone(), old.clone()],
        );
        assert_eq!(
            l.get("russia", "foreign_force").unwrap().stance,
            Stance::Conditional
        );
    }
}
