//! `palisade check --kustomize DIR`: render a Kustomize directory with
//! `kubectl kustomize` (kubectl bundles Kustomize) and check the stream.
//!
//! The rendered stream is an input named `<kustomize DIR>`: findings point
//! at its lines, and code frames quote it. Objects that carry Kustomize's
//! `config.kubernetes.io/origin` annotation (a kustomization with
//! `buildMetadata: [originAnnotations]`) also name the file they came from.
//!
//! kubectl runs with Kustomize's defaults: files only from inside each
//! kustomization's root, no plugins, no exec functions, no Helm. A remote
//! base (a git URL) is fetched by kubectl, not by Palisade.

use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// How long a render may take before it is stopped (remote bases can hang
/// on the network).
const TIMEOUT: Duration = Duration::from_secs(120);

/// Most bytes of kubectl's error output quoted.
const MAX_STDERR: u64 = 8 * 1024;

/// The kubectl to run: `PALISADE_KUBECTL`, else `kubectl` on `PATH`.
fn kubectl() -> std::ffi::OsString {
    std::env::var_os("PALISADE_KUBECTL").unwrap_or_else(|| "kubectl".into())
}

/// Renders `dir`; the stream is at most `max_bytes` long (one byte more is
/// read, so the loader reports the cap).
pub(crate) fn render(dir: &Path, max_bytes: u64) -> anyhow::Result<Vec<u8>> {
    if !dir.is_dir() {
        bail!(
            "`--kustomize {}`: not a directory (name the directory that holds kustomization.yaml)",
            dir.display()
        );
    }
    let program = kubectl();
    // Its own process group, so that a timeout stops the git it may run
    // for a remote base as well.
    let mut child = Command::new(&program)
        .arg("kustomize")
        .arg(dir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "`--kustomize` renders with `kubectl kustomize`, and `{}` was not found: install kubectl (1.24 or later bundles Kustomize 4.5 or later), set PALISADE_KUBECTL to its path, or render yourself: `kustomize build {} | palisade check -`",
                    Path::new(&program).display(),
                    dir.display()
                )
            } else {
                anyhow::anyhow!("cannot run `{}`: {e}", Path::new(&program).display())
            }
        })?;
    let stdout = child.stdout.take().context("kubectl's output")?;
    let stderr = child.stderr.take().context("kubectl's error output")?;
    let out = std::thread::spawn(move || read_at_most(stdout, max_bytes.saturating_add(1)));
    let err = std::thread::spawn(move || read_at_most(stderr, MAX_STDERR));
    let start = Instant::now();
    let stop = |child: &mut std::process::Child| {
        if let Some(group) = rustix::process::Pid::from_raw(child.id().cast_signed()) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = child.kill();
        let _ = child.wait();
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                stop(&mut child);
                return Err(e).context("waiting for kubectl");
            }
        }
        if start.elapsed() > TIMEOUT {
            stop(&mut child);
            bail!(
                "`kubectl kustomize {}` took longer than {} s and was stopped",
                dir.display(),
                TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = out
        .join()
        .map_err(|_| anyhow::anyhow!("reading kubectl's output failed"))??;
    let err = err
        .join()
        .map_err(|_| anyhow::anyhow!("reading kubectl's error output failed"))??;
    if !status.success() {
        // On one line: its text is the pull request's (file names), and a
        // line of its own could pass for a CI workflow command.
        let message = String::from_utf8_lossy(&err);
        bail!(
            "`kubectl kustomize {}` failed ({status}): {}",
            dir.display(),
            palisade::render::escape::line(message.trim())
        );
    }
    Ok(out)
}

/// Reads `from` to its end, keeping at most `max` bytes (the rest is
/// drained so the writer never blocks).
fn read_at_most(from: impl Read, max: u64) -> std::io::Result<Vec<u8>> {
    let mut from = from;
    let mut kept = Vec::new();
    (&mut from).take(max).read_to_end(&mut kept)?;
    std::io::copy(&mut from, &mut std::io::sink())?;
    Ok(kept)
}
