//! The side-by-side benchmark script (tests/bench/compare.py) still runs
//! against this binary, and the cluster generator it measures on is
//! deterministic. Needs `python3` on PATH (CI has it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The workspace root, where the script and generator live.
fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Runs `python3 ARGS` in the workspace root; a missing interpreter fails
/// the test with the reason instead of skipping it.
fn python3(args: &[&str]) -> Output {
    match Command::new("python3")
        .args(args)
        .current_dir(root())
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!(
            "cannot run `python3 {}` ({e}): these tests need python3 on PATH",
            args.join(" ")
        ),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn compare_smoke_runs_and_prints_the_table() {
    let out = python3(&[
        "tests/bench/compare.py",
        "--smoke",
        "--palisade",
        env!("CARGO_BIN_EXE_palisade"),
    ]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "compare.py --smoke failed ({}):\n{stdout}\n{}",
        out.status,
        text(&out.stderr)
    );
    assert!(
        stdout.contains("| corpus | tool | runs | median s | peak MiB |"),
        "no table header:\n{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.contains("| palisade check |"))
        .unwrap_or_else(|| panic!("no `palisade check` row:\n{stdout}"));
    // The script checked that every generated object was read; the row says
    // how many, with the plugins run and the findings.
    assert!(
        row.contains(" objects, ") && row.contains(" plugins, "),
        "{row}"
    );
}

#[test]
fn the_generator_is_deterministic() {
    let generate = |seed: &str| {
        let out = python3(&["tests/bench/gen-cluster.py", "300", "--seed", seed]);
        assert!(
            out.status.success(),
            "gen-cluster.py 300 --seed {seed} failed ({}):\n{}",
            out.status,
            text(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "gen-cluster.py wrote nothing");
        out.stdout
    };
    let first = generate("3");
    assert!(
        first == generate("3"),
        "the same size and seed must give the same bytes"
    );
    assert!(
        first != generate("4"),
        "another seed must give another cluster"
    );
}
