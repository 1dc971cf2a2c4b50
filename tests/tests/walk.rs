//! The input walk stays inside the tree the user named and reads only what
//! it should: the attacks a pull request can commit (symlinks out, loops,
//! FIFOs, huge files) each end in a diagnostic, and the rest is checked.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should abort the test"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade::{Inputs, PolicySet, Report};
use palisade_tests::engine;

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";

fn check(inputs: Inputs) -> Report {
    // In a thread with a timeout: the old walk hung on some of these.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let report = engine()
            .checker(&PolicySet::builtin_default(), Vec::new())
            .unwrap()
            .check(&inputs);
        let _ = tx.send(report);
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the check did not finish: the walk hung")
}

fn tree(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-walk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ns.yaml"), NAMESPACE).unwrap();
    dir
}

fn messages(report: &Report) -> Vec<String> {
    report
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect()
}

fn mkfifo(at: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(at)
        .status()
        .unwrap();
    assert!(made.success());
}

fn link(target: impl AsRef<Path>, at: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, at).unwrap();
}

#[test]
fn a_symlink_out_of_the_tree_is_not_read() {
    let dir = tree("escape");
    let secret = std::env::temp_dir().join(format!("palisade-secret-{}.yaml", std::process::id()));
    std::fs::write(
        &secret,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: SECRET-TOKEN-1234}\n",
    )
    .unwrap();
    link(&secret, dir.join("leak.yaml"));
    link("/proc/self/environ", dir.join("environ.yaml"));
    let report = check(Inputs::new().path(&dir));
    let m = messages(&report);
    assert_eq!(m.len(), 2, "{m:#?}");
    assert!(m.iter().all(|m| m.contains("leads outside")), "{m:#?}");
    // Nothing of the targets reached the report.
    assert_eq!(report.summary.objects, 1);
    assert!(!format!("{report:?}").contains("SECRET-TOKEN-1234"));
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&secret).unwrap();
}

#[test]
fn looping_symlinks_end_and_files_are_read_once() {
    let dir = tree("loops");
    link("a.yaml", dir.join("b.yaml"));
    link("b.yaml", dir.join("a.yaml"));
    link(".", dir.join("self"));
    link("..", dir.join("up"));
    std::fs::create_dir(dir.join("sub")).unwrap();
    link("../ns.yaml", dir.join("sub/again.yaml"));
    let report = check(Inputs::new().path(&dir));
    let m = messages(&report);
    // The two links that point at each other cannot be followed; `self`
    // and `sub/again.yaml` reach what was read already; `up` leaves.
    assert_eq!(m.len(), 3, "{m:#?}");
    assert!(m[0].contains("a.yaml") && m[0].contains("loop"), "{m:#?}");
    assert!(m[1].contains("b.yaml") && m[1].contains("loop"), "{m:#?}");
    assert!(m[2].contains("`up`") || m[2].contains("/up"), "{m:#?}");
    assert_eq!(report.summary.objects, 1, "the namespace, once");
    assert_eq!(report.summary.files, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fifos_devices_and_oversized_files_are_diagnosed_not_read() {
    let dir = tree("special");
    let fifo = dir.join("pipe.yaml");
    mkfifo(&fifo);
    link("/dev/zero", dir.join("zero.yaml"));
    std::fs::write(
        dir.join("big.yaml"),
        format!("# {}\n{NAMESPACE}", "x".repeat(4096)),
    )
    .unwrap();
    let report = check(Inputs::new().path(&dir).max_file_bytes(1024));
    let m = messages(&report);
    assert_eq!(m.len(), 3, "{m:#?}");
    assert!(
        m[0].contains("big.yaml") && m[0].contains("size cap of 1024"),
        "{m:#?}"
    );
    assert!(
        m[1].contains("pipe.yaml") && m[1].contains("not a regular file"),
        "{m:#?}"
    );
    assert!(m[2].contains("zero.yaml"), "{m:#?}");
    assert_eq!(report.summary.objects, 1);
    // Named explicitly, a device is refused the same way.
    let report = check(Inputs::new().path("/dev/zero"));
    assert!(
        messages(&report)[0].contains("not a regular file"),
        "{report:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_input_with_no_objects_is_an_error() {
    let dir = tree("empty");
    std::fs::remove_file(dir.join("ns.yaml")).unwrap();
    std::fs::write(dir.join("README.md"), "# not a manifest\n").unwrap();
    let report = check(Inputs::new().path(&dir).text("<stdin>", ""));
    let m = messages(&report);
    assert_eq!(m.len(), 2, "{m:#?}");
    assert!(m[0].starts_with("no objects found in `"), "{m:#?}");
    assert!(m[1].starts_with("no objects found in `<stdin>`"), "{m:#?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn duplicate_objects_are_diagnosed_at_both_places() {
    let report = check(
        Inputs::new()
            .text("a.yaml", NAMESPACE)
            .text("b.yaml", format!("# again\n{NAMESPACE}").as_str()),
    );
    let d = &report.diagnostics;
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message.contains("duplicate object `Namespace shop`"),
        "{d:#?}"
    );
    assert!(d[0].message.contains("also defined at a.yaml:3:"), "{d:#?}");
    assert_eq!(d[0].location.as_ref().unwrap().to_string(), "b.yaml:4:12");
    // The same file named twice is read once, not a duplicate.
    let dir = tree("twice");
    let report = check(Inputs::new().path(&dir).path(dir.join("ns.yaml")));
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bytes_that_are_not_utf8_are_located() {
    let mut bytes = NAMESPACE.as_bytes().to_vec();
    bytes.extend_from_slice(b"---\nkind: \xff\xfe\n");
    let report = check(Inputs::new().bytes("<stdin>", bytes));
    let d = &report.diagnostics;
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].message.contains("not UTF-8"), "{d:#?}");
    assert_eq!(d[0].location.as_ref().unwrap().to_string(), "<stdin>:5:7");
}

#[test]
fn control_characters_in_names_are_refused() {
    let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: \"shop\\e[2J\\r\\nerror\"}\n";
    let report = check(Inputs::new().text("n.yaml", text));
    let d = &report.diagnostics;
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].message.contains("control character U+001B"), "{d:#?}");
    assert_eq!(d[0].location.as_ref().unwrap().to_string(), "n.yaml:3:12");
    assert_eq!(report.summary.objects, 0);
}

#[test]
fn configuration_files_are_regular_files_only() {
    // A policy, exemptions file or suite a pull request names could be a
    // FIFO or a device: an error, not a hang or an endless read.
    let dir = tree("config");
    let fifo = dir.join("policy.yaml");
    mkfifo(&fifo);
    let (tx, rx) = std::sync::mpsc::channel();
    let f = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send((
            PolicySet::from_file(&f).map(|_| ()),
            PolicySet::from_file("/dev/zero").map(|_| ()),
            palisade::Exemptions::from_file("/dev/zero").map(|_| ()),
        ));
    });
    let (fifo_policy, zero_policy, zero_exemptions) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("reading a FIFO or /dev/zero hung");
    for e in [fifo_policy, zero_policy, zero_exemptions] {
        let e = e.expect_err("not a regular file");
        assert!(e.message().contains("not a regular file"), "{e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn excluded_entries_are_not_read() {
    let dir = tree("exclude");
    for (path, text) in [
        (
            "examples/fqdn.json",
            "[{\"toFQDNs\": [{\"matchName\": \"x\"}]}]",
        ),
        ("examples/deep/rule.yaml", "not: [a manifest"),
        (
            "overlay/web.patch.yaml",
            "kind: Service\nmetadata: {name: web}\n",
        ),
        (
            "app/examples/ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: kept}\n",
        ),
    ] {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
    }
    let objects = |report: &Report| report.summary.objects;
    // Without exclusions the raw rule array and the broken file are errors.
    let all = check(Inputs::new().path(&dir));
    assert_eq!(all.diagnostics.len(), 3, "{:#?}", all.diagnostics);
    // `examples/**` is relative to the directory named: `app/examples`
    // stays; a name pattern matches anywhere.
    let some = check(
        Inputs::new()
            .exclude("examples/**")
            .unwrap()
            .exclude("*.patch.yaml")
            .unwrap()
            .path(&dir),
    );
    assert!(some.diagnostics.is_empty(), "{:#?}", some.diagnostics);
    assert_eq!(objects(&some), 2);
    // A directory's name excludes all below it.
    let by_name = check(
        Inputs::new()
            .exclude("examples")
            .unwrap()
            .exclude("*.patch.yaml")
            .unwrap()
            .path(&dir),
    );
    assert_eq!(objects(&by_name), 1);
    assert!(Inputs::new().exclude("[unclosed").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_exclusion_cannot_hide_what_a_kustomization_deploys() {
    let dir = tree("exclude-kustomize");
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    std::fs::create_dir_all(dir.join("deploy")).unwrap();
    std::fs::write(
        dir.join("examples/evil.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: evil}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("deploy/kustomization.yaml"),
        "resources:\n  - ../examples/evil.yaml\n",
    )
    .unwrap();
    let report = check(Inputs::new().exclude("examples/**").unwrap().path(&dir));
    assert_eq!(report.diagnostics.len(), 1, "{:#?}", report.diagnostics);
    let d = &report.diagnostics[0];
    assert!(d.message.contains("left out by --exclude"), "{}", d.message);
    let at = d.location.as_ref().unwrap();
    assert!(at.file.ends_with("deploy/kustomization.yaml"), "{at}");
    assert_eq!(at.line, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Access logs are streamed, not loaded, but walked by the same rules: one
/// linked out of the tree is not read (nothing of its target reaches the
/// report), a FIFO named like one is diagnosed rather than waited on, and
/// a log of the tree itself is read.
#[test]
fn access_logs_are_walked_by_the_same_rules() {
    let dir = tree("logs");
    let outside = std::env::temp_dir().join(format!("palisade-outside-{}.log", std::process::id()));
    std::fs::write(
        &outside,
        "1796032801.1 5 10.0.0.9 TCP_TUNNEL/200 1 CONNECT SECRET-HOST-1234.example:443 - HIER_DIRECT/192.0.2.1 -\n",
    )
    .unwrap();
    link(&outside, dir.join("access.log"));
    mkfifo(&dir.join("proxy.access.log"));
    std::fs::write(
        dir.join("access.log.1"),
        "1796032801.1 5 10.0.0.5 TCP_DENIED/403 1 CONNECT a.example:443 - HIER_NONE/- -\n",
    )
    .unwrap();
    let report = check(Inputs::new().path(&dir));
    let m = messages(&report);
    assert!(m.iter().any(|m| m.contains("leads outside")), "{m:#?}");
    assert!(m.iter().any(|m| m.contains("not a regular file")), "{m:#?}");
    assert!(!format!("{report:?}").contains("SECRET-HOST-1234"));
    // The log inside the tree was read: its denied call is reported.
    assert!(
        report.findings.iter().any(|f| f.rule == "SQ016"),
        "{:#?}",
        report.findings
    );
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&outside).unwrap();
}
