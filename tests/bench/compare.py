#!/usr/bin/env python3
"""Side-by-side benchmark of Palisade against checkov and NCA on generated
clusters; prints a Markdown table with how to reproduce it.

    python3 tests/bench/compare.py                       # sizes 1000,10000
    python3 tests/bench/compare.py --sizes 1000,1300,10000 --peer-runs 3 \\
        --checkov /tmp/peers/venv/bin/checkov --nca /tmp/peers/venv/bin/nca \\
        --nca-max-objects 1300
    python3 tests/bench/compare.py --smoke --palisade target/debug/palisade

Corpora come from tests/bench/gen-cluster.py (the same bytes for the same size
and seed). For each corpus every tool runs `--runs` times (peers
`--peer-runs` times, and only up to `--peer-max-objects` objects); the table
gives the median wall time, the peak RSS of the tool's process (ru_maxrss
from wait4 on that one child, which on Linux also covers the descendants it
waited for; each run is spawned by a fresh small runner process so the peak
is not the spawner's), and the time over `palisade check`'s. Linux only.

Rows:
  palisade check             the full default check, warm plugin cache
                             (a private cache in the work directory, filled
                             by one untimed run first)
  palisade check --no-cache  the same, compiling every plugin each time
  palisade parse-only        `rbac can-i --queries` with `[]`: read and
                             parse the manifests, evaluate nothing
  checkov                    `checkov -f FILE --framework kubernetes
                             --skip-download --compact -o json`: every built-in
                             Kubernetes check on every object
  palisade netpol matrix     connectivity by equivalence class, on the ports
                             the corpus mentions
  nca connectivity           NCA's connectivity map (`--connectivity FILE
                             --resource_list FILE`)

Peers are taken from `--checkov PATH` / `--nca PATH`, else from PATH; a peer
not found is skipped with a note (with `--smoke`, peers run only when given).
The script exits non-zero, with the reason, when `palisade check` exits 2, a
tool exits with a status that is not a verdict, or its output does not parse
or shows it evaluated nothing: a benchmark of a failing run means nothing.

`--smoke` is the CI mode: one corpus of about 200 objects, one run, peers
only when given; it finishes in seconds. Python 3 standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATOR = HERE / "gen-cluster.py"
WORKSPACE = HERE.parent.parent

HEADER = (
    "| corpus | tool | runs | median s | peak MiB | vs palisade check "
    "| exit | evaluated |"
)
RULE = "|---|---|--:|--:|--:|--:|--:|---|"


class BenchError(Exception):
    """A run that makes the benchmark meaningless."""


# --- running one command ----------------------------------------------------


# Each run is started by a fresh, small Python process (this code, `-I -S`):
# on Linux a child's ru_maxrss starts from the high-water mark of the process
# that spawned it (exec keeps the old image's peak), so a tool spawned by this
# script would inherit the RSS of the JSON it has parsed. The runner's own
# peak (about 9 MiB) is the floor below which a peak cannot be read; it is
# printed, and a peak at the floor is shown as "≤ floor".
RUNNER = r"""
import os, signal, sys, time
out, err, timeout, argv = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
w = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
           (os.POSIX_SPAWN_OPEN, 1, out, w, 0o644),
           (os.POSIX_SPAWN_OPEN, 2, err, w, 0o644)]
# The runner's own peak (VmHWM), which the tool inherits; not its
# ru_maxrss, which holds what this runner inherited in turn.
floor = 0
try:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                floor = int(line.split()[1])
except OSError:
    pass
def stop(*_):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
try:
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
except OSError as e:
    print("spawn", e)
    sys.exit(0)
signal.signal(signal.SIGALRM, stop)
signal.setitimer(signal.ITIMER_REAL, timeout)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
signal.setitimer(signal.ITIMER_REAL, 0)
print("done", seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status), floor)
"""


def run_once(argv, stdout_path, env, timeout):
    """Runs argv with stdout to a file; returns (seconds, peak KiB, exit
    status, stderr text, floor KiB). The peak is the child's own ru_maxrss
    (wait4 in the runner); the floor is the runner's."""
    err_path = Path(str(stdout_path) + ".stderr")
    runner = [sys.executable, "-I", "-S", "-c", RUNNER, str(stdout_path),
              str(err_path), f"{timeout:g}", *argv]
    try:
        done = subprocess.run(runner, env=env, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=timeout + 60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BenchError(f"runner for {shlex.join(argv)} failed: {e}") from e
    report = done.stdout.decode("utf-8", "replace").split()
    if done.returncode != 0 or not report:
        raise BenchError(
            f"runner for {shlex.join(argv)} exited {done.returncode}:\n"
            + tail(done.stderr.decode("utf-8", "replace"))
        )
    if report[0] == "spawn":
        raise BenchError(f"cannot start {shlex.join(argv)}: {' '.join(report[1:])}")
    seconds, peak, code, floor = float(report[1]), int(report[2]), int(report[3]), int(report[4])
    try:
        stderr = err_path.read_text("utf-8", "replace")
        err_path.unlink()
    except OSError:
        stderr = ""
    if code < 0:
        raise BenchError(
            f"{shlex.join(argv)} was killed by signal {-code}"
            + (f" (timeout {timeout:g} s)" if seconds >= timeout else "")
            + f"\n{tail(stderr)}"
        )
    return seconds, peak, code, stderr, floor


def tail(text, lines=15):
    return "\n".join(text.rstrip().splitlines()[-lines:])


# --- output checks: each returns a short "evaluated" note or raises ---------


def load_json(path, what):
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise BenchError(f"{what}: output is not JSON ({e})") from e


def check_palisade_check(path, code, stderr, corpus):
    if code not in (0, 1):
        raise BenchError(
            f"palisade check exited {code} on {corpus['path']}:\n{tail(stderr)}"
        )
    report = load_json(path, "palisade check")
    try:
        summary = report["summary"]
        objects = summary["objects"]
        findings = sum(summary["findings"].values())
        errors = summary["errors"]
    except (KeyError, TypeError, AttributeError) as e:
        raise BenchError(f"palisade check: report lacks {e}") from e
    if errors or objects != corpus["objects"]:
        raise BenchError(
            f"palisade check read {objects} objects of {corpus['objects']}"
            f" with {errors} errors"
        )
    noun = "finding" if findings == 1 else "findings"
    return f"{objects} objects, {summary['plugins']} plugins, {findings} {noun}"


def check_parse_only(path, code, stderr, corpus):
    if code != 0:
        raise BenchError(f"palisade rbac can-i exited {code}:\n{tail(stderr)}")
    if load_json(path, "palisade rbac can-i") != []:
        raise BenchError("palisade rbac can-i: expected `[]` for no queries")
    return "parse only (0 queries)"


def check_checkov(path, code, stderr, corpus):
    # 0: all passed, 1: some failed; anything else is a crash or usage error.
    if code not in (0, 1):
        raise BenchError(f"checkov exited {code}:\n{tail(stderr)}")
    report = load_json(path, "checkov")
    reports = report if isinstance(report, list) else [report]
    passed = failed = resources = 0
    for r in reports:
        if not isinstance(r, dict) or "summary" not in r:
            # checkov prints a bare summary object when nothing was scanned.
            raise BenchError(f"checkov: no report in output: {str(r)[:200]}")
        s = r["summary"]
        passed += s.get("passed", 0)
        failed += s.get("failed", 0)
        resources += s.get("resource_count", 0)
        if s.get("parsing_errors"):
            raise BenchError(f"checkov: {s['parsing_errors']} parsing errors")
    # checkov counts every object plus a Pod per workload template.
    if passed + failed == 0 or resources < corpus["objects"]:
        raise BenchError(
            f"checkov evaluated {resources} resources ({passed} passed,"
            f" {failed} failed) of a {corpus['objects']}-object corpus"
        )
    return f"{resources} resources, {passed} passed + {failed} failed checks"


def check_matrix(path, code, stderr, corpus):
    if code != 0:
        raise BenchError(f"palisade netpol matrix exited {code}:\n{tail(stderr)}")
    m = load_json(path, "palisade netpol matrix")
    try:
        targets = m["targets"]
        pairs = sum(len(v) for v in m["allowed"].values())
    except (KeyError, TypeError, AttributeError) as e:
        raise BenchError(f"palisade netpol matrix: output lacks {e}") from e
    members = sum(len(t) for t in targets)
    if members < corpus["workloads"]:
        raise BenchError(
            f"palisade netpol matrix: {members} endpoints for"
            f" {corpus['workloads']} workloads"
        )
    return (
        f"{members} workloads in {len(targets)} classes,"
        f" {pairs} class pairs over {len(m['allowed'])} ports"
    )


NCA_ENDPOINTS = re.compile(r"cluster has (\d+) unique endpoints, (\d+) namespaces")


def check_nca(path, code, stderr, corpus):
    text = Path(path).read_text("utf-8", "replace")
    if code != 0:
        raise BenchError(f"nca exited {code}:\n{tail(stderr)}\n{tail(text)}")
    found = NCA_ENDPOINTS.search(text)
    if not found or "final fw rules" not in text:
        raise BenchError(f"nca: no connectivity map in output:\n{tail(text)}")
    endpoints, namespaces = int(found[1]), int(found[2])
    if endpoints < corpus["nca_pods"]:
        raise BenchError(
            f"nca saw {endpoints} endpoints; the corpus has"
            f" {corpus['nca_pods']} pods in NCA's model"
        )
    rules = sum(1 for line in text.splitlines() if " conn: " in line)
    return (
        f"{endpoints} endpoints ({corpus['nca_pods']} pods), {namespaces}"
        f" namespaces, {rules} connectivity rules"
    )


# --- corpora ----------------------------------------------------------------

PORT = re.compile(r"\b(?:containerPort|port): (\d+)(, protocol: (UDP|SCTP))?")


def make_corpus(size, seed, workdir):
    path = workdir / f"cluster-{size}-seed{seed}.yaml"
    argv = [sys.executable, str(GENERATOR), str(size), "--seed", str(seed)]
    with open(path, "wb") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise BenchError(
            f"{shlex.join(argv)} exited {done.returncode}:\n"
            + done.stderr.decode("utf-8", "replace")
        )
    text = path.read_text("utf-8")
    docs = [d for d in re.split(r"^---$", text, flags=re.M) if d.strip()]
    kinds = [re.search(r"^kind: (\S+)", d, re.M) for d in docs]
    workloads = sum(1 for k in kinds if k and k[1] == "Deployment")
    # NCA makes min(replicas, 2) pods of each workload (TopologyObjectsFinder).
    pods = 0
    for d in docs:
        if re.search(r"^kind: Deployment", d, re.M):
            r = re.search(r"^  replicas: (\d+)", d, re.M)
            pods += min(int(r[1]) if r else 1, 2)
    ports = set()
    for m in PORT.finditer(text):
        ports.add(f"{m[1]}/{m[3] or 'TCP'}")
    return {
        "size": size,
        "path": path,
        "bytes": path.stat().st_size,
        "objects": len(docs),
        "workloads": workloads,
        "nca_pods": pods,
        "ports": ",".join(sorted(ports, key=lambda p: (int(p.split("/")[0]), p))),
        "generator": argv,
    }


# --- tools ------------------------------------------------------------------


class Tool:
    def __init__(self, name, argv, check, runs, cap=None, warmup=0):
        self.name = name
        self.argv = argv  # function corpus -> argv
        self.check = check
        self.runs = runs
        self.cap = cap
        self.warmup = warmup


def find_peer(flag_value, name, smoke):
    if flag_value:
        path = shutil.which(flag_value)
        if not path:
            raise BenchError(f"--{name} {flag_value}: not an executable")
        return path, None
    if smoke:
        return None, f"{name}: skipped (smoke mode; pass --{name} PATH to run it)"
    path = shutil.which(name)
    if not path:
        return None, f"{name}: skipped (not found on PATH; pass --{name} PATH)"
    return path, None


def default_palisade():
    on_path = shutil.which("palisade")
    if on_path:
        return on_path
    built = WORKSPACE / "target" / "release" / "palisade"
    if built.is_file():
        return str(built)
    return None


def version_of(argv, env):
    try:
        done = subprocess.run(
            argv, capture_output=True, env=env, timeout=120, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    text = (done.stdout or done.stderr).decode("utf-8", "replace").strip()
    return text.splitlines()[-1] if text else f"unknown (exit {done.returncode})"


# --- report -----------------------------------------------------------------


def fmt_ratio(value):
    if value is None:
        return ""
    if value >= 10:
        return f"{value:.0f}×"
    return f"{value:.2g}×" if value < 1 else f"{value:.1f}×"


def fmt_peak(peaks, floors):
    """The largest peak read; `≤ floor` when every run stayed at or under
    the runner's own peak."""
    known = [p for p in peaks if p is not None]
    if not known:
        return f"≤ {max(floors) / 1024:.1f} (floor)"
    return f"{max(known) / 1024:.1f}"


def fmt_corpus(c):
    return f"{c['objects']} objects, {c['bytes']:,} B"


def machine_lines(env, versions):
    lines = []
    cpus = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cpus
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f", {int(line.split()[1]) // 1024} MiB RAM"
    except OSError:
        pass
    lines.append(
        f"- machine: {platform.system()} {platform.release()} {platform.machine()},"
        f" nproc {usable} (of {cpus}){', ' + model if model else ''}{mem}"
    )
    lines.append(f"- python: {platform.python_version()} ({sys.executable})")
    for name, v in versions.items():
        lines.append(f"- {name}: {v}")
    return lines


def loadavg():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def git_head():
    try:
        done = subprocess.run(
            ["git", "-C", str(WORKSPACE), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode().strip() if done.returncode == 0 else None


# --- main -------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=" ".join(__doc__.split("\n\n")[0].split()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring (head of this file) for what each row measures.",
    )
    p.add_argument("--sizes", default="1000,10000",
                   help="comma-separated corpus sizes, in objects (default 1000,10000)")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    p.add_argument("--runs", type=int, default=5,
                   help="timed runs of each Palisade command (default 5)")
    p.add_argument("--peer-runs", type=int, default=1,
                   help="timed runs of each peer (default 1)")
    p.add_argument("--peer-max-objects", type=int, default=1000,
                   help="largest corpus (in --sizes terms) a peer runs on (default 1000)")
    p.add_argument("--checkov-max-objects", type=int,
                   help="override --peer-max-objects for checkov")
    p.add_argument("--nca-max-objects", type=int,
                   help="override --peer-max-objects for NCA")
    p.add_argument("--palisade", help="palisade binary (default: palisade on PATH,"
                   " else target/release/palisade)")
    p.add_argument("--checkov", help="checkov executable (default: checkov on PATH)")
    p.add_argument("--nca", help="NCA executable (default: nca on PATH)")
    p.add_argument("--no-cold", action="store_true",
                   help="leave out the `palisade check --no-cache` row")
    p.add_argument("--timeout", type=float, default=3600,
                   help="seconds before one run is killed, a failure (default 3600)")
    p.add_argument("--workdir", help="keep corpora and outputs here (default: a"
                   " temporary directory, removed afterwards)")
    p.add_argument("--smoke", action="store_true",
                   help="CI mode: one ~200-object corpus, one run, peers only when given")
    args = p.parse_args(argv)
    if args.smoke:
        args.sizes = "200"
        args.runs = 1
        args.peer_runs = 1
        args.no_cold = True
        args.timeout = min(args.timeout, 600)
    try:
        args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error(f"--sizes: not a list of integers: {args.sizes}")
    if not args.sizes or min(args.sizes) < 1:
        p.error("--sizes: give positive sizes")
    if args.runs < 1 or args.peer_runs < 1:
        p.error("--runs and --peer-runs must be at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    palisade = args.palisade or default_palisade()
    if not palisade or not shutil.which(palisade):
        where = palisade or "not on PATH and no target/release/palisade"
        raise BenchError(f"palisade binary not found ({where}); pass --palisade PATH")
    palisade = str(Path(shutil.which(palisade)).resolve())
    notes = []
    checkov, note = find_peer(args.checkov, "checkov", args.smoke)
    if note:
        notes.append(note)
    nca, note = find_peer(args.nca, "nca", args.smoke)
    if note:
        notes.append(note)

    own_dir = args.workdir is None
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="palisade-compare-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workdir = workdir.resolve()
    try:
        return bench(args, palisade, checkov, nca, notes, workdir)
    finally:
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)


def bench(args, palisade, checkov, nca, notes, workdir):
    env = dict(os.environ)
    # A private compile cache: the warm rows never read a stale or foreign one.
    env["PALISADE_CACHE_DIR"] = str(workdir / "palisade-cache")
    queries = workdir / "no-queries.json"
    queries.write_text("[]\n")

    tools = [
        Tool("palisade check", lambda c: [palisade, "check", str(c["path"]),
             "--format", "json"], check_palisade_check, args.runs, warmup=1),
    ]
    if not args.no_cold:
        tools.append(Tool("palisade check --no-cache", lambda c: [
            palisade, "check", str(c["path"]), "--format", "json", "--no-cache"],
            check_palisade_check, args.runs))
    tools.append(Tool("palisade parse-only", lambda c: [
        palisade, "rbac", "can-i", "--manifests", str(c["path"]),
        "--queries", str(queries)], check_parse_only, args.runs))
    if checkov:
        tools.append(Tool("checkov", lambda c: [
            checkov, "-f", str(c["path"]), "--framework", "kubernetes",
            "--skip-download", "--compact", "-o", "json"], check_checkov,
            args.peer_runs, cap=args.checkov_max_objects or args.peer_max_objects))
    else:
        tools.append(Tool("checkov", None, None, 0))
    tools.append(Tool("palisade netpol matrix", lambda c: [
        palisade, "netpol", "matrix", str(c["path"]), "--ports", c["ports"],
        "--format", "classes"], check_matrix, args.runs))
    if nca:
        tools.append(Tool("nca connectivity", lambda c: [
            nca, "--connectivity", str(c["path"]), "--resource_list",
            str(c["path"])], check_nca, args.peer_runs,
            cap=args.nca_max_objects or args.peer_max_objects))
    else:
        tools.append(Tool("nca connectivity", None, None, 0))

    versions = {"palisade": f"{version_of([palisade, '--version'], env)} ({palisade})"}
    if checkov:
        versions["checkov"] = f"{version_of([checkov, '--version'], env)} ({checkov})"
    if nca:
        versions["nca"] = f"{version_of([nca, '--version'], env)} ({nca})"
    head = git_head()
    if head:
        versions["work tree"] = f"{head} ({WORKSPACE})"
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()

    rows = []
    corpora = []
    all_floors = []  # the runner's own peaks, KiB
    for size in args.sizes:
        corpus = make_corpus(size, args.seed, workdir)
        corpora.append(corpus)
        base = None  # palisade check's median on this corpus
        matrix = None
        for tool in tools:
            label = fmt_corpus(corpus)
            if tool.argv is None:
                rows.append((label, tool.name, "", "", "", "", "skipped (absent)", ""))
                continue
            if tool.cap is not None and size > tool.cap:
                rows.append((label, tool.name, "", "", "", "",
                             f"skipped (cap {tool.cap})", ""))
                continue
            argv = tool.argv(corpus)
            out = workdir / f"out-{size}-{tool.name.replace(' ', '_')}.txt"
            print(f"running {tool.name} on {corpus['objects']} objects"
                  f" ({tool.warmup} warm-up + {tool.runs} runs)", file=sys.stderr)
            times, peaks, floors, codes, evaluated = [], [], [], set(), ""
            for i in range(tool.warmup + tool.runs):
                seconds, peak, code, stderr, floor = run_once(
                    argv, out, env, args.timeout)
                floors.append(floor)
                all_floors.append(floor)
                evaluated = tool.check(out, code, stderr, corpus)
                if i >= tool.warmup:
                    times.append(seconds)
                    # Within 1 MiB of the runner's peak: the runner's, maybe.
                    peaks.append(peak if peak > floor + 1024 else None)
                    codes.add(code)
            median = statistics.median(times)
            if tool.name == "palisade check":
                base = median
            if tool.name == "palisade netpol matrix":
                matrix = median
            ratio = fmt_ratio(median / base) if base else ""
            if tool.name == "nca connectivity" and matrix:
                evaluated += f"; {fmt_ratio(median / matrix)} palisade netpol matrix"
            rows.append((
                label, tool.name, str(len(times)), f"{median:.3f}",
                fmt_peak(peaks, floors), ratio,
                ",".join(str(c) for c in sorted(codes)), evaluated,
            ))
            try:
                out.unlink()  # checkov's JSON is ~60 MB at 1000 objects
            except OSError:
                pass
    finished = datetime.datetime.now(datetime.timezone.utc)

    lines = [HEADER, RULE]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append(f"Run {started:%Y-%m-%d %H:%M} to {finished:%H:%M} UTC;"
                 f" load average {load_before} before, {loadavg()} after.")
    lines += machine_lines(env, versions)
    lines.append("")
    lines.append("Reproduce:")
    lines.append("")
    lines.append("    " + shlex.join(["python3", "tests/bench/compare.py", *sys.argv[1:]]))
    lines.append("")
    lines.append("Commands (CORPUS: the generated file; PORTS: the ports it"
                 " mentions):")
    lines.append("")
    for c in corpora:
        lines.append("    " + shlex.join(["python3", "tests/bench/gen-cluster.py",
                                          *c["generator"][2:]])
                     + f" > {c['path'].name}")
    sample = corpora[0]
    for tool in tools:
        if tool.argv is None:
            continue
        text = shlex.join(tool.argv(sample))
        text = text.replace(str(sample["path"]), "CORPUS")
        text = text.replace(str(queries), "no-queries.json")
        text = text.replace(sample["ports"], "PORTS")
        lines.append(f"    {text}")
    lines.append("")
    lines.append(f"- PORTS: {sample['ports']}" + (
        " (on the first corpus)" if len(corpora) > 1 else ""))
    lines.append(
        f"- `palisade check`: {args.runs} timed run(s) after one untimed run that"
        " fills a private plugin cache (PALISADE_CACHE_DIR in the work"
        " directory); peers: " + f"{args.peer_runs} run(s) each, no warm-up.")
    lines.append(
        "- Time: wall clock from spawn to exit, median of the runs; peak:"
        " ru_maxrss of the tool's process from wait4 (its waited-for children"
        " included), the largest over the runs. Each run is spawned by a fresh"
        " `python3 -I -S` runner, since a child's ru_maxrss starts at its"
        " spawner's high-water mark; a peak at or under the runner's own"
        f" ({max(all_floors, default=0) / 1024:.1f} MiB) cannot be told apart and"
        " reads `≤ floor`.")
    lines.append(
        "- Endpoints: Palisade's matrix has one endpoint per workload; NCA"
        " makes min(replicas, 2) pods per workload, adds kube-dns pods and the"
        " IP blocks policies name, and covers every port, not only PORTS.")
    lines.append(
        "- checkov runs its whole Kubernetes check catalogue (resource limits,"
        " probes, image tags...), Palisade its four egress/RBAC/proxy plugins:"
        " the rows compare the cost of a CI gate, not the same rules.")
    for n in notes:
        lines.append(f"- {n}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        print(f"compare.py: benchmark failed: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
