//! Throughput of the pure stages on the bundled fixture articles:
//! extract (HTML → text), analyse + compare (text → shifts), and render
//! (shifts → alert email). Reported in bytes of input per second.

use std::hint::black_box;
use std::path::Path;

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use stancewatch::article::Article;
use stancewatch::compare;
use stancewatch::engine::Engine;
use stancewatch::extract;
use stancewatch::notify::render::{self, Alert, Source};

fn fixtures() -> (Vec<String>, Vec<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dev");
    let mut texts = Vec::new();
    let mut pages = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names {
        let s = std::fs::read_to_string(&p).unwrap();
        match p.extension().and_then(|e| e.to_str()) {
            Some("txt") => texts.push(s),
            Some("html") => pages.push(s),
            _ => {}
        }
    }
    (texts, pages)
}

fn bench(c: &mut Criterion) {
    let engine = Engine::builtin();
    let (texts, pages) = fixtures();
    let articles: Vec<Article> = texts.iter().map(|t| Article::from_text(t)).collect();

    // one large body: every text article, ten times over (about 0.6 MB)
    let mut big = String::new();
    for _ in 0..10 {
        for a in &articles {
            big.push_str(&a.body);
            big.push('\n');
        }
    }
    let large = Article {
        title: "Ukraine security guarantees".into(),
        body: big,
    };

    let mut g = c.benchmark_group("analyse_compare");
    let bytes: usize = articles.iter().map(|a| a.body.len() + a.title.len()).sum();
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("dev_articles", |b| {
        b.iter(|| {
            for a in &articles {
                let an = engine.analyze(black_box(a));
                black_box(compare::compare(
                    &engine.baseline,
                    &an.claims,
                    0.5,
                    &|a, t, s| engine.stance_words(a, t, s),
                ));
            }
        })
    });
    g.throughput(Throughput::Bytes(large.body.len() as u64));
    g.sample_size(10);
    g.bench_function("one_large_text", |b| {
        b.iter(|| {
            let an = engine.analyze(black_box(&large));
            black_box(compare::compare(
                &engine.baseline,
                &an.claims,
                0.5,
                &|a, t, s| engine.stance_words(a, t, s),
            ));
        })
    });
    g.finish();

    let mut g = c.benchmark_group("extract");
    let bytes: usize = pages.iter().map(String::len).sum();
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("dev_pages", |b| {
        b.iter(|| {
            for p in &pages {
                black_box(extract::extract(black_box(p)));
            }
        })
    });
    g.finish();

    // render: the shifts of the dev set, one alert per article
    let alerts: Vec<(Source, Vec<compare::Shift>)> = articles
        .iter()
        .map(|a| {
            let an = engine.analyze(a);
            (
                Source {
                    title: a.title.clone(),
                    outlet: "Bench".into(),
                    link: Some("https://example.com/a".into()),
                    published: None,
                },
                compare::compare(&engine.baseline, &an.claims, 0.5, &|a, t, s| {
                    engine.stance_words(a, t, s)
                }),
            )
        })
        .filter(|(_, s)| !s.is_empty())
        .collect();
    let mut g = c.benchmark_group("render");
    let bytes: usize = alerts
        .iter()
        .flat_map(|(_, s)| s.iter())
        .map(|s| s.sentence.len() + s.baseline_sentence.len())
        .sum();
    g.throughput(Throughput::Bytes(bytes as u64));
    let to = vec!["analyst@localhost".to_string()];
    g.bench_function("dev_alerts", |b| {
        b.iter(|| {
            for (src, shifts) in &alerts {
                black_box(
                    render::render(
                        &Alert {
                            source: src,
                            shifts,
                            changes_before: 0,
                            matrix: None,
                            corroborating: &[],
                        },
                        "sw@localhost",
                        &to,
                        Utc::now(),
                    )
                    .unwrap(),
                );
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
