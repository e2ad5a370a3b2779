//! The engine: a profile and its baseline ledger, ready to analyse articles.
//!
//! Built once per process (and again on reload) from the built-in profile
//! and seeds, or from the files a config names.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::analyze::judge::{self, StanceJudge};
use crate::analyze::{self, Analysis};
use crate::article::Article;
use crate::compare::{self, Shift};
use crate::config::Config;
use crate::ledger::{Ledger, Seed};
use crate::profile::Profile;

/// Claims below this calibrated confidence are recorded but move nothing:
/// on labelled coverage, they were wrong more often than right.
pub const MIN_CONFIDENCE: f64 = 0.5;

pub struct Engine {
    pub profile: Profile,
    pub judge: Box<dyn StanceJudge>,
    pub baseline: Ledger,
    pub min_confidence: f64,
    seeds: Vec<Seed>,
}

impl Engine {
    /// The built-in profile and seeds.
    pub fn builtin() -> Engine {
        let profile = Profile::builtin();
        let judge: Box<dyn StanceJudge> = Box::new(judge::Rules::builtin());
        let seeds = Seed::builtin();
        let baseline = Ledger::from_seeds(&profile, judge.as_ref(), &seeds);
        Engine {
            profile,
            judge,
            baseline,
            min_confidence: MIN_CONFIDENCE,
            seeds,
        }
    }

    /// The profile and seeds a config names, the built-in ones otherwise.
    pub fn from_config(cfg: Option<&Config>) -> Result<Engine> {
        let Some(cfg) = cfg else {
            return Ok(Engine::builtin());
        };
        let profile = match &cfg.profile {
            Some(p) => Profile::load(p)?,
            None => Profile::builtin(),
        };
        let seeds = match &cfg.seeds {
            Some(dir) => load_seeds(dir)?,
            None => Seed::builtin(),
        };
        let judge = analyze::judge_named(&cfg.judge).with_context(|| {
            format!(
                "{}: key `analysis.judge`: no judge `{}`",
                cfg.source.display(),
                cfg.judge
            )
        })?;
        let baseline = Ledger::from_seeds(&profile, judge.as_ref(), &seeds);
        Ok(Engine {
            profile,
            judge,
            baseline,
            min_confidence: cfg.min_confidence,
            seeds,
        })
    }

    pub fn analyze(&self, article: &Article) -> Analysis {
        self.analyze_within(article, &analyze::Budget::unlimited())
            .expect("an unlimited budget is never spent")
    }

    /// Analysis as long as `budget` lasts.
    pub fn analyze_within(
        &self,
        article: &Article,
        budget: &analyze::Budget<'_>,
    ) -> Result<Analysis, analyze::OverBudget> {
        analyze::analyze_with(
            &self.profile,
            self.judge.as_ref(),
            &article.title,
            &article.body,
            budget,
        )
    }

    /// The stance words of a ledger sentence for one cell.
    pub fn stance_words(&self, actor: &str, topic: &str, sentence: &str) -> Vec<String> {
        analyze::stance_words_of(&self.profile, self.judge.as_ref(), actor, topic, sentence)
    }

    /// Reads with the given judge (and builds the baseline with it).
    pub fn use_judge(&mut self, judge: Box<dyn StanceJudge>) {
        self.baseline = Ledger::from_seeds(&self.profile, judge.as_ref(), &self.seeds);
        self.judge = judge;
    }

    /// Reads with another judge (and builds the baseline with it).
    pub fn set_judge(&mut self, name: &str) -> Result<()> {
        let judge = analyze::judge_named(name).with_context(|| {
            format!("no judge `{name}` (known: {})", analyze::JUDGES.join(", "))
        })?;
        self.baseline = Ledger::from_seeds(&self.profile, judge.as_ref(), &self.seeds);
        self.judge = judge;
        Ok(())
    }

    /// How each topic of each sentence was read, for a person to check.
    pub fn explain(&self, article: &Article) -> String {
        analyze::explain(
            &self.profile,
            self.judge.as_ref(),
            &article.title,
            &article.body,
        )
    }

    /// Analysis and the shifts against the baseline.
    pub fn compare(&self, article: &Article) -> (Analysis, Vec<Shift>) {
        let a = self.analyze(article);
        let s = compare::compare(
            &self.baseline,
            &a.claims,
            self.min_confidence,
            &|a, t, s| self.stance_words(a, t, s),
        );
        (a, s)
    }
}

/// Every `.txt` file of a folder, sorted by name.
pub fn load_seeds(dir: &Path) -> Result<Vec<Seed>> {
    let mut seeds = Vec::new();
    let rd = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the seed folder", dir.display()))?;
    for entry in rd {
        let p = entry?.path();
        if p.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("{}: cannot read", p.display()))?;
        seeds.push(Seed {
            name: p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string(),
            text,
        });
    }
    if seeds.is_empty() {
        bail!("{}: no .txt seed files", dir.display());
    }
    seeds.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(seeds)
}
