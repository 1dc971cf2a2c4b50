//! Structure-aware fuzzing of every parser that reads untrusted text: the
//! YAML loader with positions, the squid parser, the policy-set,
//! exemptions and suite loaders, and the cloud readers (Terraform and AWS
//! CLI JSON, with the route, ACL and group evaluations over what they read).
//!
//! Coverage-guided fuzzing (cargo-fuzz) needs nightly's sanitizers, which the
//! pinned stable toolchain lacks, so these are property tests: generators
//! that follow each format's grammar (so most cases get past the first
//! token), plus mutations of the project's real files, with shrinking.
//!
//! Bounded by `PALISADE_FUZZ_CASES` (cases per target, default 200: the whole
//! file in under ~20 s in a debug build on 2 cores) and reproducible by
//! `PALISADE_FUZZ_SEED` (a number, default fixed; `random` for a new seed per
//! run). Each target prints `fuzz TARGET: N executions in T, C crashes`
//! (`--nocapture` to see it). A failure is shrunk and its seed saved in
//! `tests/proptest-regressions/fuzz.txt`, replayed first on later runs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed expectation should abort the test"
)]

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use palisade::fuzzing::{YamlDocument, YamlError, squid_errors, yaml_positions};
use palisade::{Checker, Exemptions, Inputs, PolicySet, ProxyConfig, Report};
use palisade_tests::{engine, workspace};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------
// Running a target
// ---------------------------------------------------------------------------

const DEFAULT_CASES: u32 = 200;
const DEFAULT_SEED: u64 = 0x7061_6c69_7361_6465; // "palisade"

fn config() -> Config {
    let cases = std::env::var("PALISADE_FUZZ_CASES")
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("PALISADE_FUZZ_CASES: `{v}`"))
        })
        .unwrap_or(DEFAULT_CASES);
    let rng_seed = match std::env::var("PALISADE_FUZZ_SEED").as_deref() {
        // A seed of our own rather than `RngSeed::Random`, so the report
        // line names the seed that reproduces the run.
        Ok("random") => RngSeed::Fixed(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                ^ u64::from(std::process::id()),
        ),
        Ok(v) => RngSeed::Fixed(
            v.parse()
                .unwrap_or_else(|_| panic!("PALISADE_FUZZ_SEED: `{v}`")),
        ),
        Err(_) => RngSeed::Fixed(DEFAULT_SEED),
    };
    Config {
        cases,
        rng_seed,
        source_file: Some(file!()),
        // Absolute: tests run in tests/, `file!()` is relative to the
        // workspace.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(Box::leak(
            workspace()
                .join("tests/proptest-regressions/fuzz.txt")
                .display()
                .to_string()
                .into_boxed_str(),
        )))),
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

/// Runs `test` on values of `strategy`, counting executions; a panic or a
/// failed property is a crash, shrunk by proptest and reported.
fn fuzz<S>(target: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    fuzz_share(target, 100, strategy, test);
}

/// [`fuzz`] with `percent` of the configured cases, for targets with a
/// small input space and costly cases.
fn fuzz_share<S>(
    target: &str,
    percent: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let mut config = config();
    config.cases = (config.cases.saturating_mul(percent) / 100).max(1);
    let seed = config.rng_seed;
    let mut runner = TestRunner::new(config);
    let executions = AtomicU64::new(0);
    let start = Instant::now();
    let result = runner.run(&strategy, |value| {
        executions.fetch_add(1, Ordering::Relaxed);
        test(value)
    });
    let crashes = u32::from(result.is_err());
    eprintln!(
        "fuzz {target}: {} executions in {:.1?}, {crashes} crashes (seed {seed})",
        executions.load(Ordering::Relaxed),
        start.elapsed()
    );
    if let Err(e) = result {
        panic!("fuzz {target}: {e}");
    }
}

/// Lines of a text as the YAML loader numbers them: 1 + the number of line
/// breaks, where (as YAML says) a lone `\r` is one too.
///
/// FIXME(input/yaml.rs): the rest of Palisade counts `\n` only (the human
/// renderer's code frame, GitHub annotations, squid's lines), so after a
/// lone `\r` a YAML position is lines below where those show it. Found by
/// `yaml-mutated-files`; this asserts the current behaviour.
fn line_count(text: &str) -> u32 {
    let lone_cr = text
        .char_indices()
        .filter(|(i, c)| *c == '\r' && text.as_bytes().get(i + 1) != Some(&b'\n'))
        .count();
    u32::try_from(text.matches('\n').count() + lone_cr + 1).unwrap()
}

// ---------------------------------------------------------------------------
// A YAML grammar: documents as trees, rendered with their expected value and
// the position of every field
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Scalar {
    /// Plain words separated by single spaces.
    Plain(String),
    Int(i64),
    Hex(u32),
    Bool(bool),
    /// `null`, `~`.
    Null(bool),
    /// Pieces of a double-quoted scalar: (as written, as read).
    Double(Vec<(String, String)>),
    Single(String),
    /// `|`, `|-`, `>`, `>-` with non-empty lines of words.
    Block {
        folded: bool,
        strip: bool,
        lines: Vec<String>,
    },
    /// `!!str 123`: a number read as a string.
    StrTagged(i64),
    /// `!custom value`: an application tag, the value unchanged.
    Custom(Box<Scalar>),
}

#[derive(Debug, Clone)]
enum Key {
    Plain(String),
    Double(Vec<(String, String)>),
    Single(String),
}

#[derive(Debug, Clone)]
enum Node {
    Scalar(Scalar),
    Map {
        flow: bool,
        entries: Vec<Entry>,
    },
    Seq {
        flow: bool,
        items: Vec<Node>,
    },
    /// A reference to an anchor defined earlier in the document (by index
    /// among anchors defined so far; rendered as the value when there is
    /// none).
    Alias(Index),
}

#[derive(Debug, Clone)]
struct Entry {
    key: Key,
    value: Node,
    /// Define an anchor on the value.
    anchor: bool,
    comment_before: Option<String>,
    comment_after: Option<String>,
}

#[derive(Debug, Clone)]
struct Doc {
    /// Extra fields after apiVersion, kind and metadata.
    kind: &'static str,
    name: String,
    labels: Vec<(String, String)>,
    body: Vec<Entry>,
    /// Write the whole document in flow style (JSON-like).
    flow: bool,
    /// `...` after the document.
    end_marker: bool,
    /// A squid configuration under `data.squid.conf` (as a literal block
    /// scalar, or double-quoted on one line).
    squid: Option<(SquidConf, bool)>,
}

#[derive(Debug, Clone)]
struct Stream {
    docs: Vec<Doc>,
    crlf: bool,
    bom: bool,
    directive: bool,
    leading_comment: Option<String>,
}

const KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "NetworkPolicy",
    "ConfigMap",
    "Namespace",
    "Role",
    "RoleBinding",
    "CronJob",
    "Service",
];

fn api_version(kind: &str) -> &'static str {
    match kind {
        "Deployment" => "apps/v1",
        "NetworkPolicy" => "networking.k8s.io/v1",
        "Role" | "RoleBinding" => "rbac.authorization.k8s.io/v1",
        "CronJob" => "batch/v1",
        _ => "v1",
    }
}

/// Words that YAML reads as something else than a string.
fn special_word(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "true" | "false" | "null" | "nan" | "inf"
    )
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9-]{0,10}",
        1 => "[a-zA-Z][a-zA-Z0-9_.]{0,8}",
        1 => "[a-zé中ü][a-zé中üß😀]{0,5}",
        1 => Just("yes".to_string()),
        1 => Just("on".to_string()),
    ]
    .prop_filter("not a YAML keyword", |w| !special_word(w))
}

fn plain_text() -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..4).prop_map(|w| w.join(" "))
}

/// Pieces of a double-quoted scalar: raw characters (unicode, including
/// characters other YAML versions treat as line breaks) and escapes
/// (control characters included).
fn double_pieces() -> impl Strategy<Value = Vec<(String, String)>> {
    let piece = prop_oneof![
        6 => "[a-zA-Z0-9 ,:#&*!|>@`%-]".prop_map(|c| (c.clone(), c)),
        2 => "[é中😀ß\u{a0}]".prop_map(|c| (c.clone(), c)),
        1 => Just(("\u{2028}".to_string(), "\u{2028}".to_string())),
        1 => Just(("\u{85}".to_string(), "\u{85}".to_string())),
        1 => Just(("\\n".to_string(), "\n".to_string())),
        1 => Just(("\\t".to_string(), "\t".to_string())),
        1 => Just(("\\\"".to_string(), "\"".to_string())),
        1 => Just(("\\\\".to_string(), "\\".to_string())),
        1 => Just(("\\/".to_string(), "/".to_string())),
        1 => Just(("~".to_string(), "~".to_string())),
        1 => (1u8..0x20).prop_map(|b| (format!("\\x{b:02x}"), char::from(b).to_string())),
        1 => Just(("\\u00e9".to_string(), "é".to_string())),
        1 => Just(("\\e".to_string(), "\u{1b}".to_string())),
        1 => Just(("\\0".to_string(), "\u{0}".to_string())),
    ];
    prop::collection::vec(piece, 0..12)
}

fn single_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,:#'\"é中{}\\[\\]-]{0,12}"
}

fn scalar() -> impl Strategy<Value = Scalar> {
    let simple = prop_oneof![
        4 => plain_text().prop_map(Scalar::Plain),
        2 => (-1_000_000i64..1_000_000_000).prop_map(Scalar::Int),
        1 => any::<u32>().prop_map(Scalar::Hex),
        1 => any::<bool>().prop_map(Scalar::Bool),
        1 => any::<bool>().prop_map(Scalar::Null),
        2 => double_pieces().prop_map(Scalar::Double),
        1 => single_text().prop_map(Scalar::Single),
        1 => (any::<bool>(), any::<bool>(), prop::collection::vec(plain_text(), 1..4))
            .prop_map(|(folded, strip, lines)| Scalar::Block { folded, strip, lines }),
        1 => (-1000i64..100_000).prop_map(Scalar::StrTagged),
    ];
    prop_oneof![
        8 => simple.clone(),
        1 => simple.prop_map(|s| match s {
            // A node has one tag; a tag on a block scalar goes before the
            // indicator: keep those as they are.
            Scalar::Block { .. } | Scalar::StrTagged(_) => s,
            s => Scalar::Custom(Box::new(s)),
        }),
    ]
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        6 => word().prop_map(Key::Plain),
        1 => "[a-z]{1,3}\\.[a-z]{2,5}/[a-z-]{1,8}".prop_map(Key::Plain),
        1 => ("[a-z]", 200usize..1000).prop_map(|(c, n)| Key::Plain(c.repeat(n))),
        2 => double_pieces().prop_map(Key::Double),
        1 => single_text().prop_map(Key::Single),
    ]
}

fn comment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 :#'\"{}\\[\\]&*!|>é中-]{0,20}"
}

fn entries(value: BoxedStrategy<Node>, max: usize) -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec(
        (
            key(),
            value,
            prop::bool::weighted(0.1),
            prop::option::weighted(0.15, comment()),
            prop::option::weighted(0.15, comment()),
        )
            .prop_map(
                |(key, value, anchor, comment_before, comment_after)| Entry {
                    key,
                    value,
                    anchor,
                    comment_before,
                    comment_after,
                },
            ),
        0..max,
    )
    .prop_map(dedup_keys)
}

fn dedup_keys(entries: Vec<Entry>) -> Vec<Entry> {
    let mut seen = std::collections::HashSet::new();
    entries
        .into_iter()
        .filter(|e| seen.insert(key_string(&e.key)))
        .collect()
}

fn node() -> BoxedStrategy<Node> {
    let leaf = prop_oneof![
        8 => scalar().prop_map(Node::Scalar),
        1 => any::<Index>().prop_map(Node::Alias),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
        prop_oneof![
            (any::<bool>(), entries(inner.clone(), 5))
                .prop_map(|(flow, entries)| Node::Map { flow, entries }),
            (any::<bool>(), prop::collection::vec(inner, 0..5))
                .prop_map(|(flow, items)| Node::Seq { flow, items }),
        ]
    })
    .boxed()
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        prop::sample::select(KINDS),
        "x[a-z0-9-]{0,15}",
        prop::collection::vec(("[a-z]{1,8}", "v[a-z0-9]{0,7}"), 0..3),
        entries(node(), 4),
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.2, (squid_conf(), any::<bool>())),
    )
        .prop_map(|(kind, name, labels, body, flow, end_marker, squid)| {
            let body = body
                .into_iter()
                .filter(|e| {
                    !matches!(
                        key_string(&e.key).as_str(),
                        "apiVersion" | "kind" | "metadata" | "data"
                    )
                })
                .collect();
            Doc {
                kind,
                name,
                labels,
                body,
                flow,
                end_marker,
                squid,
            }
        })
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        prop::collection::vec(doc(), 1..4),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
        prop::option::weighted(0.2, comment()),
    )
        .prop_map(|(docs, crlf, bom, directive, leading_comment)| Stream {
            docs,
            crlf,
            bom,
            directive,
            leading_comment,
        })
}

fn pieces_read(pieces: &[(String, String)]) -> String {
    pieces.iter().map(|(_, r)| r.as_str()).collect()
}

fn pieces_written(pieces: &[(String, String)]) -> String {
    pieces.iter().map(|(w, _)| w.as_str()).collect()
}

fn key_string(key: &Key) -> String {
    match key {
        Key::Plain(s) | Key::Single(s) => s.clone(),
        Key::Double(p) => pieces_read(p),
    }
}

fn key_text(key: &Key) -> String {
    match key {
        Key::Plain(s) => s.clone(),
        Key::Double(p) => format!("\"{}\"", pieces_written(p)),
        Key::Single(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn scalar_value(s: &Scalar) -> Value {
    match s {
        Scalar::Plain(t) | Scalar::Single(t) => Value::String(t.clone()),
        Scalar::Int(i) => Value::from(*i),
        Scalar::Hex(h) => Value::from(*h),
        Scalar::Bool(b) => Value::Bool(*b),
        Scalar::Null(_) => Value::Null,
        Scalar::Double(p) => Value::String(pieces_read(p)),
        Scalar::Block {
            folded,
            strip,
            lines,
        } => {
            let mut s = lines.join(if *folded { " " } else { "\n" });
            if !strip {
                s.push('\n');
            }
            Value::String(s)
        }
        Scalar::StrTagged(i) => Value::String(i.to_string()),
        Scalar::Custom(inner) => scalar_value(inner),
    }
}

/// A scalar written on one line (in flow context, block scalars become
/// double-quoted).
fn scalar_inline(s: &Scalar) -> String {
    match s {
        Scalar::Plain(t) => t.clone(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Hex(h) => format!("0x{h:X}"),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Null(tilde) => if *tilde { "~" } else { "null" }.to_string(),
        Scalar::Double(p) => format!("\"{}\"", pieces_written(p)),
        Scalar::Single(t) => format!("'{}'", t.replace('\'', "''")),
        Scalar::Block { .. } => match scalar_value(s) {
            Value::String(v) => serde_json::to_string(&v).unwrap(),
            _ => unreachable!(),
        },
        Scalar::StrTagged(i) => format!("!!str {i}"),
        Scalar::Custom(inner) => format!("!custom {}", scalar_inline(inner)),
    }
}

/// Where each field is written: JSON pointer, line, column.
type Positions = Vec<(String, u32, u32)>;

/// Text being written, with the cursor's line and column (in characters, as
/// the loader counts them) and the expected position of every field.
struct Out {
    text: String,
    line: u32,
    column: u32,
    nl: &'static str,
    positions: Vec<(String, u32, u32)>,
    /// Anchors defined so far in the document: name, value, positions of
    /// the fields below it (pointer suffixes).
    anchors: Vec<(String, Value, Positions)>,
    /// Anchor names given, including those whose node is still being
    /// written.
    anchor_names: usize,
}

impl Out {
    /// A block scalar: its header (`|`, `>-`, …) after `lead`, then its
    /// lines indented under `indent`.
    fn block_scalar(
        &mut self,
        lead: &str,
        folded: bool,
        strip: bool,
        lines: &[String],
        indent: usize,
    ) {
        self.push(&format!(
            "{lead}{}{}",
            if folded { ">" } else { "|" },
            if strip { "-" } else { "" }
        ));
        self.newline();
        for l in lines {
            self.indent(indent + 2);
            self.push(l);
            self.newline();
        }
    }

    fn push(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.text.push_str(s);
    }

    fn newline(&mut self) {
        let nl = self.nl;
        self.push(nl);
    }

    fn record(&mut self, pointer: &str) {
        self.positions
            .push((pointer.to_string(), self.line, self.column));
    }

    fn indent(&mut self, n: usize) {
        self.push(&" ".repeat(n));
    }

    /// Writes a node that is the value of a field, on the current line or
    /// the following ones (block style), returning its value.
    fn block_value(
        &mut self,
        node: &Node,
        indent: usize,
        pointer: &str,
        anchor: Option<&str>,
    ) -> Value {
        let props = anchor.map(|a| format!(" &{a}")).unwrap_or_default();
        match node {
            Node::Scalar(
                s @ Scalar::Block {
                    folded,
                    strip,
                    lines,
                },
            ) => {
                self.push(&props);
                self.block_scalar(" ", *folded, *strip, lines, indent);
                scalar_value(s)
            }
            Node::Map {
                flow: false,
                entries,
            } if !entries.is_empty() => {
                self.push(&props);
                self.newline();
                self.block_map(entries, indent + 2, pointer, false)
            }
            Node::Seq { flow: false, items } if !items.is_empty() => {
                self.push(&props);
                self.newline();
                // Sequences under a key may start at the key's indentation.
                let seq_indent = if items.len() % 2 == 0 {
                    indent
                } else {
                    indent + 2
                };
                self.block_seq(items, seq_indent, pointer, false)
            }
            Node::Alias(i) if !self.anchors.is_empty() => {
                let (name, value, rel) = self.anchors[i.index(self.anchors.len())].clone();
                self.push(&format!(" *{name}"));
                self.newline();
                for (suffix, l, c) in rel {
                    self.positions.push((format!("{pointer}{suffix}"), l, c));
                }
                value
            }
            other => {
                self.push(&props);
                self.push(" ");
                let v = self.flow(other, indent + 4, pointer);
                self.newline();
                v
            }
        }
    }

    fn block_map(
        &mut self,
        entries: &[Entry],
        indent: usize,
        pointer: &str,
        inline_first: bool,
    ) -> Value {
        let mut map = Map::new();
        for (n, e) in entries.iter().enumerate() {
            let first_inline = inline_first && n == 0;
            if let (Some(c), false) = (&e.comment_before, first_inline) {
                self.indent(indent);
                self.push(&format!("# {c}"));
                self.newline();
            }
            if !first_inline {
                self.indent(indent);
            }
            let k = key_string(&e.key);
            let p = format!("{pointer}/{}", escape_pointer(&k));
            self.record(&p);
            self.push(&key_text(&e.key));
            self.push(":");
            // An alias cannot carry an anchor.
            let anchor = (e.anchor && !matches!(e.value, Node::Alias(_))).then(|| {
                self.anchor_names += 1;
                format!("a{}", self.anchor_names)
            });
            let before = self.positions.len();
            // A trailing comment fits only after a value written on this line.
            let inline = matches!(&e.value, Node::Scalar(s) if !matches!(s, Scalar::Block { .. }))
                || matches!(
                    &e.value,
                    Node::Map { flow: true, .. } | Node::Seq { flow: true, .. }
                )
                || matches!(&e.value, Node::Map { entries, .. } if entries.is_empty())
                || matches!(&e.value, Node::Seq { items, .. } if items.is_empty());
            let v = if inline {
                let props = anchor
                    .as_ref()
                    .map(|a| format!(" &{a}"))
                    .unwrap_or_default();
                self.push(&props);
                self.push(" ");
                let v = self.flow(&e.value, indent + 4, &p);
                if let Some(c) = &e.comment_after {
                    self.push(&format!(" # {c}"));
                }
                self.newline();
                v
            } else {
                self.block_value(&e.value, indent, &p, anchor.as_deref())
            };
            if let Some(a) = anchor {
                let rel = self.positions[before..]
                    .iter()
                    .map(|(q, l, c)| (q[p.len()..].to_string(), *l, *c))
                    .collect();
                self.anchors.push((a, v.clone(), rel));
            }
            map.insert(k, v);
        }
        Value::Object(map)
    }

    fn block_seq(
        &mut self,
        items: &[Node],
        indent: usize,
        pointer: &str,
        inline_first: bool,
    ) -> Value {
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if !(inline_first && i == 0) {
                self.indent(indent);
            }
            self.push("- ");
            let p = format!("{pointer}/{i}");
            self.record(&p);
            let v = match item {
                Node::Map {
                    flow: false,
                    entries,
                } if !entries.is_empty() => self.block_map(entries, indent + 2, &p, true),
                Node::Seq { flow: false, items } if !items.is_empty() => {
                    self.block_seq(items, indent + 2, &p, true)
                }
                Node::Scalar(
                    s @ Scalar::Block {
                        folded,
                        strip,
                        lines,
                    },
                ) => {
                    // FIXME(input/yaml.rs): saphyr starts a block scalar's
                    // span at its first content line, not at the indicator,
                    // so a finding about this item points one line low.
                    // This asserts the current behaviour.
                    if let Some(last) = self.positions.last_mut() {
                        last.1 += 1;
                    }
                    self.block_scalar("", *folded, *strip, lines, indent);
                    scalar_value(s)
                }
                other => {
                    let v = self.flow(other, indent + 4, &p);
                    self.newline();
                    v
                }
            };
            out.push(v);
        }
        Value::Array(out)
    }

    /// Writes a node in flow style; long collections wrap after a comma
    /// onto a line indented by `cont`.
    fn flow(&mut self, node: &Node, cont: usize, pointer: &str) -> Value {
        match node {
            Node::Scalar(s) => {
                self.push(&scalar_inline(s));
                scalar_value(s)
            }
            Node::Alias(_) => {
                // Aliases are only written as block mapping values.
                self.push("null");
                Value::Null
            }
            Node::Map { entries, .. } => {
                self.push("{");
                let mut map = Map::new();
                for (n, e) in entries.iter().enumerate() {
                    if n > 0 {
                        self.push(",");
                        if n % 3 == 0 {
                            self.newline();
                            self.indent(cont);
                        } else {
                            self.push(" ");
                        }
                    }
                    let k = key_string(&e.key);
                    let p = format!("{pointer}/{}", escape_pointer(&k));
                    self.record(&p);
                    self.push(&key_text(&e.key));
                    self.push(": ");
                    let v = self.flow(&e.value, cont, &p);
                    map.insert(k, v);
                }
                self.push("}");
                Value::Object(map)
            }
            Node::Seq { items, .. } => {
                self.push("[");
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.push(",");
                        if i % 3 == 0 {
                            self.newline();
                            self.indent(cont);
                        } else {
                            self.push(" ");
                        }
                    }
                    let p = format!("{pointer}/{i}");
                    self.record(&p);
                    out.push(self.flow(item, cont, &p));
                }
                self.push("]");
                Value::Array(out)
            }
        }
    }
}

/// A generated stream: its text, and per document the expected value and
/// field positions.
struct Rendered {
    text: String,
    docs: Vec<(Value, Positions)>,
}

fn entry(key: &str, value: Node) -> Entry {
    Entry {
        key: Key::Plain(key.to_string()),
        value,
        anchor: false,
        comment_before: None,
        comment_after: None,
    }
}

fn plain(s: &str) -> Node {
    Node::Scalar(Scalar::Plain(s.to_string()))
}

fn map(flow: bool, entries: Vec<Entry>) -> Node {
    Node::Map { flow, entries }
}

fn render(stream: &Stream) -> Rendered {
    let mut out = Out {
        text: String::new(),
        line: 1,
        column: 1,
        nl: if stream.crlf { "\r\n" } else { "\n" },
        positions: Vec::new(),
        anchors: Vec::new(),
        anchor_names: 0,
    };
    if stream.bom {
        // The loader does not count a byte order mark as a column.
        out.text.push('\u{feff}');
    }
    if let Some(c) = &stream.leading_comment {
        out.push(&format!("# {c}"));
        out.newline();
    }
    if stream.directive {
        out.push("%YAML 1.2");
        out.newline();
    }
    let mut docs = Vec::new();
    for (n, d) in stream.docs.iter().enumerate() {
        if n > 0 || stream.directive {
            out.push("---");
            out.newline();
        }
        out.positions.clear();
        out.anchors.clear();
        out.anchor_names = 0;
        let mut metadata = vec![entry("name", plain(&d.name))];
        if !d.labels.is_empty() {
            metadata.push(entry(
                "labels",
                map(
                    false,
                    dedup_keys(d.labels.iter().map(|(k, v)| entry(k, plain(v))).collect()),
                ),
            ));
        }
        let mut top = vec![
            entry("apiVersion", plain(api_version(d.kind))),
            entry("kind", plain(d.kind)),
            entry("metadata", map(false, metadata)),
        ];
        top.extend(d.body.iter().cloned());
        if let Some((conf, block)) = &d.squid {
            let (text, _) = render_squid(conf);
            let value = if *block {
                let lines: Vec<String> = text
                    .lines()
                    .map(str::trim_start)
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string)
                    .collect();
                if lines.is_empty() {
                    Node::Scalar(Scalar::Null(false))
                } else {
                    Node::Scalar(Scalar::Block {
                        folded: false,
                        strip: false,
                        lines,
                    })
                }
            } else {
                value_node(&Value::String(text), false)
            };
            top.push(entry("data", map(false, vec![entry("squid.conf", value)])));
        }
        let start = (out.line, out.column);
        let value = if d.flow {
            let v = out.flow(&map(true, top), 2, "");
            out.newline();
            v
        } else {
            out.block_map(&top, 0, "", false)
        };
        let mut positions = std::mem::take(&mut out.positions);
        positions.insert(0, (String::new(), start.0, start.1));
        docs.push((value, positions));
        if d.end_marker {
            out.push("...");
            out.newline();
        }
    }
    Rendered {
        text: out.text,
        docs,
    }
}

// ---------------------------------------------------------------------------
// Mutations of real files
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(Index, u8),
    Truncate(Index),
    DuplicateLine(Index),
    DeleteLine(Index),
    SwapLines(Index, Index),
    Insert(Index, &'static str),
    IndentLine(Index, usize),
}

const SNIPPETS: &[&str] = &[
    "---\n",
    "...\n",
    "\t",
    ":",
    ": ",
    "[",
    "]",
    "{",
    "}",
    "- ",
    "? ",
    "&a ",
    "*a",
    "*zz",
    "!!str ",
    "!!binary ",
    "!<tag:x> ",
    "|\n",
    ">-\n",
    "\"",
    "'",
    "#",
    "\r\n",
    "\r",
    "\u{0}",
    "\u{7}",
    "\u{85}",
    "\u{2028}",
    "\u{feff}",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2000:\n",
    "<<: *a\n",
    "\\",
    ",",
    "@",
    "`",
    "                                        ",
    "\n\n\n",
    "é",
    "😀",
    "0x",
    "1e9999",
    ".nan",
    "a: &a [*a]\n",
    "/",
    "~",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        4 => (any::<Index>(), prop::sample::select(SNIPPETS)).prop_map(|(i, s)| Mutation::Insert(i, s)),
        1 => (any::<Index>(), 1usize..4).prop_map(|(i, n)| Mutation::IndentLine(i, n)),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let mut lines: Vec<Vec<u8>> = bytes
            .split_inclusive(|b| *b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        match m {
            Mutation::FlipBit(i, bit) if !bytes.is_empty() => {
                let at = i.index(bytes.len());
                bytes[at] ^= 1 << bit;
                continue;
            }
            Mutation::Truncate(i) => {
                bytes.truncate(i.index(bytes.len() + 1));
                continue;
            }
            Mutation::Insert(i, s) => {
                let at = i.index(bytes.len() + 1);
                bytes.splice(at..at, s.bytes());
                continue;
            }
            _ if lines.is_empty() => continue,
            Mutation::DuplicateLine(i) => {
                let at = i.index(lines.len());
                let l = lines[at].clone();
                lines.insert(at, l);
            }
            Mutation::DeleteLine(i) => {
                lines.remove(i.index(lines.len()));
            }
            Mutation::SwapLines(a, b) => {
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
            }
            Mutation::IndentLine(i, n) => {
                let at = i.index(lines.len());
                lines[at].splice(0..0, std::iter::repeat_n(b' ', *n));
            }
            Mutation::FlipBit(..) => {}
        }
        bytes = lines.concat();
    }
    // Inputs are read as UTF-8 (a file that is not is a diagnostic of its
    // own); mutated bytes go through the lossy conversion.
    String::from_utf8_lossy(&bytes).into_owned()
}

fn files_under(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            files_under(&e, exts, out);
        } else if e
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| exts.contains(&x))
        {
            out.push(e);
        }
    }
}

/// The YAML and JSON files of tests/fixtures and tests/demo.
fn yaml_corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut files = Vec::new();
        for dir in ["tests/fixtures", "tests/demo"] {
            files_under(&workspace().join(dir), &["yaml", "yml", "json"], &mut files);
        }
        assert!(files.len() > 50, "{files:?}");
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    })
}

fn squid_corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut files = Vec::new();
        files_under(&workspace().join("tests"), &["conf"], &mut files);
        assert!(files.len() >= 5, "{files:?}");
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    })
}

fn mutated(corpus: fn() -> &'static [String]) -> impl Strategy<Value = String> {
    (any::<Index>(), prop::collection::vec(mutation(), 1..8)).prop_map(move |(i, m)| {
        let files = corpus();
        apply(&files[i.index(files.len())], &m)
    })
}

/// Mutations of generated streams too: grammar-shaped text with damage.
fn mutated_stream() -> impl Strategy<Value = String> {
    (stream(), prop::collection::vec(mutation(), 1..6))
        .prop_map(|(s, m)| apply(&render(&s).text, &m))
}

// ---------------------------------------------------------------------------
// The YAML loader
// ---------------------------------------------------------------------------

fn check_within(text: &str, what: &str, line: u32, column: u32) -> Result<(), TestCaseError> {
    let lines = line_count(text);
    prop_assert!(
        line >= 1 && line <= lines + 1 && column >= 1,
        "{what} at {line}:{column} is outside the text ({lines} lines)"
    );
    Ok(())
}

/// Positions of documents and errors are inside the text, and parsing is
/// deterministic.
fn yaml_is_sane(text: &str) -> Result<(Vec<YamlDocument>, Vec<YamlError>), TestCaseError> {
    let parsed = yaml_positions(text);
    let (docs, errors) = &parsed;
    for (line, column, message) in errors {
        check_within(text, &format!("error `{message}`"), *line, *column)?;
    }
    for (_, start, positions) in docs {
        check_within(text, "document start", start.0, start.1)?;
        for (pointer, line, column) in positions {
            check_within(text, &format!("field `{pointer}`"), *line, *column)?;
        }
    }
    prop_assert_eq!(
        &yaml_positions(text),
        &parsed,
        "parsing is not deterministic"
    );
    Ok(parsed)
}

#[test]
fn yaml_generated_streams_have_exact_values_and_positions() {
    fuzz("yaml-grammar", stream(), |s| {
        let r = render(&s);
        let (docs, errors) = yaml_is_sane(&r.text)?;
        prop_assert!(errors.is_empty(), "errors {errors:?} in\n{}", r.text);
        prop_assert_eq!(docs.len(), r.docs.len(), "documents of\n{}", r.text);
        for ((value, _, positions), (want_value, want_positions)) in docs.iter().zip(&r.docs) {
            prop_assert_eq!(value, want_value, "value of\n{}", r.text);
            let mut want = want_positions.clone();
            want.sort();
            let mut got = positions.clone();
            got.sort();
            prop_assert_eq!(got, want, "positions in\n{}", r.text);
        }
        Ok(())
    });
}

#[test]
fn yaml_mutated_files_give_positions_inside_the_text() {
    fuzz("yaml-mutated-files", mutated(yaml_corpus), |text| {
        yaml_is_sane(&text)?;
        Ok(())
    });
}

#[test]
fn yaml_mutated_streams_give_positions_inside_the_text() {
    fuzz("yaml-mutated-streams", mutated_stream(), |text| {
        yaml_is_sane(&text)?;
        Ok(())
    });
}

#[test]
fn yaml_nesting_is_bounded_without_crashing() {
    // The loader refuses more than 256 levels before saphyr's recursive
    // loader runs (see `deep_block_nesting_is_an_error_not_a_crash` below);
    // the generator crosses that limit.
    let strategy = (
        1usize..320,
        prop::sample::select(&["- ", "[", "{a: ", "a:\n"][..]),
        any::<bool>(),
    );
    // About 2 500 distinct inputs, the deepest costly in a debug build: a
    // quarter of the cases.
    fuzz_share("yaml-nesting", 25, strategy, |(depth, opener, leaf)| {
        let text = match opener {
            "a:\n" => {
                (0..depth)
                    .map(|i| format!("{}a:\n", " ".repeat(i)))
                    .collect::<String>()
                    + &" ".repeat(depth)
                    + "x\n"
            }
            "- " => format!("{}x\n", "- ".repeat(depth)),
            "[" => format!(
                "{}{}{}",
                "[".repeat(depth),
                if leaf { "x" } else { "" },
                "]".repeat(depth)
            ),
            _ => format!("{}x{}", "{a: ".repeat(depth), "}".repeat(depth)),
        };
        let (docs, errors) = yaml_is_sane(&text)?;
        if depth <= 200 {
            prop_assert!(errors.is_empty(), "depth {depth}: {errors:?}");
            prop_assert_eq!(docs.len(), 1);
        } else if depth >= 260 {
            prop_assert!(!errors.is_empty(), "depth {depth} accepted");
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// The whole loader, through the library API
// ---------------------------------------------------------------------------

fn checker() -> &'static Checker {
    static CHECKER: OnceLock<Checker> = OnceLock::new();
    CHECKER.get_or_init(|| engine().checker(&PolicySet::empty(), Vec::new()).unwrap())
}

/// Checks `text` as one input file: every diagnostic is located inside it
/// (or names no place), and the report is the same twice.
fn loader_is_sane(name: &str, text: &str) -> Result<Report, TestCaseError> {
    let inputs = Inputs::new().text(name, text);
    let report = checker().check(&inputs);
    for d in &report.diagnostics {
        if let Some(l) = &d.location {
            prop_assert_eq!(&l.file, name, "{}", d.message);
            check_within(text, &d.message, l.line, l.column)?;
        }
    }
    let again = checker().check(&inputs);
    prop_assert_eq!(
        palisade::render::json(&again),
        palisade::render::json(&report),
        "checking is not deterministic"
    );
    Ok(report)
}

#[test]
fn loader_reports_generated_streams_inside_the_text() {
    fuzz("loader-grammar", stream(), |s| {
        loader_is_sane("fuzz.yaml", &render(&s).text)?;
        Ok(())
    });
}

#[test]
fn loader_reports_mutated_files_inside_the_text() {
    let strategy = prop_oneof![mutated(yaml_corpus), mutated_stream()];
    fuzz("loader-mutated", strategy, |text| {
        loader_is_sane("fuzz.yaml", &text)?;
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// Squid configurations
// ---------------------------------------------------------------------------

/// One line of a generated squid configuration and what the parser must
/// say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Good,
    Bad,
    /// Garbage or forms whose verdict the grammar does not fix.
    Any,
}

#[derive(Debug, Clone)]
enum SquidLine {
    Acl {
        name: String,
        kind: &'static str,
        flags: Vec<&'static str>,
        values: Vec<(String, bool)>,
    },
    Access {
        action: &'static str,
        acls: Vec<(bool, AclRef)>,
    },
    Port(&'static str, Verdict),
    Log(Option<&'static str>),
    Include(&'static str),
    HostsFile(&'static str),
    Comment(String),
    Blank(&'static str),
    Garbage(String),
}

#[derive(Debug, Clone)]
enum AclRef {
    Builtin(&'static str),
    /// The name of an ACL defined by a Good `acl` line (by index), or an
    /// undefined name when there is none.
    Defined(Index),
    Undefined(String),
}

const ACL_TYPES: &[&str] = &[
    "src",
    "dst",
    "dstdomain",
    "dstdom_regex",
    "port",
    "localport",
    "method",
    "proto",
    "myportname",
    "url_regex",
    "time",
    "browser",
    "external",
];

/// A value for an ACL type and whether the parser accepts it.
fn acl_value(kind: &'static str) -> BoxedStrategy<(String, bool)> {
    let good =
        |s: &'static [&'static str]| prop::sample::select(s).prop_map(|v| (v.to_string(), true));
    let bad =
        |s: &'static [&'static str]| prop::sample::select(s).prop_map(|v| (v.to_string(), false));
    match kind {
        "src" | "dst" => prop_oneof![
            3 => good(&["10.0.0.0/8", "192.168.1.1", "0.0.0.0/0", "::1", "fd00::/8", "all", "169.254.169.254/32", "::/0", "10.0.0.1-10.0.0.5", "10.0.0.9-10.0.0.1", "10.0.0.0/255.0.0.0", "ipv6"]),
            1 => (any::<[u8; 4]>(), 0u8..=32).prop_map(|(a, p)| (format!("{}.{}.{}.{}/{p}", a[0], a[1], a[2], a[3]), true)),
            1 => good(&["localhost", "proxy.internal", "::/0", "0/0", "1.2.3", "127.1", "0x7f.1", "2130706433"]),
            1 => bad(&["[::1]", "300.1.1.1", "10.0.0.0/33", "non_sense", "::/129", "1.2.3.256", "10.0.0.1-::1", "name.test/24"]),
        ]
        .boxed(),
        // No `.wildcard`s: one written after a name it covers is an error
        // whatever line it is on (the squid module's tests cover that).
        "dstdomain" => prop_oneof![
            3 => "[a-z0-9-]{1,10}(\\.[a-z]{2,5}){0,2}".prop_map(|v| (v, true)),
            1 => good(&[".", "EXAMPLE.COM", "é.test", "169.254.169.254"]),
        ]
        .boxed(),
        "dstdom_regex" => prop_oneof![
            3 => good(&["^api\\.", "\\.example\\.com$", "(a|b)+", ".*", "^[0-9.]+$"]),
            1 => bad(&["(", "[z-a]", "a{2,1}", "\\"]),
            // Accepted or rejected by the regex size limit: either is fine.
            1 => Just(("(a{1000}){1000}".to_string(), false)),
        ]
        .boxed(),
        "port" | "localport" => prop_oneof![
            3 => (0u16..=65535).prop_map(|p| (p.to_string(), true)),
            2 => (0u16..1000, 0u16..65535).prop_map(|(a, d)| {
                let b = a.saturating_add(d);
                (format!("{a}-{b}"), true)
            }),
            1 => bad(&["70000", "1024-1", "-5", "5-", "http", "1-2-3", ""]),
        ]
        .boxed(),
        "method" => good(&["GET", "CONNECT", "POST", "get", "PURGE"]).boxed(),
        "proto" => good(&["http", "HTTPS", "FTP", "AUTHORITY"]).boxed(),
        "myportname" => good(&["3128", "proxy", "é"]).boxed(),
        _ => good(&["x", "^http://", "MTWHF", "09:00-17:00"]).boxed(),
    }
}

fn acl_line() -> impl Strategy<Value = SquidLine> {
    prop::sample::select(ACL_TYPES).prop_flat_map(|kind| {
        (
            Just(kind),
            0u8..4,
            prop::collection::vec(prop::sample::select(&["-i", "-n", "+i"][..]), 0..2),
            prop::collection::vec(acl_value(kind), 0..4),
        )
            .prop_map(|(kind, n, flags, values)| SquidLine::Acl {
                // One name per type: lines with the same name add up.
                name: format!("{}_{n}", kind.replace('_', "")),
                kind,
                flags,
                values: values.into_iter().filter(|(v, _)| !v.is_empty()).collect(),
            })
    })
}

fn squid_line() -> impl Strategy<Value = SquidLine> {
    let acl_ref = prop_oneof![
        2 => prop::sample::select(&["all", "localhost", "to_localhost", "CONNECT", "manager"][..]).prop_map(AclRef::Builtin),
        4 => any::<Index>().prop_map(AclRef::Defined),
        1 => "[a-z]{1,6}".prop_map(AclRef::Undefined),
    ];
    prop_oneof![
        6 => acl_line(),
        4 => (
            prop::sample::select(&["allow", "deny", "allow", "deny", "permit", ""][..]),
            prop::collection::vec((any::<bool>(), acl_ref), 0..4),
        )
            .prop_map(|(action, acls)| SquidLine::Access { action, acls }),
        2 => prop_oneof![
            prop::sample::select(&["3128", "0.0.0.0:3128", "[::]:3128", "[::1]:8080", "127.0.0.1:3129 intercept", "3128 name=proxy", "::1:3128", "8080 ssl-bump tls-cert=/x"][..])
                .prop_map(|p| SquidLine::Port(p, Verdict::Good)),
            prop::sample::select(&["", "abc", "0", "70000", "host:abc", "3128:"][..])
                .prop_map(|p| SquidLine::Port(p, Verdict::Bad)),
        ],
        1 => prop::option::of(prop::sample::select(&["none", "stdio:/var/log/squid/access.log", "daemon:/x squid"][..])).prop_map(SquidLine::Log),
        1 => prop::sample::select(&["squid.conf", "inc.conf", "missing.conf", "/dev/null", ".", "../squid.conf", ""][..]).prop_map(SquidLine::Include),
        1 => prop::sample::select(&["hosts", "missing-hosts", "/dev/null", ".", ""][..]).prop_map(SquidLine::HostsFile),
        1 => comment().prop_map(SquidLine::Comment),
        1 => prop::sample::select(&["", "   ", "\t", " \t "][..]).prop_map(SquidLine::Blank),
        2 => prop_oneof![
            "[ -~]{0,40}",
            "[a-z_]{1,12} [ -~é中\t]{0,30}",
            Just("acl".to_string()),
            Just("acl x".to_string()),
            Just("http_access".to_string()),
            Just("acl x src \"/etc/squid/clients\"".to_string()),
        ]
        .prop_map(SquidLine::Garbage),
    ]
}

#[derive(Debug, Clone)]
struct SquidConf {
    lines: Vec<SquidLine>,
    crlf: bool,
    trailing_newline: bool,
}

fn squid_conf() -> impl Strategy<Value = SquidConf> {
    (
        prop::collection::vec(squid_line(), 0..30),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.9),
    )
        .prop_map(|(lines, crlf, trailing_newline)| SquidConf {
            lines,
            crlf,
            trailing_newline,
        })
}

/// The text, and per line (1-based, in order) what the parser must say when
/// the file is parsed standalone (includes cannot be followed).
fn render_squid(conf: &SquidConf) -> (String, Vec<Verdict>) {
    // ACL names defined by at least one accepted line.
    let mut defined: Vec<String> = Vec::new();
    for l in &conf.lines {
        if let SquidLine::Acl { name, values, .. } = l
            && acl_good(values)
            && !defined.contains(name)
        {
            defined.push(name.clone());
        }
    }
    let mut text = String::new();
    let mut verdicts = Vec::new();
    for l in &conf.lines {
        let (line, verdict) = match l {
            SquidLine::Acl {
                name,
                kind,
                flags,
                values,
            } => {
                let mut words = vec!["acl".to_string(), name.clone(), kind.to_string()];
                words.extend(flags.iter().map(|f| f.to_string()));
                words.extend(values.iter().map(|(v, _)| v.clone()));
                let verdict = if values.is_empty() {
                    Verdict::Bad
                } else if acl_good(values) {
                    Verdict::Good
                } else if *kind == "dstdom_regex" {
                    Verdict::Any
                } else {
                    Verdict::Bad
                };
                (
                    words.join(if name.len() % 2 == 0 { " " } else { " \t " }),
                    verdict,
                )
            }
            SquidLine::Access { action, acls } => {
                let mut verdict = match *action {
                    "allow" | "deny" => Verdict::Good,
                    _ => Verdict::Bad,
                };
                let mut words = vec!["http_access".to_string(), action.to_string()];
                for (negate, r) in acls {
                    let name = match r {
                        AclRef::Builtin(b) => b.to_string(),
                        AclRef::Defined(i) if !defined.is_empty() => {
                            defined[i.index(defined.len())].clone()
                        }
                        AclRef::Defined(_) => {
                            verdict = Verdict::Bad;
                            "undefined_acl".to_string()
                        }
                        AclRef::Undefined(u) => {
                            verdict = Verdict::Bad;
                            format!("nodef{u}")
                        }
                    };
                    words.push(format!("{}{name}", if *negate { "!" } else { "" }));
                }
                if action.is_empty() {
                    // `http_access` alone, or with an ACL where the action goes.
                    verdict = Verdict::Bad;
                }
                (words.join(" "), verdict)
            }
            SquidLine::Port(p, v) => (format!("http_port {p}"), *v),
            SquidLine::Log(Some(v)) => (format!("access_log {v}"), Verdict::Good),
            SquidLine::Log(None) => ("access_log".to_string(), Verdict::Bad),
            // Standalone, an include cannot be followed: always an error.
            SquidLine::Include(t) => (format!("include {t}"), Verdict::Bad),
            SquidLine::HostsFile(t) => (format!("hosts_file {t}"), Verdict::Good),
            SquidLine::Comment(c) => (format!("# {c}"), Verdict::Good),
            SquidLine::Blank(b) => (b.to_string(), Verdict::Good),
            SquidLine::Garbage(g) => (g.clone(), Verdict::Any),
        };
        text.push_str(&line);
        text.push_str(if conf.crlf { "\r\n" } else { "\n" });
        verdicts.push(verdict);
    }
    if !conf.trailing_newline {
        text.pop();
        if conf.crlf {
            text.pop();
        }
    }
    (text, verdicts)
}

/// Whether the parser accepts an `acl` line with these values. Generated
/// names never collide with squid's predefined ones, nor across types.
fn acl_good(values: &[(String, bool)]) -> bool {
    !values.is_empty() && values.iter().all(|(_, ok)| *ok)
}

/// Error lines are inside the file and parsing is deterministic.
fn squid_is_sane(text: &str) -> Result<Vec<(u32, String)>, TestCaseError> {
    let start = Instant::now();
    let errors = squid_errors(text);
    let lines = u32::try_from(text.lines().count()).unwrap();
    for (line, message) in &errors {
        prop_assert!(
            *line >= 1 && *line <= lines,
            "error `{message}` on line {line} of {lines}"
        );
    }
    prop_assert!(
        start.elapsed() < Duration::from_secs(5),
        "parsing took {:?}",
        start.elapsed()
    );
    prop_assert_eq!(
        squid_errors(text),
        errors.clone(),
        "parsing is not deterministic"
    );
    Ok(errors)
}

#[test]
fn squid_generated_configs_are_judged_line_by_line() {
    fuzz("squid-grammar", squid_conf(), |conf| {
        let (text, verdicts) = render_squid(&conf);
        let errors = squid_is_sane(&text)?;
        for (n, v) in verdicts.iter().enumerate() {
            let line = u32::try_from(n + 1).unwrap();
            let here: Vec<&String> = errors
                .iter()
                .filter(|(l, _)| *l == line)
                .map(|(_, m)| m)
                .collect();
            match v {
                Verdict::Good => {
                    prop_assert!(here.is_empty(), "line {line} rejected: {here:?}\n{text}")
                }
                Verdict::Bad => prop_assert!(!here.is_empty(), "line {line} accepted\n{text}"),
                Verdict::Any => {}
            }
        }
        Ok(())
    });
}

#[test]
fn squid_mutated_configs_keep_errors_inside_the_file() {
    let strategy = prop_oneof![
        mutated(squid_corpus),
        (squid_conf(), prop::collection::vec(mutation(), 1..6))
            .prop_map(|(c, m)| apply(&render_squid(&c).0, &m)),
    ];
    fuzz("squid-mutated", strategy, |text| {
        squid_is_sane(&text)?;
        Ok(())
    });
}

/// A fresh directory for one case's files, removed when dropped (also when
/// the case fails, which shrinking does many times).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

fn scratch_dir() -> Scratch {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "palisade-fuzz-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

#[test]
fn squid_files_with_includes_parse_and_evaluate() {
    let request = (
        any::<[u8; 4]>(),
        prop::sample::select(&["GET", "CONNECT", "POST"][..]),
        prop::sample::select(
            &[
                "api.example.com",
                "169.254.169.254",
                "[::1]",
                "EXAMPLE.com",
                "a.test",
                "",
            ][..],
        ),
        any::<u16>(),
    );
    let strategy = (
        squid_conf(),
        squid_conf(),
        "([0-9.]{1,15} [a-z.]{1,12}\n){0,4}",
        prop::collection::vec(request, 1..4),
    );
    fuzz(
        "squid-files",
        strategy,
        |(main, included, hosts, requests)| {
            let dir = scratch_dir();
            let (main_text, _) = render_squid(&main);
            let (inc_text, _) = render_squid(&included);
            std::fs::write(dir.join("squid.conf"), &main_text).unwrap();
            std::fs::write(dir.join("inc.conf"), &inc_text).unwrap();
            std::fs::write(dir.join("hosts"), &hosts).unwrap();
            let start = Instant::now();
            let config = ProxyConfig::from_file(dir.join("squid.conf")).unwrap();
            let elapsed = start.elapsed();
            let texts = [("squid.conf", &main_text), ("inc.conf", &inc_text)];
            for e in config.errors() {
                let (file, line) = texts
                    .iter()
                    .find_map(|(name, text)| {
                        let prefix = format!("{}:", dir.join(name).display());
                        e.strip_prefix(&prefix).map(|rest| (text, rest))
                    })
                    .unwrap_or_else(|| panic!("error in an unexpected file: {e}"));
                let line: u32 = line.split(':').next().unwrap().parse().unwrap();
                prop_assert!(line >= 1 && line as usize <= file.lines().count(), "{e}");
            }
            for ([a, b, c, d], method, host, port) in requests {
                let client = std::net::IpAddr::from([a, b, c, d]);
                let v = config.trace(client, method, host, port, None);
                if let Some(l) = &v.line {
                    prop_assert!(
                        l.line >= 1
                            && l.line as usize
                                <= main_text.lines().count().max(inc_text.lines().count()),
                        "{}",
                        v.reason
                    );
                }
                prop_assert_eq!(
                    serde_json::to_string(&config.trace(client, method, host, port, None)).unwrap(),
                    serde_json::to_string(&v).unwrap()
                );
            }
            prop_assert!(elapsed < Duration::from_secs(5), "parsing took {elapsed:?}");
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------
// Policy sets, exemptions, suites
// ---------------------------------------------------------------------------

/// One thing wrong with a generated configuration file, and the JSON pointer
/// of the field the error must point at (`None`: the error names no field).
#[derive(Debug, Clone)]
struct Fault {
    what: &'static str,
    at: Option<String>,
}

/// Renders a JSON value as YAML in block or flow style through the same
/// renderer as the streams, so positions are known.
fn value_node(v: &Value, flow: bool) -> Node {
    match v {
        Value::Null => Node::Scalar(Scalar::Null(false)),
        Value::Bool(b) => Node::Scalar(Scalar::Bool(*b)),
        Value::Number(n) => Node::Scalar(Scalar::Int(n.as_i64().unwrap())),
        Value::String(s) => Node::Scalar(Scalar::Double(
            s.chars()
                .map(|c| {
                    let read = c.to_string();
                    let written = match c {
                        '"' => "\\\"".to_string(),
                        '\\' => "\\\\".to_string(),
                        '\n' => "\\n".to_string(),
                        '\r' => "\\r".to_string(),
                        c => c.to_string(),
                    };
                    (written, read)
                })
                .collect(),
        )),
        Value::Array(items) => Node::Seq {
            flow,
            items: items.iter().map(|i| value_node(i, flow)).collect(),
        },
        Value::Object(m) => map(
            flow,
            m.iter()
                .map(|(k, v)| Entry {
                    key: Key::Plain(k.clone()),
                    value: value_node(v, flow),
                    anchor: false,
                    comment_before: None,
                    comment_after: None,
                })
                .collect(),
        ),
    }
}

/// YAML text for `value` (block style at the top), and the position of every
/// field.
fn render_value(value: &Value, flow_inside: bool) -> (String, Vec<(String, u32, u32)>) {
    let Node::Map { entries, .. } = value_node(value, flow_inside) else {
        unreachable!()
    };
    let mut out = Out {
        text: String::new(),
        line: 1,
        column: 1,
        nl: "\n",
        positions: Vec::new(),
        anchors: Vec::new(),
        anchor_names: 0,
    };
    let rendered = out.block_map(&entries, 0, "", false);
    assert_eq!(&rendered, value);
    (out.text, out.positions)
}

fn sha() -> impl Strategy<Value = String> {
    "[0-9a-f]{64}"
}

fn policy_set() -> impl Strategy<Value = (Value, Option<Fault>)> {
    let plugin = prop_oneof![
        prop::sample::select(
            &[
                "default-deny",
                "proxy-egress",
                "rbac-control-paths",
                "squid",
                "nope"
            ][..]
        )
        .prop_map(|b| json!({"builtin": b})),
        ("[a-z]{1,8}\\.wasm", sha()).prop_map(|(p, s)| json!({"path": p, "sha256": s})),
    ];
    let plugin = (
        plugin,
        prop::collection::vec("[A-Z]{2}[0-9]{3}", 0..3),
        prop::collection::btree_map(
            "[A-Z]{2}[0-9]{3}",
            prop::sample::select(&["info", "warning", "error"][..]),
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(mut p, disabled, severity, settings)| {
            if !disabled.is_empty() {
                p["disabledRules"] = json!(disabled);
            }
            if !severity.is_empty() {
                p["severity"] = json!(severity);
            }
            if settings {
                p["settings"] = json!({"allowedSubjects": ["platform-admins"], "ports": [3128]});
            }
            p
        });
    let faults = prop::sample::select(
        &[
            "none",
            "none",
            "none",
            "severity",
            "sha",
            "unpinned",
            "both",
            "unknown-field",
            "kind",
            "type",
        ][..],
    );
    (
        "[a-z][a-z0-9-]{0,12}",
        prop::collection::vec("[a-z-]{1,12}", 0..4),
        prop::collection::vec(plugin, 1..4),
        any::<bool>(),
        prop::option::of("[a-z/]{1,12}\\.yaml"),
        prop::collection::vec("[a-z/]{1,12}\\.conf", 0..2),
        faults,
        any::<Index>(),
    )
        .prop_map(|(name, excluded, mut plugins, annotations, exemptions, proxies, fault, i)| {
            let n = i.index(plugins.len());
            let base = format!("/spec/plugins/{n}");
            let at = match fault {
                "severity" => {
                    plugins[n]["severity"] = json!({"NP001": "fatal"});
                    Some(format!("{base}/severity/NP001"))
                }
                "sha" => {
                    plugins[n] = json!({"path": "x.wasm", "sha256": "12ab"});
                    Some(format!("{base}/sha256"))
                }
                "unpinned" => {
                    plugins[n] = json!({"path": "x.wasm"});
                    Some(format!("{base}/path"))
                }
                "both" => {
                    plugins[n] = json!({"builtin": "squid", "path": "x.wasm"});
                    Some(base)
                }
                "unknown-field" => {
                    plugins[n]["plugns"] = json!([]);
                    Some(String::new())
                }
                "type" => {
                    plugins[n]["disabledRules"] = json!("NP001");
                    Some(String::new())
                }
                "kind" => Some("/apiVersion".to_string()),
                _ => None,
            };
            let mut spec = json!({"excludedNamespaces": excluded, "plugins": plugins, "annotationExemptions": annotations, "proxyConfigs": proxies});
            if let Some(e) = exemptions {
                spec["exemptions"] = json!(e);
            }
            let v = json!({
                "apiVersion": "palisade.dev/v1alpha1",
                "kind": if fault == "kind" { "PolicySt" } else { "PolicySet" },
                "metadata": {"name": name},
                "spec": spec,
            });
            (v, at.map(|at| Fault { what: fault, at: Some(at) }))
        })
}

fn exemptions_file() -> impl Strategy<Value = (Value, Option<Fault>)> {
    let entry = (
        prop::collection::vec("[A-Z]{2,3}[0-9]{3}", 1..3),
        prop::option::of("[a-z-]{1,10}"),
        prop::option::of(prop::sample::select(&["Deployment", "Pod", "CronJob"][..])),
        prop::option::of("[a-z-]{1,10}"),
        prop::option::of(prop::collection::btree_map("[a-z]{1,6}", "[a-z0-9]{1,6}", 0..3)),
        "[a-zA-Z][a-zA-Z0-9 ;:-]{0,30}",
        (1990i32..2100, 1u32..=12, 1u32..=28),
    )
        .prop_map(|(rules, namespace, kind, name, labels, reason, (y, m, d))| {
            let mut e = json!({"rules": rules, "reason": reason, "expires": format!("{y:04}-{m:02}-{d:02}")});
            if let Some(v) = namespace {
                e["namespace"] = json!(v);
            }
            if let Some(v) = kind {
                e["kind"] = json!(v);
            }
            if let Some(v) = name {
                e["name"] = json!(v);
            }
            if let Some(v) = labels {
                e["labels"] = json!(v);
            }
            e
        });
    let faults = prop::sample::select(
        &[
            "none", "none", "date", "feb30", "reason", "rules", "missing", "kind",
        ][..],
    );
    (prop::collection::vec(entry, 1..5), faults, any::<Index>()).prop_map(
        |(mut entries, fault, i)| {
            let n = i.index(entries.len());
            let base = format!("/exemptions/{n}");
            let at = match fault {
                "date" => {
                    entries[n]["expires"] = json!("31/03/2027");
                    Some(format!("{base}/expires"))
                }
                "feb30" => {
                    entries[n]["expires"] = json!("2027-02-30");
                    Some(format!("{base}/expires"))
                }
                "reason" => {
                    entries[n]["reason"] = json!("   ");
                    Some(format!("{base}/reason"))
                }
                "rules" => {
                    entries[n]["rules"] = json!([]);
                    Some(format!("{base}/rules"))
                }
                "missing" => {
                    entries[n].as_object_mut().unwrap().remove("expires");
                    Some(String::new())
                }
                "kind" => Some("/apiVersion".to_string()),
                _ => None,
            };
            let v = json!({
                "apiVersion": "palisade.dev/v1alpha1",
                "kind": if fault == "kind" { "Exemption" } else { "Exemptions" },
                "exemptions": entries,
            });
            (
                v,
                at.map(|at| Fault {
                    what: fault,
                    at: Some(at),
                }),
            )
        },
    )
}

/// The error of a loader: located inside the file (a stream with other than
/// one document too: at its second document, or at the start).
fn error_is_located(name: &str, text: &str, e: &palisade::Error) -> Result<(), TestCaseError> {
    match e.location() {
        Some(l) => {
            prop_assert_eq!(&l.file, name);
            check_within(text, e.message(), l.line, l.column)?;
        }
        None => prop_assert!(false, "error without a location: {e}"),
    }
    Ok(())
}

/// Generated files (clean or with one fault) parse or fail exactly where the
/// fault is; mutated ones fail inside the file.
fn config_case(
    value: &Value,
    fault: &Option<Fault>,
    flow: bool,
    mutations: &[Mutation],
    parse: impl Fn(&str, &str) -> Result<(), palisade::Error>,
) -> Result<(), TestCaseError> {
    let (clean, positions) = render_value(value, flow);
    let text = apply(&clean, mutations);
    let name = "fuzz.yaml";
    let result = parse(name, &text);
    prop_assert_eq!(&parse(name, &text), &result, "parsing is not deterministic");
    if let Err(e) = &result {
        error_is_located(name, &text, e)?;
    }
    if !mutations.is_empty() {
        return Ok(());
    }
    match (fault, &result) {
        (None, Ok(())) => {}
        (None, Err(e)) => prop_assert!(false, "rejected: {e}\n{text}"),
        (Some(f), Ok(())) => prop_assert!(false, "fault `{}` accepted\n{text}", f.what),
        (Some(f), Err(e)) => {
            if let Some(at) = &f.at {
                let want = if at.is_empty() {
                    (1, 1)
                } else {
                    let (_, l, c) = positions.iter().find(|(p, _, _)| p == at).unwrap();
                    (*l, *c)
                };
                let got = e.location().map(|l| (l.line, l.column));
                prop_assert_eq!(got, Some(want), "fault `{}`: {}\n{}", f.what, e, text);
            }
        }
    }
    Ok(())
}

fn maybe_mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop_oneof![
        1 => Just(Vec::new()),
        1 => prop::collection::vec(mutation(), 1..6),
    ]
}

#[test]
fn policy_sets_parse_or_fail_inside_the_file() {
    fuzz(
        "policy-sets",
        (policy_set(), any::<bool>(), maybe_mutations()),
        |((v, fault), flow, m)| {
            config_case(&v, &fault, flow, &m, |name, text| {
                PolicySet::parse(name, text).map(|set| {
                    assert!(!set.name().is_empty() || !m.is_empty());
                })
            })
        },
    );
}

#[test]
fn exemptions_parse_or_fail_inside_the_file() {
    fuzz(
        "exemptions",
        (exemptions_file(), any::<bool>(), maybe_mutations()),
        |((v, fault), flow, m)| {
            config_case(&v, &fault, flow, &m, |name, text| {
                Exemptions::parse(name, text).map(|_| ())
            })
        },
    );
}

fn suite_file() -> impl Strategy<Value = (Value, bool)> {
    let expect = (
        "[A-Z]{2}[0-9]{3}",
        prop::sample::select(&["Deployment shop/web", "Namespace shop", "Pod a/b"][..]),
        prop::option::of("(/[a-z]{1,6}){1,3}"),
    )
        .prop_map(|(rule, object, path)| {
            let mut e = json!({"rule": rule, "object": object});
            if let Some(p) = path {
                e["path"] = json!(p);
            }
            e
        });
    let case = (
        "[a-z ]{1,12}",
        prop::collection::vec(prop::sample::select(&["a.yaml", "b.yaml"][..]), 1..3),
        prop::collection::vec(expect, 0..3),
    )
        .prop_map(
            |(name, inputs, expect)| json!({"name": name, "inputs": inputs, "expect": expect}),
        );
    (
        prop::option::of("[A-Z]{2}[0-9]{3}"),
        prop_oneof![
            Just(None),
            Just(Some(json!({"plugins": [{"builtin": "default-deny"}]}))),
            Just(Some(json!({"policy": "policy.yaml"}))),
            Just(Some(json!({"policy": "missing.yaml"}))),
            Just(Some(json!({"policy": "policy.yaml", "plugins": []}))),
        ],
        prop::collection::vec(case, 0..3),
        any::<bool>(),
    )
        .prop_map(|(rule, source, cases, bad_kind)| {
            let mut spec = json!({"cases": cases});
            if let Some(r) = rule {
                spec["rule"] = json!(r);
            }
            let mut valid = !bad_kind;
            if let Some(Value::Object(s)) = source {
                valid &= !(s.contains_key("plugins") && s.contains_key("policy"))
                    && s.get("policy") != Some(&json!("missing.yaml"));
                for (k, v) in s {
                    spec[k] = v;
                }
            }
            let v = json!({
                "apiVersion": "palisade.dev/v1alpha1",
                "kind": if bad_kind { "Suite" } else { "TestSuite" },
                "metadata": {"name": "fuzz"},
                "spec": spec,
            });
            (v, valid)
        })
}

#[test]
fn suites_load_or_fail_inside_the_file() {
    let fixture = prop_oneof![
        Just("# expect: NP001 Deployment shop/web /metadata/name\nkind: X\n".to_string()),
        "(# expect:[ A-Za-z0-9/]{0,30}\n){1,3}",
        "[ -~\n]{0,60}",
    ];
    let strategy = (suite_file(), any::<bool>(), maybe_mutations(), fixture);
    fuzz("suites", strategy, |((v, valid), flow, m, fixture)| {
        let dir = scratch_dir();
        let (clean, _) = render_value(&v, flow);
        let text = apply(&clean, &m);
        let file = dir.join("suite.yaml");
        std::fs::write(&file, &text).unwrap();
        std::fs::write(dir.join("policy.yaml"), palisade_policy()).unwrap();
        std::fs::write(dir.join("fail-x.yaml"), &fixture).unwrap();
        let result = palisade::suite::Suite::load(&file);
        let name = file.display().to_string();
        match &result {
            Ok(_) => {}
            // Suite errors name the suite file first; YAML errors locate it.
            Err(e) if e.location().is_none() => prop_assert!(
                e.message().starts_with(&name)
                    || e.message().contains("must hold exactly one YAML document"),
                "{e}"
            ),
            Err(e) => error_is_located(&name, &text, e)?,
        }
        let fixture_ok = fixture.lines().all(|l| {
            let Some(rest) = l.trim_start().strip_prefix("# expect:") else {
                return true;
            };
            let w: Vec<&str> = rest.split_whitespace().collect();
            w.len() == 3 || (w.len() == 4 && w[3].starts_with('/'))
        }) && fixture
            .lines()
            .any(|l| l.trim_start().starts_with("# expect:"));
        if m.is_empty() {
            prop_assert_eq!(
                result.is_ok(),
                valid && fixture_ok,
                "{:?}\n{}\n{}",
                result.err(),
                text,
                fixture
            );
        }
        Ok(())
    });
}

fn palisade_policy() -> String {
    std::fs::read_to_string(workspace().join("policies/default.yaml")).unwrap()
}

// ---------------------------------------------------------------------------
// Crashes found, kept as regression cases
// ---------------------------------------------------------------------------

/// Found by `squid-files`: a configuration that includes itself twice was
/// parsed 2^16 times (three times: never finished), and `include /dev/zero`
/// read forever. Cycles are now errors at the include line, and included
/// files are bounded in number and size.
#[test]
fn squid_self_includes_end_quickly() {
    let dir = scratch_dir();
    let text = "include squid.conf\ninclude squid.conf\ninclude squid.conf\ninclude /dev/zero\nacl a src 10.0.0.0/8\nhttp_access allow a\n";
    std::fs::write(dir.join("squid.conf"), text).unwrap();
    let start = Instant::now();
    let config = ProxyConfig::from_file(dir.join("squid.conf")).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(config.error_lines(), [1, 2, 3, 4], "{:#?}", config.errors());
    assert!(
        config.errors()[0].contains("makes a cycle"),
        "{:#?}",
        config.errors()
    );
    assert!(
        config.errors()[3].contains("is outside"),
        "{:#?}",
        config.errors()
    );
}

/// Found while writing `yaml-nesting`: saphyr's loader recurses once per
/// level of block nesting without a limit, so `- - - … x` (2 bytes a level)
/// overflowed the stack and aborted the process before the loader's own
/// 256-level check ran. Nesting is now counted on the event stream first.
/// Run in a child process, so a regression aborts the child, not the suite.
#[test]
fn deep_block_nesting_is_an_error_not_a_crash() {
    if std::env::var_os("PALISADE_FUZZ_DEEP_CHILD").is_some() {
        let text = format!("{}x\n", "- ".repeat(100_000));
        let (_, errors) = yaml_positions(&text);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].2.contains("nesting deeper than 256"),
            "{errors:?}"
        );
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "deep_block_nesting_is_an_error_not_a_crash",
            "--nocapture",
        ])
        .env("PALISADE_FUZZ_DEEP_CHILD", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Found by `loader-grammar`: a ConfigMap's `squid.conf` written as one
/// quoted line with `\n` escapes had its errors numbered past the end of the
/// file (the key's line plus the line within the configuration). Lines are
/// now the file's only when the configuration is written line by line.
#[test]
fn quoted_squid_configs_in_config_maps_point_at_their_key() {
    let quoted = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: squid, namespace: p}\ndata: {squid.conf: \"acl a src\\nacl b src\\nacl c src\\n\"}\n";
    let report = checker().check(&Inputs::new().text("q.yaml", quoted));
    let lines: Vec<u32> = report
        .diagnostics
        .iter()
        .map(|d| d.location.as_ref().unwrap().line)
        .collect();
    assert_eq!(lines, [4, 4, 4], "{:#?}", report.diagnostics);
    let block = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: squid, namespace: p}\ndata:\n  squid.conf: |\n    acl a src 10.0.0.0/8\n    acl b src\n";
    let report = checker().check(&Inputs::new().text("b.yaml", block));
    let lines: Vec<u32> = report
        .diagnostics
        .iter()
        .map(|d| d.location.as_ref().unwrap().line)
        .collect();
    assert_eq!(lines, [7], "{:#?}", report.diagnostics);
}

/// Found by `suites`: a suite whose `policy` cannot be read failed with an
/// error that named neither the suite file nor the field.
#[test]
fn an_unreadable_suite_policy_points_at_the_field() {
    let dir = scratch_dir();
    let file = dir.join("suite.yaml");
    std::fs::write(
        &file,
        "apiVersion: palisade.dev/v1alpha1\nkind: TestSuite\nspec:\n  policy: missing.yaml\n",
    )
    .unwrap();
    let e = palisade::suite::Suite::load(&file).unwrap_err();
    let l = e.location().unwrap();
    assert_eq!(
        (l.file.as_str(), l.line, l.column),
        (file.display().to_string().as_str(), 4, 3),
        "{e}"
    );
}

// ---------------------------------------------------------------------------
// The cloud readers: Terraform and AWS CLI JSON, mutated node by node
// ---------------------------------------------------------------------------

/// The cloud fixtures, parsed: real Terraform plans, a state, AWS CLI output.
fn cloud_corpus() -> &'static [Value] {
    static CORPUS: OnceLock<Vec<Value>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = workspace().join("tests/cloud");
        let mut files = vec![
            root.join("terraform-state/existing-vpc.json"),
            root.join("aws-cli/account.json"),
        ];
        for entry in std::fs::read_dir(root.join("terraform")).unwrap() {
            files.push(entry.unwrap().path().join("plan.json"));
        }
        files.sort();
        files
            .iter()
            .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
            .collect()
    })
}

/// Every node of a JSON value, as JSON pointers.
fn json_pointers(v: &Value, at: &str, out: &mut Vec<String>) {
    out.push(at.to_string());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                json_pointers(child, &format!("{at}/{}", escape_pointer(k)), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                json_pointers(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// What a mutation puts in place of a node.
fn cloud_replacement(kind: u8, number: i64, pick: usize) -> Option<Value> {
    const WORDS: &[&str] = &[
        "0.0.0.0/0",
        "::/0",
        "10.0.0.0/8",
        "not-a-cidr",
        "-1",
        "tcp",
        "all",
        "allow",
        "deny",
        "local",
        "igw-1",
        "nat-1",
        "aws_vpc.main",
        "aws_subnet.workloads[0]",
        "var.x",
        "module.edge.nat_gateway_id",
        "each.value.id",
        "count.index",
        "2.0",
        "1.2",
        "",
    ];
    Some(match kind % 8 {
        0 => Value::Null,
        1 => Value::Bool(number % 2 == 0),
        2 => Value::from(number),
        3 => Value::String(WORDS[pick % WORDS.len()].to_string()),
        4 => json!([]),
        5 => json!({}),
        6 => json!([WORDS[pick % WORDS.len()], {"references": [WORDS[(pick + 1) % WORDS.len()]]}]),
        _ => return None, // delete
    })
}

/// Replaces (or deletes) the node at `pointer`.
fn cloud_mutate(v: &mut Value, pointer: &str, with: Option<Value>) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        if let Some(w) = with {
            *v = w;
        }
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    match (v.pointer_mut(parent), with) {
        (Some(Value::Object(map)), Some(w)) => {
            map.insert(last, w);
        }
        (Some(Value::Object(map)), None) => {
            map.remove(&last);
        }
        (Some(Value::Array(items)), w) => {
            if let Ok(i) = last.parse::<usize>()
                && i < items.len()
            {
                match w {
                    Some(w) => items[i] = w,
                    None => {
                        items.remove(i);
                    }
                }
            }
        }
        _ => {}
    }
}

#[test]
fn cloud_readers_survive_mutated_plans_states_and_cli_output() {
    use palisade_core::cloud::{Network, Protocol, aws, terraform};
    let mutation = (any::<Index>(), any::<u8>(), any::<i64>(), any::<usize>());
    let strategy = (any::<Index>(), proptest::collection::vec(mutation, 1..8));
    fuzz_share("cloud-mutated", 50, strategy, |(which, mutations)| {
        let corpus = cloud_corpus();
        let mut value = corpus[which.index(corpus.len())].clone();
        for (at, kind, number, pick) in mutations {
            let mut pointers = Vec::new();
            json_pointers(&value, "", &mut pointers);
            let pointer = pointers[at.index(pointers.len())].clone();
            cloud_mutate(&mut value, &pointer, cloud_replacement(kind, number, pick));
        }
        let text = serde_json::to_string(&value).unwrap();
        let Ok(file) = palisade_core::input::ConfigFile::parse("fuzz.json", &text) else {
            return Ok(());
        };
        let mut net = Network::default();
        if terraform::is_terraform_json(file.value()) {
            let _ = terraform::read(&file, 0, &mut net);
        }
        if aws::is_aws_cli_json(file.value()) {
            let _ = aws::read(&file, 0, &mut net);
        }
        let groups: Vec<String> = net.security_groups.iter().map(|g| g.key.clone()).collect();
        for s in &net.subnets {
            net.internet_routes(&s.key);
            for ip in ["93.184.216.34", "10.0.1.5", "2606:2800:220:1::1", "fd00::1"] {
                let ip = ip.parse().unwrap();
                net.route(&s.key, ip);
                net.nacl_allows(&s.key, ip, Protocol::Tcp, 443);
                net.nacl_allows(&s.key, ip, Protocol::Icmp, 0);
                net.security_groups_allow(&groups, true, ip, Protocol::Udp, 53);
                net.reach(&s.key, &groups, ip, Protocol::Tcp, 443);
            }
        }
        Ok(())
    });
}

/// Access-log lines cut, spliced and garbled from real ones, in every
/// format: the reader never panics, reads every line once (a request or a
/// malformed line, never both), and lists at most its cap of problems.
#[test]
fn the_access_log_reader_survives_garbled_lines_in_every_format() {
    use palisade_core::proxylog::{self, LogFormat, LogKind, Observed};
    const SEEDS: &[&str] = &[
        "1796032801.114    212 10.244.1.10 TCP_TUNNEL/200 48213 CONNECT github.com:443 - HIER_DIRECT/140.82.121.4 -",
        "1796032820.403      3 10.244.2.21 TCP_MISS/200 1384 GET http://169.254.169.254/latest/ - HIER_DIRECT/169.254.169.254 text/plain",
        "127.0.0.1 - - [30/Nov/2026:11:51:39 +0000] \"- error:transaction-end-before-headers NONE/0.0\" 0 0 NONE_NONE:HIER_NONE",
        "10.0.3.7 - alice [30/Nov/2026:11:00:00 +0100] \"GET http://[2001:db8::1]:8080/a?b=1 HTTP/1.1\" 403 3900 \"-\" \"curl \\\"x\\\"\" TCP_DENIED:HIER_NONE",
        "{\"time\": 1796032801.1, \"client\": \"10.0.0.5\", \"method\": \"CONNECT\", \"url\": \"github.com:443\", \"status\": 200}",
    ];
    let kinds: Vec<Option<LogKind>> = vec![
        None,
        LogFormat::builtin("squid").map(LogKind::Format),
        LogFormat::builtin("common").map(LogKind::Format),
        LogFormat::builtin("combined").map(LogKind::Format),
        LogFormat::compile("mine", "%ts %>a %\"rm %{Host}>h %ru %Ss:%>Hs")
            .ok()
            .map(LogKind::Format),
        Some(LogKind::JsonLines),
    ];
    let edit = (any::<Index>(), any::<Index>(), any::<Index>(), any::<u8>());
    let strategy = (any::<Index>(), proptest::collection::vec(edit, 1..40));
    fuzz_share("access-log-lines", 50, strategy, |(kind, edits)| {
        let mut text = String::new();
        for (seed, cut, splice, byte) in edits {
            let line = SEEDS[seed.index(SEEDS.len())];
            let at = cut.index(line.len() + 1);
            let at = (0..=at)
                .rev()
                .find(|i| line.is_char_boundary(*i))
                .unwrap_or(0);
            let other = SEEDS[splice.index(SEEDS.len())];
            let from = splice.index(other.len() + 1);
            let from = (0..=from)
                .rev()
                .find(|i| other.is_char_boundary(*i))
                .unwrap_or(0);
            text.push_str(&line[..at]);
            if byte % 5 == 0 {
                text.push(char::from(byte));
            }
            text.push_str(&other[from..]);
            text.push('\n');
        }
        let kind = &kinds[kind.index(kinds.len())];
        let mut observed = Observed::default();
        let problems = proxylog::read(text.as_bytes(), kind.as_ref(), 0, &mut observed, |_| {})
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let blank = text.lines().filter(|l| l.trim().is_empty()).count() as u64;
        prop_assert_eq!(
            observed.requests + observed.malformed + blank,
            observed.lines
        );
        prop_assert!(problems.len() <= proxylog::MAX_PROBLEMS);
        Ok(())
    });
}
