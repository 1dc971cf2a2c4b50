//! Palisade's squid model held against a real squid (Debian's 5.7, installed
//! by `.ci/run`): `squid -k parse` agrees on which configurations are valid
//! (and on the line of the problem), and a squid running on loopback allows
//! and denies exactly what Palisade's evaluator says, request by request.
//!
//! Everything stays on loopback: squid listens on 127.0.0.1, destinations are
//! loopback servers this test starts, names resolve through a `hosts_file`,
//! and `dns_nameservers` is 127.0.0.1. Squid runs in the foreground as a
//! child the test owns and kills, also on failure. If squid is missing, the
//! test fails: it never skips.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should abort the test"
)]

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use palisade::{Inputs, PolicySet, ProxyConfig, render};
use palisade_tests::{engine, workspace};

fn find_squid() -> Option<PathBuf> {
    ["/usr/sbin/squid", "/usr/bin/squid"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// The squid binary. On a machine without it, the first call installs
/// Debian's package (as `.ci/run` does), so that the README's test command
/// is all a fresh machine needs; set PALISADE_NO_INSTALL to forbid that.
fn squid() -> PathBuf {
    static SQUID: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    SQUID
        .get_or_init(|| {
            if let Some(p) = find_squid() {
                return p;
            }
            assert!(
                std::env::var_os("PALISADE_NO_INSTALL").is_none(),
                "squid is not installed: run `apt-get install -y squid`"
            );
            eprintln!("squid is missing: installing Debian's package (apt-get install -y squid)");
            let ok = Command::new("sh")
                .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq squid"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "squid is not installed and `apt-get install -y squid` failed: install it by hand");
            find_squid().expect("squid installed")
        })
        .clone()
}

fn configs() -> Vec<PathBuf> {
    let dir = workspace().join("tests/squid/configs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Squid's verdict on a configuration: `None` when it accepts it, else the
/// line it complains about.
fn squid_parse(path: &Path) -> Option<Option<u32>> {
    let out = Command::new(squid())
        .args(["-k", "parse", "-f"])
        .arg(path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let marker = format!("{} line ", path.display());
    let line = text.find(&marker).and_then(|i| {
        text[i + marker.len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
    });
    let rejected = !out.status.success() || text.contains("FATAL") || line.is_some();
    rejected.then_some(line)
}

#[test]
fn squid_parse_agrees_with_palisade_on_every_fixture() {
    let files = configs();
    assert!(files.len() >= 6);
    for f in files {
        let palisade = ProxyConfig::from_file(&f).unwrap();
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        let squid = squid_parse(&f);
        match (name.starts_with("ok-"), squid) {
            (true, None) => assert!(
                palisade.errors().is_empty(),
                "{name}: palisade rejects what squid accepts: {:?}",
                palisade.errors()
            ),
            (false, Some(line)) => {
                assert!(
                    !palisade.errors().is_empty(),
                    "{name}: squid rejects it, palisade does not"
                );
                assert_eq!(
                    line,
                    palisade.error_lines().first().copied(),
                    "{name}: both must point at the same line"
                );
            }
            (ok, squid) => panic!(
                "{name}: named {} but squid says {squid:?}",
                if ok { "ok-" } else { "bad-" }
            ),
        }
    }
}

/// A squid child that is killed when dropped.
struct Squid {
    child: Child,
    port: u16,
}

impl Drop for Squid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Loopback HTTP servers answering 200 to anything, for a bounded time.
fn upstream() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            });
        }
    });
    port
}

fn start_squid(dir: &Path, body: &str) -> Squid {
    let port = free_port();
    let conf = format!(
        "http_port 127.0.0.1:{port}\npid_filename {d}/squid.pid\ncache_log {d}/cache.log\naccess_log stdio:{d}/access.log\ncoredump_dir {d}\nhosts_file {d}/hosts\ndns_nameservers 127.0.0.1\nvisible_hostname palisade-test\nshutdown_lifetime 0 seconds\nconnect_timeout 2 seconds\ncache deny all\n{body}",
        d = dir.display()
    );
    std::fs::write(dir.join("squid.conf"), conf).unwrap();
    let child = Command::new(squid())
        .args(["-N", "-f"])
        .arg(dir.join("squid.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let squid = Squid { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "squid did not start: {}",
            std::fs::read_to_string(dir.join("cache.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    squid
}

/// Sends one request through squid; true when squid allowed it (anything
/// but its access-denied answer).
fn ask(squid: &Squid, method: &str, host: &str, port: u16) -> bool {
    let mut s = TcpStream::connect(("127.0.0.1", squid.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = if method == "CONNECT" {
        format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n")
    } else {
        format!(
            "{method} http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
        )
    };
    s.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        if response.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&response);
    assert!(
        head.starts_with("HTTP/1."),
        "no HTTP answer from squid: {head:?}"
    );
    let denied = head.starts_with("HTTP/1.1 403") && head.contains("ERR_ACCESS_DENIED");
    !denied
}

#[test]
fn a_real_squid_allows_and_denies_what_palisade_says() {
    let p1 = upstream();
    let p2 = upstream();
    let p3 = free_port(); // nothing listens: allowed requests fail upstream, not in http_access
    let dir = std::env::temp_dir().join(format!("palisade-squid-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Squid drops to the `proxy` user: its files must be writable by it.
    Command::new("chmod")
        .arg("0777")
        .arg(&dir)
        .status()
        .unwrap();
    std::fs::write(
        dir.join("hosts"),
        "127.0.0.1 allowed.test api.allowed.test blocked.test x.blocked.test shady.example.test\n127.0.0.2 other.test\n",
    )
    .unwrap();
    let hosts = [
        "allowed.test",
        "api.allowed.test",
        "blocked.test",
        "x.blocked.test",
        "shady.example.test",
        "other.test",
        "127.0.0.1",
    ];
    let templates = workspace().join("tests/squid/differential");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&templates)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut compared = 0;
    let (mut allowed, mut denied) = (0, 0);
    let started = Instant::now();
    for file in files {
        for clients in ["127.0.0.1/32", "10.0.0.0/8"] {
            let body = std::fs::read_to_string(&file)
                .unwrap()
                .replace("{P1}", &p1.to_string())
                .replace("{P2}", &p2.to_string())
                .replace("{CLIENTS}", clients);
            let squid = start_squid(&dir, &body);
            let config = ProxyConfig::from_file(dir.join("squid.conf")).unwrap();
            assert!(config.errors().is_empty(), "{:?}", config.errors());
            for method in ["GET", "CONNECT"] {
                for host in hosts {
                    for port in [p1, p2, p3] {
                        let real = ask(&squid, method, host, port);
                        let ours = config.trace(
                            "127.0.0.1".parse::<IpAddr>().unwrap(),
                            method,
                            host,
                            port,
                            Some(squid.port),
                        );
                        assert_eq!(
                            real,
                            ours.allowed,
                            "{} (clients {clients}): {method} {host}:{port}: squid {} it, palisade says {}",
                            file.display(),
                            if real { "allowed" } else { "denied" },
                            ours.reason
                        );
                        compared += 1;
                        if real {
                            allowed += 1;
                        } else {
                            denied += 1;
                        }
                    }
                }
            }
            drop(squid);
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "the differential test is bounded"
            );
        }
    }
    assert_eq!(compared, 3 * 2 * 2 * 7 * 3);
    assert!(
        allowed > 30 && denied > 30,
        "the matrix must exercise both outcomes: {allowed} allowed, {denied} denied"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tree under review: `repo/` holds the squid configuration, and a file
/// beside it lies outside.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn squid_checker() -> palisade::Checker {
    let policy = PolicySet::parse(
        "policy.yaml",
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {name: squid}\nspec:\n  plugins:\n    - builtin: squid\n      settings: {clientCidrs: [10.244.0.0/16]}\n",
    )
    .unwrap();
    engine().checker(&policy, Vec::new()).unwrap()
}

#[test]
fn a_finding_on_a_line_of_an_included_file_points_at_that_file_and_line() {
    let dir = tree(&[
        (
            "repo/squid.conf",
            "http_port 3128\nacl clients src 10.244.0.0/16\ninclude conf.d/debug.conf\nhttp_access allow clients\nhttp_access deny all\n",
        ),
        (
            "repo/conf.d/debug.conf",
            "# opened while debugging\nhttp_access allow all\n",
        ),
    ]);
    let repo = dir.path().join("repo");
    let report = squid_checker().check(&Inputs::new().path(&repo));
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let open: Vec<&palisade::Finding> = report
        .findings
        .iter()
        .filter(|f| f.rule == "SQ001")
        .collect();
    assert!(!open.is_empty(), "{}", render::human(&report));
    let included = format!("{}/conf.d/debug.conf", repo.display());
    for f in open {
        let at = f.location.as_ref().unwrap();
        assert_eq!(
            (at.file.as_str(), at.line, at.column),
            (included.as_str(), 2, 1),
            "{f:?}"
        );
    }
    // The included file is a source of the report: the code frame shows
    // its line.
    assert_eq!(
        report.source(&included),
        Some("# opened while debugging\nhttp_access allow all\n")
    );
    let human = render::human(&report);
    assert!(
        human.contains(&format!(
            "--> {included}:2:1\n  |\n2 | http_access allow all\n"
        )),
        "{human}"
    );
}

#[test]
fn problems_in_included_files_are_diagnosed_at_their_file_and_line() {
    let dir = tree(&[
        (
            "repo/squid.conf",
            "include a.conf\ninclude ../outside.conf\nhttp_access deny all\n",
        ),
        (
            "repo/a.conf",
            "# a\nhttp_access permit all\ninclude squid.conf\n",
        ),
        ("outside.conf", "http_access allow all\n"),
    ]);
    let repo = dir.path().join("repo");
    let report = squid_checker().check(&Inputs::new().path(&repo));
    let r = repo.display();
    let got: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.location.as_ref().unwrap(), d.message))
        .collect();
    assert_eq!(
        got,
        [
            format!(
                "{r}/a.conf:2:1 squid configuration: `http_access permit`: expected allow or deny"
            ),
            format!(
                "{r}/a.conf:3:1 squid configuration: `include squid.conf` makes a cycle: {r}/squid.conf includes {r}/a.conf includes {r}/squid.conf"
            ),
            format!(
                "{r}/squid.conf:2:1 squid configuration: `include ../outside.conf`: the file is outside `{r}`, the directory of the configuration: Palisade reads no file outside it"
            ),
        ]
    );
}

#[test]
fn proxy_config_from_file_reads_nothing_outside_the_configuration_directory() {
    let dir = tree(&[
        ("outside.conf", "acl open src all\nhttp_access allow open\n"),
        ("repo/inside.conf", "http_access deny all\n"),
    ]);
    let repo = dir.path().join("repo");
    let outside = dir.path().join("outside.conf");
    std::os::unix::fs::symlink(&outside, repo.join("link.conf")).unwrap();
    let conf = repo.join("squid.conf");
    std::fs::write(
        &conf,
        format!(
            "include ../outside.conf\ninclude {}\ninclude link.conf\ninclude inside.conf\n",
            outside.display()
        ),
    )
    .unwrap();
    let config = ProxyConfig::from_file(&conf).unwrap();
    assert_eq!(config.error_lines(), [1, 2, 3], "{:?}", config.errors());
    for e in config.errors() {
        assert!(e.contains("Palisade reads no file outside it"), "{e}");
    }
    let v = config.trace("10.0.0.1".parse().unwrap(), "GET", "example.com", 80, None);
    assert!(!v.allowed, "{}", v.reason);
    assert!(
        v.reason.starts_with(&format!(
            "{}/inside.conf:1: `http_access deny all`",
            repo.display()
        )),
        "{}",
        v.reason
    );
}

#[test]
fn a_fifo_is_refused_not_waited_for() {
    let dir = tree(&[(
        "repo/squid.conf",
        "include pipe.conf\nhttp_access deny all\n",
    )]);
    let repo = dir.path().join("repo");
    let made = Command::new("mkfifo")
        .arg(repo.join("pipe.conf"))
        .status()
        .unwrap();
    assert!(made.success());
    let config = ProxyConfig::from_file(repo.join("squid.conf")).unwrap();
    assert_eq!(
        config.errors(),
        [format!(
            "{}/squid.conf:1: `include pipe.conf`: not a regular file: Palisade reads only regular files",
            repo.display()
        )]
    );
    // The configuration itself must be a regular file too.
    let e = ProxyConfig::from_file(repo.join("pipe.conf")).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
}
