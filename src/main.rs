//! The `stancewatch` binary: parse the command line, set up logging,
//! dispatch, and map the outcome to an exit status (0 ok, 1 shifts found
//! with `--exit-code`, 2 usage or config error, 3 runtime failure).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use stancewatch::article::Article;
use stancewatch::cli::{Cli, Command, ConfigCommand, ExportArg, Format, LedgerCommand};
use stancewatch::config::{Config, ConfigError};
use stancewatch::engine::Engine;
use stancewatch::state::State;
use stancewatch::{eval, output, pass, review};

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    stancewatch::logging::init(&cli.log);
    // a panic (one a feed or page trips in a library, caught and reported as
    // that input's error) is one log line, not a message and a backtrace hint
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(panic = %what, at = %at, "caught a panic");
    }));
    let _ = rustls::crypto::ring::default_provider().install_default();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stancewatch: {e:#}");
            if e.chain().any(|c| c.is::<ConfigError>() || c.is::<Usage>()) {
                ExitCode::from(2)
            } else {
                ExitCode::from(3)
            }
        }
    }
}

fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<Option<Config>> {
    path.map(Config::load).transpose()
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Baseline { format, config } => {
            let cfg = load_config(config.as_deref())?;
            let engine = Engine::from_config(cfg.as_ref())?;
            match format {
                Format::Json => writeln!(out, "{}", output::baseline_json(&engine.baseline))?,
                Format::Text => write!(out, "{}", output::baseline_text(&engine.baseline))?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare {
            format,
            config,
            explain,
            paths,
        } => {
            let cfg = load_config(config.as_deref())?;
            let engine = Engine::from_config(cfg.as_ref())?;
            for p in &paths {
                let article = Article::load(p)?;
                if explain {
                    write!(out, "{}", engine.explain(&article))?;
                }
                let (analysis, shifts) = engine.compare(&article);
                let src = p.display().to_string();
                match format {
                    Format::Json => writeln!(
                        out,
                        "{}",
                        output::compare_json(&src, &article.title, &analysis, &shifts)
                    )?,
                    Format::Text => write!(
                        out,
                        "{}",
                        output::compare_text(&src, &article.title, &analysis, &shifts)
                    )?,
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            config,
            expected,
            min_f1,
            judge,
            path,
        } => {
            let cfg = load_config(config.as_deref())?;
            let mut engine = Engine::from_config(cfg.as_ref())?;
            if let Some(name) = judge {
                engine.set_judge(&name)?;
            }
            let report = if path.is_dir() {
                eval::report_dir(&engine, &path, expected.as_deref())?
            } else {
                eval::report_sentences(&engine, &path)?
            };
            writeln!(out, "judge: {}", engine.judge.name())?;
            writeln!(out, "{}", report.text())?;
            let score = report.score;
            if min_f1.is_some_and(|m| score.f1() < m) {
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Train {
            config,
            out: dir,
            calibrate_on,
            expected,
            corpus,
        } => {
            let cfg = load_config(config.as_deref())?;
            let mut engine = Engine::from_config(cfg.as_ref())?;
            let report = stancewatch::train::train_with(
                &mut engine,
                &corpus,
                &calibrate_on,
                expected.as_deref(),
                &dir,
            )?;
            write!(out, "{report}")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config {
            command: ConfigCommand::Check { config },
        } => {
            let c = Config::load(&config)?;
            // what a pass needs besides the file: a state folder it can
            // write (or a database it can reach), a profile and seeds that
            // compile
            c.check_state_folder()?;
            if c.state_server.is_some() {
                c.state_access()
                    .and_then(|at| State::open_at(&at))
                    .map_err(|e| ConfigError {
                        file: config.display().to_string(),
                        key: "state.url".into(),
                        problem: format!("{e:#}"),
                    })?;
            }
            let engine = Engine::from_config(Some(&c)).map_err(|e| ConfigError {
                file: config.display().to_string(),
                key: "analysis".into(),
                problem: format!("{e:#}"),
            })?;
            writeln!(out, "{}", stancewatch::config::describe(&c))?;
            writeln!(
                out,
                "profile {} ({} actors, {} topics), baseline of {} positions",
                engine.profile.name,
                engine.profile.actors.len(),
                engine.profile.topics.len(),
                engine.baseline.len()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            config,
            dry_run,
            exit_code,
        } => {
            let cfg = Config::load(&config)?;
            let engine = std::sync::Arc::new(Engine::from_config(Some(&cfg))?);
            let mut state = State::open_at(&cfg.state_access()?)?;
            stancewatch::init_state(&mut state, &engine)?;
            let (control, stop) = pass::Control::new();
            let opts = pass::Options {
                dry_run,
                only_due: false,
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
                flush: true,
                control,
            };
            let summary = runtime()?.block_on(async {
                // Ctrl-C or SIGTERM: the pass winds down, owed alerts stay owed
                tokio::spawn(async move {
                    if let Ok(mut term) =
                        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = term.recv() => {}
                        }
                        let _ = stop.send(true);
                    }
                });
                pass::run_once(&cfg, engine, &mut state, &opts).await
            })?;
            write!(out, "{summary}")?;
            if exit_code && !summary.shifts.is_empty() {
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { config } => {
            runtime()?.block_on(stancewatch::daemon::run(&config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Positions { config, format } => {
            let (engine, state) = open_ledger(&config)?;
            write!(
                out,
                "{}",
                review::positions(&state, &engine, format == Format::Json)?
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::History {
            config,
            format,
            cell,
        } => {
            let (engine, state) = open_ledger(&config)?;
            let cell = cell
                .as_deref()
                .map(|c| review::parse_cell(&engine, c))
                .transpose()
                .map_err(usage)?;
            write!(
                out,
                "{}",
                review::history(&state, cell, format == Format::Json)?
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger { command } => {
            let text = match command {
                LedgerCommand::Revert { config, cell, note } => {
                    let (engine, mut state) = open_ledger(&config)?;
                    let cell = review::parse_cell(&engine, &cell).map_err(usage)?;
                    review::revert(
                        &mut state,
                        &engine,
                        cell,
                        note.as_deref(),
                        chrono::Utc::now(),
                    )
                    .map_err(usage)?
                }
                LedgerCommand::Set {
                    config,
                    cell,
                    stance,
                    note,
                } => {
                    let (engine, mut state) = open_ledger(&config)?;
                    let cell = review::parse_cell(&engine, &cell).map_err(usage)?;
                    let stance = stancewatch::analyze::Stance::parse(&stance).ok_or_else(|| {
                        usage(anyhow::anyhow!(
                            "`{stance}`: a stance is supports, opposes or conditional"
                        ))
                    })?;
                    review::set(
                        &mut state,
                        cell,
                        stance,
                        note.as_deref(),
                        chrono::Utc::now(),
                    )?
                }
            };
            write!(out, "{text}")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { config, format } => {
            let (engine, state) = open_ledger(&config)?;
            let format = match format {
                ExportArg::Atom => review::ExportFormat::Atom,
                ExportArg::Json => review::ExportFormat::Json,
                ExportArg::Csv => review::ExportFormat::Csv,
            };
            write!(
                out,
                "{}",
                review::export(&state, &engine, format, chrono::Utc::now())?
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Feeds { config } => {
            let cfg = Config::load(&config)?;
            let state = State::open_at(&cfg.state_access()?)?;
            writeln!(
                out,
                "{:<50} {:<22} {:>5}  {:<22} last error / validators",
                "feed", "last success", "fails", "next poll"
            )?;
            for f in &cfg.feeds {
                let r = state.feed(f.url.as_str())?;
                let extra = match (&r.last_error, r.failures) {
                    (Some(e), n) if n > 0 => e.clone(),
                    _ => format!(
                        "etag={} last-modified={}",
                        r.validators.etag.as_deref().unwrap_or("-"),
                        r.validators.last_modified.as_deref().unwrap_or("-")
                    ),
                };
                writeln!(
                    out,
                    "{:<50} {:<22} {:>5}  {:<22} {}",
                    f.url.as_str(),
                    r.last_success.map_or("never".to_string(), |t| t
                        .format("%Y-%m-%dT%H:%M:%SZ")
                        .to_string()),
                    r.failures,
                    r.next_poll.map_or("now".to_string(), |t| t
                        .format("%Y-%m-%dT%H:%M:%SZ")
                        .to_string()),
                    extra
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::TestEmail { config } => {
            let cfg = Config::load(&config)?;
            let Some(email) = cfg.email.clone() else {
                return Err(ConfigError {
                    file: config.display().to_string(),
                    key: "email".into(),
                    problem: "missing: no [email] section".into(),
                }
                .into());
            };
            let outcome = runtime()?.block_on(stancewatch::notify::send_test(&email))?;
            writeln!(out, "{outcome}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The engine and the state of a config, the ledger set up as a pass would.
fn open_ledger(config: &std::path::Path) -> anyhow::Result<(Engine, State)> {
    let cfg = Config::load(config)?;
    let engine = Engine::from_config(Some(&cfg))?;
    let mut state = State::open_at(&cfg.state_access()?)?;
    stancewatch::init_state(&mut state, &engine)?;
    Ok((engine, state))
}

/// A mistake in what was asked (exit 2), not a failure of the run.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn usage(e: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(Usage(format!("{e:#}")))
}
