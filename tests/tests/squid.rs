//! Palisade's squid model held against real squids (Debian bookworm's 5.7
//! and Debian trixie's 6.13, both set up by `.ci/run`): `squid -k parse` agrees on which configurations are valid
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

use palisade::{Inputs, PolicySet, ProxyConfig, SquidOptions, render};
use palisade_tests::{engine, workspace};

/// A real squid Palisade is held against.
struct Real {
    /// The release Palisade is told to follow for it.
    version: &'static str,
    /// The command that runs it (arguments follow).
    program: PathBuf,
}

impl Real {
    fn options(&self) -> SquidOptions {
        SquidOptions {
            version: self.version.parse().unwrap(),
            ..SquidOptions::default()
        }
    }

    fn command(&self) -> Command {
        Command::new(&self.program)
    }
}

/// Debian bookworm's squid 5.7 and Debian trixie's squid 6.13.
fn reals() -> [Real; 2] {
    [
        Real {
            version: "5.7",
            program: bookworm_squid(),
        },
        Real {
            version: "6.13",
            program: trixie_squid(),
        },
    ]
}

fn find_squid() -> Option<PathBuf> {
    ["/usr/sbin/squid", "/usr/bin/squid"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn may_install(what: &str, how: &str) {
    assert!(
        std::env::var_os("PALISADE_NO_INSTALL").is_none(),
        "{what} is not installed: run `{how}`"
    );
    eprintln!("{what} is missing: installing it ({how})");
    let ok = Command::new("sh")
        .args(["-c", how])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{what} is not installed and `{how}` failed: install it by hand"
    );
}

/// The bookworm squid. On a machine without it, the first call installs
/// Debian's package (as `.ci/run` does), so that the README's test command
/// is all a fresh machine needs; set PALISADE_NO_INSTALL to forbid that.
fn bookworm_squid() -> PathBuf {
    static SQUID: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    SQUID
        .get_or_init(|| {
            if let Some(p) = find_squid() {
                return p;
            }
            may_install(
                "squid",
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq squid",
            );
            find_squid().expect("squid installed")
        })
        .clone()
}

/// Where `.ci/squid-trixie` puts trixie's squid (PALISADE_SQUID_TRIXIE
/// overrides it); made on first use when missing, as for bookworm's.
fn trixie_squid() -> PathBuf {
    static SQUID: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    SQUID
        .get_or_init(|| {
            let root = std::env::var_os("PALISADE_SQUID_TRIXIE")
                .map_or_else(|| PathBuf::from("/opt/squid-trixie"), PathBuf::from);
            let launcher = root.join("run-squid");
            if !launcher.exists() {
                let script = workspace().join(".ci/squid-trixie");
                may_install(
                    "trixie's squid 6.13",
                    &format!("bash {} {}", script.display(), root.display()),
                );
            }
            launcher
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

/// A private directory under /tmp (trixie's squid runs chrooted and sees
/// the host's /tmp), writable by squid's `proxy` user.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "palisade-squid-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Command::new("chmod")
        .arg("0777")
        .arg(&dir)
        .status()
        .unwrap();
    dir
}

/// Squid's verdict on a configuration: `None` when it accepts it, else the
/// line it complains about.
fn squid_parse(real: &Real, path: &Path) -> Option<Option<u32>> {
    let out = real
        .command()
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
    // Squid 5.7 reports some problems with their line and still exits 0
    // (`http_access permit …`, a bad regex: it skips them); a complaint at
    // a line is a rejection too.
    let rejected = !out.status.success() || text.contains("FATAL") || line.is_some();
    rejected.then_some(line)
}

/// What a fixture expects of a version: `ok-`/`bad-` by name, or a first
/// line `# expect: 5.7=bad 6.13=ok`.
fn expects_ok(path: &Path, text: &str, version: &str) -> bool {
    if let Some(spec) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# expect:"))
    {
        for part in spec.split_whitespace() {
            let (v, what) = part.split_once('=').unwrap();
            if v == version {
                return what == "ok";
            }
        }
        panic!("{}: no expectation for {version}", path.display());
    }
    path.file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("ok-")
}

/// Palisade and squid agree that `path` is valid, or on the line that is
/// not.
fn assert_same_parse(real: &Real, path: &Path, expect_ok: bool) {
    let palisade = ProxyConfig::from_file_with(path, &real.options()).unwrap();
    let name = path.display();
    let version = real.version;
    match (expect_ok, squid_parse(real, path)) {
        (true, None) => assert!(
            palisade.errors().is_empty(),
            "{name}: palisade at {version} rejects what squid {version} accepts: {:?}",
            palisade.errors()
        ),
        (false, Some(line)) => {
            assert!(
                !palisade.errors().is_empty(),
                "{name}: squid {version} rejects it, palisade at {version} does not"
            );
            // Squid names no line for some fatal errors (an `include`
            // pattern matching nothing); when it names one, it is ours.
            if line.is_some() {
                assert_eq!(
                    line,
                    palisade.error_lines().first().copied(),
                    "{name} ({version}): both must point at the same line: {:?}",
                    palisade.errors()
                );
            }
        }
        (ok, squid) => panic!(
            "{name}: expected {} at {version}, but squid says {squid:?}",
            if ok { "valid" } else { "invalid" }
        ),
    }
}

#[test]
fn squid_parse_agrees_with_palisade_on_every_fixture_at_both_versions() {
    let files = configs();
    assert!(files.len() >= 10);
    let dir = scratch("parse");
    for real in reals() {
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            // Trixie's squid sees /tmp only.
            let copy = dir.join(f.file_name().unwrap());
            std::fs::write(&copy, &text).unwrap();
            assert_same_parse(&real, &copy, expects_ok(f, &text, real.version));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
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
        for stream in listener.incoming().take(2000) {
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

/// The directives every test squid gets before the configuration under
/// test: loopback only, files in `dir`, no cache, quick to stop.
fn harness_lines(dir: &Path, port: u16) -> String {
    format!(
        "http_port 127.0.0.1:{port}\npid_filename {d}/squid.pid\ncache_log {d}/cache.log\naccess_log stdio:{d}/access.log\ncoredump_dir {d}\ndns_nameservers 127.0.0.1\nvisible_hostname palisade-test\nshutdown_lifetime 0 seconds\nconnect_timeout 2 seconds\ncache deny all\n",
        d = dir.display()
    )
}

/// Starts `real` on `dir/squid.conf`, already written with
/// [`harness_lines`] for `port`.
fn start_squid(real: &Real, dir: &Path, port: u16) -> Squid {
    let child = real
        .command()
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
            "squid {} did not start: {}",
            real.version,
            std::fs::read_to_string(dir.join("cache.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    squid
}

/// One request of the matrix.
#[derive(Debug, Clone)]
enum Request {
    Connect(String, u16),
    Get(String),
}

/// Sends one request through squid from 127.0.0.1; true when squid allowed
/// it (anything but its access-denied answer).
fn ask(squid: &Squid, request: &Request) -> bool {
    ask_from(squid, "127.0.0.1", request)
}

/// Palisade's verdict on the request squid got from 127.0.0.1.
fn ours(config: &ProxyConfig, squid: &Squid, request: &Request) -> palisade::ProxyVerdict {
    let client = "127.0.0.1".parse::<IpAddr>().unwrap();
    match request {
        Request::Connect(host, port) => {
            config.trace(client, "CONNECT", host, *port, Some(squid.port))
        }
        Request::Get(url) => config
            .trace_url(client, "GET", url, Some(squid.port))
            .unwrap(),
    }
}

/// Asks squid and Palisade every request; a verdict that depends on DNS
/// must list squid's answer among its outcomes. Returns (allowed, denied).
fn compare(
    real: &Real,
    label: &str,
    squid: &Squid,
    config: &ProxyConfig,
    requests: &[Request],
) -> (usize, usize) {
    let (mut allowed, mut denied) = (0, 0);
    for request in requests {
        let real_answer = ask(squid, request);
        let v = ours(config, squid, request);
        if v.depends_on_dns {
            assert!(
                v.outcomes.iter().any(|o| o.allowed == real_answer),
                "{label} (squid {}): {request:?}: squid {} it, which none of palisade's outcomes says: {}",
                real.version,
                if real_answer { "allowed" } else { "denied" },
                v.reason
            );
        } else {
            assert_eq!(
                real_answer,
                v.allowed,
                "{label} (squid {}): {request:?}: squid {} it, palisade says {}",
                real.version,
                if real_answer { "allowed" } else { "denied" },
                v.reason
            );
        }
        if real_answer {
            allowed += 1;
        } else {
            denied += 1;
        }
    }
    (allowed, denied)
}

#[test]
fn real_squids_allow_and_deny_what_palisade_says() {
    let p1 = upstream();
    let p2 = upstream();
    let p3 = free_port(); // nothing listens: allowed requests fail upstream, not in http_access
    let templates = workspace().join("tests/squid/differential");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&templates)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 6);
    let hosts = [
        "allowed.test",
        "api.allowed.test",
        "blocked.test",
        "x.blocked.test",
        "shady.example.test",
        "other.test",
        "loop.test",
        "localhost",
        "127.0.0.1",
        "[::ffff:127.0.0.1]",
        // 127.0.0.1 as inet_aton reads it: squid's `to_localhost` catches
        // these, and so must Palisade.
        "127.1",
        "2130706433",
        "0x7f.0.0.2",
    ];
    let started = Instant::now();
    for real in reals() {
        let dir = scratch(&format!("diff-{}", real.version));
        // Names for squid and Palisade alike: `loop.test` is loopback under
        // another name, so `to_localhost` must catch it.
        std::fs::write(
            dir.join("hosts"),
            "127.0.0.1 localhost allowed.test api.allowed.test blocked.test x.blocked.test shady.example.test loop.test\n127.0.0.2 other.test\n",
        )
        .unwrap();
        let (mut allowed, mut denied) = (0, 0);
        for file in &files {
            for clients in ["127.0.0.1/32", "10.0.0.0/8"] {
                let port = free_port();
                let body = std::fs::read_to_string(file)
                    .unwrap()
                    .replace("{P1}", &p1.to_string())
                    .replace("{P2}", &p2.to_string())
                    .replace("{CLIENTS}", clients);
                let conf = format!(
                    "{}hosts_file {}/hosts\n{body}",
                    harness_lines(&dir, port),
                    dir.display()
                );
                std::fs::write(dir.join("squid.conf"), conf).unwrap();
                let config =
                    ProxyConfig::from_file_with(dir.join("squid.conf"), &real.options()).unwrap();
                assert!(config.errors().is_empty(), "{:?}", config.errors());
                let squid = start_squid(&real, &dir, port);
                let mut requests = Vec::new();
                for host in hosts {
                    for p in [p1, p2, p3] {
                        requests.push(Request::Connect(host.to_string(), p));
                        for path in ["/", "/api/v1"] {
                            requests.push(Request::Get(format!("http://{host}:{p}{path}")));
                        }
                    }
                }
                // A URL the `manager` ACL matches, sent to an upstream: a
                // manager URL at squid's own port is answered (or forwarded
                // to itself) depending on its host name, which is not what
                // is compared here.
                requests.push(Request::Get(format!(
                    "http://127.0.0.1:{p1}/squid-internal-mgr/menu"
                )));
                let label = format!("{} (clients {clients})", file.display());
                let (a, d) = compare(&real, &label, &squid, &config, &requests);
                allowed += a;
                denied += d;
                drop(squid);
                assert!(
                    started.elapsed() < Duration::from_secs(600),
                    "the differential test is bounded"
                );
            }
        }
        assert!(
            allowed > 100 && denied > 100,
            "squid {}: the matrix must exercise both outcomes: {allowed} allowed, {denied} denied",
            real.version
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The squid.conf (and conf.d) a Debian package installs, copied under
/// /tmp with its `include` pointed at the copy, so that trixie's chrooted
/// squid and Palisade read the same files.
fn shipped_config(real: &Real, dir: &Path) -> String {
    let etc = match real.version {
        "5.7" => PathBuf::from("/etc/squid"),
        _ => real.program.parent().unwrap().join("etc/squid"),
    };
    let text = std::fs::read_to_string(etc.join("squid.conf")).unwrap();
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    for e in std::fs::read_dir(etc.join("conf.d")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("conf.d").join(e.file_name())).unwrap();
    }
    let include = "include /etc/squid/conf.d/*.conf";
    assert!(text.contains(include), "the shipped config includes conf.d");
    text.replace(include, &format!("include {}/conf.d/*.conf", dir.display()))
}

#[test]
fn the_configs_debian_ships_load_and_answer_as_their_squid_does() {
    let p1 = upstream();
    for real in reals() {
        let dir = scratch(&format!("shipped-{}", real.version));
        let shipped = shipped_config(&real, &dir);
        // As shipped: valid for its own squid and for Palisade at its
        // version.
        std::fs::write(dir.join("squid.conf"), &shipped).unwrap();
        assert_same_parse(&real, &dir.join("squid.conf"), true);
        // Run on loopback: the shipped `http_port 3128` gives way to the
        // harness's port.
        let port = free_port();
        let body = shipped.replace("\nhttp_port 3128\n", "\n");
        std::fs::write(
            dir.join("squid.conf"),
            format!("{}{body}", harness_lines(&dir, port)),
        )
        .unwrap();
        let config = ProxyConfig::from_file_with(dir.join("squid.conf"), &real.options()).unwrap();
        assert!(config.errors().is_empty(), "{:?}", config.errors());
        let squid = start_squid(&real, &dir, port);
        let mut requests = vec![
            Request::Get(format!("http://127.0.0.1:{p1}/squid-internal-mgr/menu")),
            Request::Get(format!("http://localhost:{p1}/squid-internal-mgr/info")),
            Request::Get(format!("http://localhost:{p1}/")),
            Request::Get(format!("http://127.0.0.1:{p1}/x")),
            Request::Get("http://169.254.169.254/latest/meta-data/".into()),
        ];
        for port in [22, 25, 70, 443, 563, 8443, p1] {
            requests.push(Request::Connect("127.0.0.1".into(), port));
            requests.push(Request::Connect("localhost".into(), port));
            requests.push(Request::Get(format!("http://127.0.0.2:{port}/")));
        }
        let (allowed, denied) = compare(&real, "shipped", &squid, &config, &requests);
        assert!(
            allowed > 3 && denied > 3,
            "{allowed} allowed, {denied} denied"
        );
        drop(squid);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_suggested_default_of_squid_6_needs_squid_5_8_or_later() {
    // Trixie's config is squid 6's suggested default (with `http_access
    // deny to_linklocal`): 6.13 takes it, 5.7 stops at that line, and
    // Palisade does the same at each version.
    let trixie = Real {
        version: "6.13",
        program: trixie_squid(),
    };
    let dir = scratch("suggested");
    let text = shipped_config(&trixie, &dir);
    let conf = dir.join("squid.conf");
    std::fs::write(&conf, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("http_access deny to_linklocal"))
        .unwrap()
        + 1;
    for real in reals() {
        assert_same_parse(&real, &conf, real.version != "5.7");
        let palisade = ProxyConfig::from_file_with(&conf, &real.options()).unwrap();
        if real.version == "5.7" {
            assert_eq!(palisade.error_lines(), [u32::try_from(line).unwrap()]);
            assert!(palisade.errors()[0].ends_with("uses undefined acl `to_linklocal`"));
        }
    }
    // Squid 7 keeps it valid.
    let seven = SquidOptions {
        version: "7".parse().unwrap(),
        ..SquidOptions::default()
    };
    let palisade = ProxyConfig::from_file_with(&conf, &seven).unwrap();
    assert!(palisade.errors().is_empty(), "{:?}", palisade.errors());
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
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {name: squid}\nspec:\n  roles: {proxy: {clientCidrs: [10.244.0.0/16]}}\n  plugins:\n    - builtin: squid\n",
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

/// Sends one request from `client` (a loopback address of its own, so the
/// log has several clients); true when squid allowed it.
fn ask_from(squid: &Squid, client: &str, request: &Request) -> bool {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let from: std::net::SocketAddr = format!("{client}:0").parse().unwrap();
    socket.bind(&from.into()).unwrap();
    let to: std::net::SocketAddr = format!("127.0.0.1:{}", squid.port).parse().unwrap();
    socket.connect(&to.into()).unwrap();
    let mut s: TcpStream = socket.into();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let text = match request {
        Request::Connect(host, port) => {
            format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n")
        }
        Request::Get(url) => {
            let host = url.split('/').nth(2).unwrap();
            format!("GET {url} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
        }
    };
    s.write_all(text.as_bytes()).unwrap();
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
        "no HTTP answer from squid to {request:?}: {head:?}"
    );
    !(head.starts_with("HTTP/1.1 403") && head.contains("ERR_ACCESS_DENIED"))
}

/// Stops squid as an operator would (SIGTERM), which flushes its logs.
fn stop(mut squid: Squid, version: &str) {
    let pid = squid.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while squid.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "squid {version} did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The access log a real squid writes for a known set of requests, in its
/// native format, in `common`, and in a `logformat` the configuration
/// defines, is read back request by request: client, method, destination
/// and verdict.
#[test]
fn a_real_squid_s_access_logs_are_read_back_request_by_request() {
    use palisade_core::proxylog::{self, LogFormat, LogKind, Observed, Verdict};
    let up = upstream();
    let requests: Vec<(&str, Request, bool)> = vec![
        (
            "127.0.0.2",
            Request::Connect("api.allowed.test".into(), 443),
            true,
        ),
        (
            "127.0.0.3",
            Request::Connect("evil.test".into(), 443),
            false,
        ),
        (
            "127.0.0.4",
            Request::Get(format!("http://127.0.0.1:{up}/ok")),
            true,
        ),
        ("127.0.0.2", Request::Connect("10.9.9.9".into(), 22), false),
        (
            "127.0.0.3",
            Request::Get(format!("http://127.0.0.1:{up}/again")),
            true,
        ),
        (
            "127.0.0.2",
            Request::Connect("api.allowed.test".into(), 443),
            true,
        ),
    ];
    for real in reals() {
        let dir = scratch(&format!("log-{}", real.version));
        let port = free_port();
        let custom = "%>a %rm %ru %Ss/%03>Hs %<st";
        // Names resolve through a hosts file, so `dst` ACLs do not wait on
        // DNS.
        std::fs::write(
            dir.join("hosts"),
            "127.0.0.1 api.allowed.test\n127.0.0.5 evil.test\n",
        )
        .unwrap();
        let config = format!(
            "{}hosts_file {d}/hosts\nlogformat mine {custom}\naccess_log stdio:{d}/common.log common\naccess_log stdio:{d}/mine.log mine\nacl clients src 127.0.0.0/8\nacl allowed dstdomain .allowed.test\nacl up dst 127.0.0.1/32\nacl SSL_ports port 443\nhttp_access deny CONNECT !SSL_ports\nhttp_access allow clients allowed\nhttp_access allow clients up\nhttp_access deny all\n",
            harness_lines(&dir, port),
            d = dir.display()
        );
        std::fs::write(dir.join("squid.conf"), config).unwrap();
        let squid = start_squid(&real, &dir, port);
        for (client, request, allowed) in &requests {
            assert_eq!(
                ask_from(&squid, client, request),
                *allowed,
                "squid {}: {client} {request:?}",
                real.version
            );
        }
        // Stopping squid (SIGTERM, as an operator would) flushes its logs.
        stop(squid, real.version);
        let formats = [
            ("access.log", None),
            ("common.log", LogFormat::builtin("common")),
            (
                "mine.log",
                Some(LogFormat::compile("mine", custom).unwrap()),
            ),
        ];
        for (file, format) in formats {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let mut observed = Observed::default();
            let kind = format.map(LogKind::Format);
            let problems =
                proxylog::read(text.as_bytes(), kind.as_ref(), 0, &mut observed, |_| {}).unwrap();
            assert!(
                problems.is_empty(),
                "squid {} {file}: {problems:?}\n{text}",
                real.version
            );
            // Every request, and the harness's probe that squid is up (a
            // connection closed before any request: an error).
            assert_eq!(
                observed.requests,
                requests.len() as u64 + 1,
                "{file}:\n{text}"
            );
            let mut seen: Vec<(String, String, String, u16, Verdict, u64)> = observed
                .entries
                .iter()
                .map(|e| {
                    (
                        e.client.unwrap().to_string(),
                        e.method.clone(),
                        e.host.clone(),
                        e.port,
                        e.verdict,
                        e.count,
                    )
                })
                .collect();
            seen.sort();
            let mut expected: Vec<(String, String, String, u16, Verdict, u64)> = vec![
                (
                    "127.0.0.1".into(),
                    "-".into(),
                    String::new(),
                    0,
                    Verdict::Error,
                    1,
                ),
                (
                    "127.0.0.2".into(),
                    "CONNECT".into(),
                    "10.9.9.9".into(),
                    22,
                    Verdict::Denied,
                    1,
                ),
                (
                    "127.0.0.2".into(),
                    "CONNECT".into(),
                    "api.allowed.test".into(),
                    443,
                    Verdict::Allowed,
                    2,
                ),
                (
                    "127.0.0.3".into(),
                    "CONNECT".into(),
                    "evil.test".into(),
                    443,
                    Verdict::Denied,
                    1,
                ),
                (
                    "127.0.0.3".into(),
                    "GET".into(),
                    "127.0.0.1".into(),
                    up,
                    Verdict::Allowed,
                    1,
                ),
                (
                    "127.0.0.4".into(),
                    "GET".into(),
                    "127.0.0.1".into(),
                    up,
                    Verdict::Allowed,
                    1,
                ),
            ];
            expected.sort();
            assert_eq!(seen, expected, "squid {} {file}:\n{text}", real.version);
        }
        // The audit places each client: a pod list names two of them, a
        // namespace pool the third, and the harness's probe (127.0.0.1) is
        // in the proxy's client range.
        std::fs::write(
            dir.join("pods.yaml"),
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: web-1, namespace: shop, labels: {app: web}}, spec: {containers: [{name: c, image: i}]}, status: {podIP: 127.0.0.2}}\n- {apiVersion: v1, kind: Pod, metadata: {name: batch-1, namespace: jobs, labels: {app: batch}}, spec: {containers: [{name: c, image: i}]}, status: {podIP: 127.0.0.3}}\n",
        )
        .unwrap();
        let policy = PolicySet::parse(
            "policy.yaml",
            "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nspec:\n  roles:\n    proxy: {clientCidrs: [127.0.0.0/30]}\n    namespaceCidrs: {reports: [127.0.0.4/32]}\n  plugins:\n    - builtin: squid\n",
        )
        .unwrap();
        let audit = engine().checker(&policy, Vec::new()).unwrap().audit(
            &Inputs::new()
                .access_log(dir.join("access.log"))
                .path(dir.join("pods.yaml")),
        );
        assert!(
            audit.report.diagnostics.is_empty(),
            "{:?}",
            audit.report.diagnostics
        );
        let placed: Vec<(String, Vec<String>, u64)> = audit
            .clients
            .iter()
            .map(|c| {
                (
                    c.client.to_string(),
                    c.addresses.clone(),
                    c.calls.iter().map(|x| x.count).sum(),
                )
            })
            .collect();
        assert_eq!(
            placed,
            [
                ("jobs/batch-1".to_string(), vec!["127.0.0.3".to_string()], 2),
                ("shop/web-1".to_string(), vec!["127.0.0.2".to_string()], 3),
                (
                    "namespace reports".to_string(),
                    vec!["127.0.0.4".to_string()],
                    1
                ),
                (
                    "client range 127.0.0.0/30".to_string(),
                    vec!["127.0.0.1".to_string()],
                    1
                ),
            ],
            "squid {}",
            real.version
        );
    }
}

/// `palisade proxy replay` evaluates logged requests as squid does: a real
/// squid answers 1,000 generated requests from several clients, and
/// replaying its own access log through the same configuration changes no
/// verdict.
#[test]
fn replay_agrees_with_a_real_squid_on_a_generated_log() {
    use palisade_core::proxylog::replay::Replay;
    use palisade_core::proxylog::{self, Counts};
    let up = upstream();
    let clients = [
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.4",
        "127.0.0.5",
        "127.0.0.6",
        "127.0.0.7",
    ];
    let hosts = [
        "allowed.test",
        "api.allowed.test",
        "blocked.test",
        "other.test",
        "x.partner.test",
        "127.0.0.1",
    ];
    // A small deterministic generator (no randomness in tests).
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(state >> 33).unwrap() % n
    };
    let requests: Vec<(&str, Request)> = (0..1000)
        .map(|_| {
            let client = clients[next(clients.len())];
            let host = hosts[next(hosts.len())];
            let request = match next(3) {
                0 => Request::Connect(host.to_string(), [443, 22, 8443][next(3)]),
                1 => Request::Get(format!("http://{host}:{up}/p{}", next(5))),
                _ => Request::Get(format!("http://{host}/admin/{}", next(3))),
            };
            (client, request)
        })
        .collect();
    for real in reals() {
        let dir = scratch(&format!("replay-{}", real.version));
        let port = free_port();
        std::fs::write(
            dir.join("hosts"),
            "127.0.0.1 allowed.test api.allowed.test blocked.test x.partner.test\n127.0.0.2 other.test\n",
        )
        .unwrap();
        let config = format!(
            "{}hosts_file {d}/hosts\nacl team_a src 127.0.0.2 127.0.0.3\nacl team_b src 127.0.0.4/31\nacl allowed dstdomain .allowed.test\nacl partner dstdomain x.partner.test\nacl admin urlpath_regex ^/admin\nacl SSL_ports port 443\nacl Safe_ports port 80 443 {up}\nhttp_access deny !Safe_ports\nhttp_access deny CONNECT !SSL_ports\nhttp_access deny admin\nhttp_access allow team_a allowed\nhttp_access allow team_b partner\nhttp_access allow team_b allowed !CONNECT\nhttp_access deny all\n",
            harness_lines(&dir, port),
            d = dir.display()
        );
        std::fs::write(dir.join("squid.conf"), config).unwrap();
        let squid = start_squid(&real, &dir, port);
        let mut allowed = 0;
        for (client, request) in &requests {
            if ask_from(&squid, client, request) {
                allowed += 1;
            }
        }
        stop(squid, real.version);
        assert!(
            allowed > 100 && allowed < 900,
            "a log of one verdict proves little: {allowed} allowed"
        );
        let config = ProxyConfig::from_file_with(dir.join("squid.conf"), &real.options()).unwrap();
        assert!(config.errors().is_empty(), "{:?}", config.errors());
        let text = std::fs::read_to_string(dir.join("access.log")).unwrap();
        let mut replay = Replay::new(config.parsed(), None);
        let mut counts = Counts::default();
        let problems = proxylog::each_request(
            text.as_bytes(),
            None,
            &mut counts,
            |_| {},
            |r, line| {
                replay.add(r, 0, line);
            },
        )
        .unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        // Every generated request, plus the harness's probe (no request:
        // nothing to replay).
        assert_eq!(replay.requests, 1000, "squid {}", real.version);
        assert_eq!(replay.skipped, 1);
        assert!(
            replay.changed.is_empty(),
            "squid {}: replay disagrees with the log on {:#?}",
            real.version,
            replay.changed
        );
    }
}
