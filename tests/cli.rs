//! The command-line contract of SPEC §4: JSON shapes and exit codes.

use crate::support::*;

#[test]
fn baseline_json_has_the_contract_shape() {
    let out = run(&["baseline", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let positions = v["positions"].as_array().unwrap();
    assert!(!positions.is_empty());
    for p in positions {
        for k in ["actor", "topic", "stance"] {
            assert!(p[k].is_string(), "{p}");
        }
        assert!(["supports", "opposes", "conditional"].contains(&p["stance"].as_str().unwrap()));
        let ev = p["evidence"].as_array().unwrap();
        assert!(!ev.is_empty());
        assert!(ev[0]["source"].is_string() && ev[0]["sentence"].is_string());
    }
}

#[test]
fn compare_json_is_one_line_per_article() {
    let a = repo("tests/fixtures/dev/22-kremlin-neutral-peacekeepers.txt");
    let b = repo("tests/fixtures/dev/10-gaza-stabilisation-force.html");
    let out = run(&[
        "compare",
        "--format",
        "json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for l in &lines {
        for k in ["source", "title", "relevant", "claims", "shifts"] {
            assert!(!l[k].is_null(), "{k} missing in {l}");
        }
    }
    assert_eq!(lines[1]["relevant"], false);
    let shift = lines[0]["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["actor"] == "russia" && s["topic"] == "foreign_force")
        .expect("the Kremlin shift");
    assert_eq!(shift["from"], "opposes");
    assert_eq!(shift["to"], "conditional");
    assert_eq!(shift["kind"], "shift");
    for k in ["confidence", "sentence", "baseline_sentence", "diff"] {
        assert!(!shift[k].is_null());
    }
    assert!(shift["diff"].as_str().unwrap().contains("{+"));
}

#[test]
fn config_errors_name_file_key_and_problem_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[poll]\ninterval = 5\n", "poll.interval"),
        ("[[feeds]]\nurl = \"gopher://x\"\n", "feeds[0].url"),
        ("[email]\nto = [\"a@b\"]\n", "email.from"),
        ("[fetch]\nconcurency = 4\n", "concurency"),
        (
            "[email]\nsmtp_host = \"mail.example.com\"\ntls = \"none\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n",
            "email.tls",
        ),
        // a name under .localhost may be resolved off the machine
        (
            "[email]\nsmtp_host = \"mail.localhost\"\ntls = \"none\"\nfrom = \"a@b\"\nto = [\"c@d\"]\n",
            "email.tls",
        ),
        (
            "[poll]\ninterval = \"99999999999999999999999w\"\n",
            "poll.interval",
        ),
        // an address the mailer would refuse at the first shift
        (
            "[email]\nmaildir = \"m\"\nfrom = \"a..b@localhost\"\nto = [\"c@localhost\"]\n",
            "email.from",
        ),
    ];
    for (i, (text, key)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&p, text).unwrap();
        let out = run(&["config", "check", "--config", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = stderr(&out);
        assert!(err.contains(&format!("bad{i}.toml")), "{err}");
        assert!(err.contains(key), "{key} not named in: {err}");
    }
    // what a pass needs besides the file: a profile that compiles, a state
    // folder it can write
    std::fs::write(dir.path().join("broken.toml"), "actors = [\n").unwrap();
    let not_a_folder = dir.path().join("a-file");
    std::fs::write(&not_a_folder, "").unwrap();
    let shipped = std::fs::read_to_string(repo("config/stancewatch.toml")).unwrap();
    let state = dir.path().join("state.db");
    let with_state = |path: &std::path::Path| {
        shipped.replace(
            "path = \"/var/lib/stancewatch/state.db\"",
            &format!("path = \"{}\"", path.display()),
        )
    };
    for (name, text, key) in [
        (
            "profile.toml",
            with_state(&state).replace("[analysis]", "[analysis]\nprofile = \"broken.toml\""),
            "analysis",
        ),
        (
            "state.toml",
            with_state(&not_a_folder.join("s.db")),
            "state.path",
        ),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let out = run(&["config", "check", "--config", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stdout(&out));
        assert!(
            stderr(&out).contains(key),
            "{key} not named in: {}",
            stderr(&out)
        );
    }
    let p = dir.path().join("good.toml");
    std::fs::write(&p, with_state(&state)).unwrap();
    let good = run(&["config", "check", "--config", p.to_str().unwrap()]);
    assert!(good.status.success(), "{}", stderr(&good));
    assert!(stdout(&good).contains("baseline of"), "{}", stdout(&good));
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&["compare"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["check"]);
    assert_eq!(out.status.code(), Some(2));
}
