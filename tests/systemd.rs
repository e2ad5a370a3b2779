//! The unit file passes `systemd-analyze verify` without a word and keeps
//! its exposure score at or under 1.5 (`security --offline=yes`).

use std::process::Command;

use crate::support::*;

/// A shipped unit with ExecStart pointed at the binary under test.
fn unit_named(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let unit = std::fs::read_to_string(repo(&format!("systemd/{name}"))).unwrap();
    let unit = unit.replace("/usr/local/bin/stancewatch", bin().to_str().unwrap());
    let p = dir.join(name);
    std::fs::write(&p, unit).unwrap();
    p
}

fn unit_under_test(dir: &std::path::Path) -> std::path::PathBuf {
    unit_named(dir, "stancewatch.service")
}

#[test]
fn unit_file_verifies_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_under_test(dir.path());
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("systemd-analyze is installed (.ci/run installs it)");
    let err = String::from_utf8_lossy(&out.stderr);
    // verify exits 0 on misspelt keys: any output at all is a failure
    assert!(out.status.success() && err.trim().is_empty(), "{err}");
}

#[test]
fn timer_pair_verifies_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let svc = unit_named(dir.path(), "stancewatch-check.service");
    let timer = unit_named(dir.path(), "stancewatch-check.timer");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&svc)
        .arg(&timer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "{err}");
}

#[test]
fn unit_file_exposure_is_at_most_1_5() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_under_test(dir.path());
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze is installed (.ci/run installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no score in: {text}"));
    let score: f64 = line
        .split(':')
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unreadable score: {line}"));
    println!("{line}");
    assert!(score <= 1.5, "{line}");
}
