//! The command line (clap derive). Parsing only: `main.rs` dispatches.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "stancewatch",
    version,
    about = "Watches news feeds and emails an alert when a government's position shifts",
    after_help = "Exit status: 0 success; 1 `check --exit-code` found shifts; 2 usage or config error; 3 runtime failure."
)]
pub struct Cli {
    /// Log filter (tracing syntax), e.g. `info`, `stancewatch=debug`.
    #[arg(long, global = true, env = "STANCEWATCH_LOG", default_value = "info")]
    pub log: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the baseline ledger built from the seeds.
    Baseline {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Config naming another profile or seed folder.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Analyse article files and compare them with the baseline.
    Compare {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Also print, sentence by sentence, how each topic was read: the
        /// holder and how it was found, the cue, negations, frames, verdict.
        #[arg(long)]
        explain: bool,
        /// Text files (title, blank line, body) or .html pages.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// One pass: fetch, analyse, compare, record, alert.
    Check {
        #[arg(long)]
        config: PathBuf,
        /// Render alerts to .eml files (or print them) without sending or recording state.
        #[arg(long)]
        dry_run: bool,
        /// Exit with status 1 when the pass found shifts.
        #[arg(long)]
        exit_code: bool,
    },
    /// Run passes on a schedule until stopped (the systemd service).
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// List the configured feeds with their health.
    Feeds {
        #[arg(long)]
        config: PathBuf,
    },
    /// Send a sample alert and report what the server said.
    TestEmail {
        #[arg(long)]
        config: PathBuf,
    },
    /// Score the engine on a labelled folder (labels.json) or sentence file (.jsonl).
    Eval {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The expected baseline: shifts equal to its optional cells are ignored.
        #[arg(long)]
        expected: Option<PathBuf>,
        /// Fail (exit 1) when F1 is below this.
        #[arg(long)]
        min_f1: Option<f64>,
        /// The stance judge to score (default: the config's, else `rules`).
        #[arg(long)]
        judge: Option<String>,
        path: PathBuf,
    },
    /// Fit the linear judge and both judges' calibration on labelled
    /// sentences (JSON lines), and compare the judges on a held-out part.
    Train {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Where linear.json and rules.json are written.
        #[arg(long, default_value = "models")]
        out: PathBuf,
        /// Labelled article folders (labels.json) whose shifts also
        /// calibrate the judges' confidence: real coverage.
        #[arg(long = "calibrate-on")]
        calibrate_on: Vec<PathBuf>,
        /// The expected baseline: shifts equal to its optional cells are ignored.
        #[arg(long)]
        expected: Option<PathBuf>,
        #[arg(required = true)]
        corpus: Vec<PathBuf>,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The ledger as it stands, with the sources of each cell, and the
    /// moves waiting for corroboration.
    Positions {
        #[arg(long)]
        config: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Every change of the ledger, oldest first: who made it, when, from
    /// which sources, with which note.
    History {
        #[arg(long)]
        config: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// One cell only, as ACTOR/TOPIC.
        cell: Option<String>,
    },
    /// Correct the ledger by hand.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// The confirmed shifts as an Atom feed, JSON or CSV, newest first.
    Export {
        #[arg(long)]
        config: PathBuf,
        #[arg(long, value_enum)]
        format: ExportArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportArg {
    Atom,
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Put a cell back to what it held before its last change (remove it
    /// if it did not exist); the reports behind that change will not count
    /// again for the same move.
    Revert {
        #[arg(long)]
        config: PathBuf,
        /// ACTOR/TOPIC
        cell: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Set a cell's stance by hand.
    Set {
        #[arg(long)]
        config: PathBuf,
        /// ACTOR/TOPIC
        cell: String,
        /// supports, opposes or conditional
        stance: String,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config file: exit 0 when valid, 2 with the problem otherwise.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
}
