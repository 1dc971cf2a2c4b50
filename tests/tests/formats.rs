//! Report formats over the demo: SARIF validates against the official 2.1.0
//! schema and points at fields; every format is deterministic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use palisade::{Inputs, PolicySet, Report, render};
use palisade_tests::{engine, guests, schema, workspace};

type Render = fn(&Report) -> String;

/// Every report format, by name.
const FORMATS: &[(&str, Render)] = &[
    ("human", render::human),
    ("json", render::json),
    ("sarif", render::sarif),
    ("junit", render::junit),
    ("github", render::github),
    ("policyreport", render::policyreport),
];

fn demo() -> Report {
    let checker = engine()
        .checker(&PolicySet::builtin_default(), Vec::new())
        .unwrap();
    // Relative names, as a user running in the workspace root would see.
    let mut inputs = Inputs::new();
    for f in [
        "egress-proxy.yaml",
        "legacy.yaml",
        "namespaces.yaml",
        "rbac.yaml",
        "shop.yaml",
    ] {
        let text =
            std::fs::read_to_string(workspace().join("tests/demo/insecure").join(f)).unwrap();
        inputs = inputs.text(format!("tests/demo/insecure/{f}"), text);
    }
    checker.check(&inputs)
}

#[test]
fn sarif_validates_against_the_official_schema_and_points_at_fields() {
    let path = workspace().join("../shared/data/sarif-schema-2.1.0.json");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the SARIF schema is expected at {}: {e}", path.display())),
    )
    .unwrap();
    let report = demo();
    assert!(!report.findings.is_empty());
    let sarif: serde_json::Value = serde_json::from_str(&render::sarif(&report)).unwrap();
    let errors = schema::validate(&schema, &sarif);
    assert!(errors.is_empty(), "{errors:#?}");

    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| {
        r["id"] == "NP001"
            && r["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## How to fix")
    }));
    for (result, finding) in run["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&report.findings)
    {
        let region = &result["locations"][0]["physicalLocation"]["region"];
        let loc = finding.location.as_ref().unwrap();
        assert_eq!(region["startLine"], loc.line);
        assert_eq!(region["startColumn"], loc.column);
        assert!(
            loc.line > 1,
            "a region must point at the field, not the document"
        );
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("tests/demo/"), "{uri}");
        let rule_index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[rule_index]["id"], result["ruleId"]);
    }
}

/// The PX005 fixture whose HTTPS_PROXY comes from a Secret (and NO_PROXY
/// from a ConfigMap), checked with that rule's suite.
fn secret_fixture() -> Report {
    let dir = workspace().join("tests/fixtures/rules/proxy-egress/PX005");
    let checker = palisade::suite::Suite::load(&dir.join("suite.yaml"))
        .and_then(|s| s.checker(engine()))
        .unwrap();
    let name = "tests/fixtures/rules/proxy-egress/PX005/fail-secret-value-is-never-shown.yaml";
    let text = std::fs::read_to_string(workspace().join(name)).unwrap();
    checker.check(&Inputs::new().text(name, text))
}

#[test]
fn a_secret_value_appears_in_no_output_format() {
    const SECRET: &str = "Sup3rS3cretPr0xyPassw0rd";
    let report = secret_fixture();
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    // Something is reported about this workload, so the outputs have
    // content that could leak it.
    assert!(report.findings.iter().any(|f| f.rule == "PX005"));
    for (name, render) in FORMATS
        .iter()
        .chain(&[("plugin log", render::plugin_log as Render)])
    {
        let text = render(&report);
        assert!(!text.contains(SECRET), "{name} shows the secret:\n{text}");
    }
    for f in &report.findings {
        assert!(!format!("{f:?}").contains(SECRET), "{f:?}");
    }
}

/// A plugin that prints everything it is told about every object (labels
/// and annotations included) and every workload never sees a Secret's
/// values: the contract holds no object text, and kubectl's last-applied
/// annotation, which holds the whole object, is redacted.
#[test]
fn plugins_never_see_a_secrets_values() {
    const SECRET: &str = "Sup3rS3cretPr0xyPassw0rd";
    let bytes = std::fs::read(guests::HOSTILE).unwrap();
    let sha = engine().load_plugin(&bytes).unwrap().sha256().to_string();
    let policy = PolicySet::parse(
        "leak.yaml",
        &format!(
            "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {{name: leak}}\nspec:\n  plugins:\n    - path: {}\n      sha256: {sha}\n      settings: {{behaviour: raw-json}}\n",
            guests::HOSTILE
        ),
    )
    .unwrap();
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: proxy\n  namespace: shop\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{{\"stringData\":{{\"PASSWORD\":\"{SECRET}\"}}}}'\ndata:\n  TOKEN: {}\nstringData:\n  PASSWORD: {SECRET}\n",
        "U3VwM3JTM2NyZXRQcjB4eVBhc3N3MHJk"
    );
    let report = engine()
        .checker(&policy, Vec::new())
        .unwrap()
        .check(&Inputs::new().text("secret.yaml", secret));
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "HOSTILE001")
        .unwrap();
    assert!(
        f.message
            .contains("kubectl.kubernetes.io/last-applied-configuration=<redacted>"),
        "{}",
        f.message
    );
    for text in [
        render::human(&report),
        render::json(&report),
        render::plugin_log(&report),
    ] {
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains("U3VwM3JTM2NyZXRQcjB4eVBhc3N3MHJk"), "{text}");
    }
}

#[test]
fn a_finding_at_a_config_map_key_lists_the_workload_as_related_location() {
    let report = secret_fixture();
    let finding = report.findings.iter().find(|f| f.rule == "PX005").unwrap();
    let loc = finding.location.as_ref().unwrap();
    // At the ConfigMap's `NO_PROXY:` line; the path names the workload's
    // `envFrom` source and the variable, so that it does not move when the
    // ConfigMap gains or loses keys.
    assert_eq!(loc.line, 15);
    assert_eq!(
        finding.path.as_deref(),
        Some("/spec/template/spec/containers/0/envFrom/0/NO_PROXY")
    );
    let fingerprint = finding.fingerprint();
    let dir = workspace().join("tests/fixtures/rules/proxy-egress/PX005");
    let checker = palisade::suite::Suite::load(&dir.join("suite.yaml"))
        .and_then(|s| s.checker(engine()))
        .unwrap();
    let name = "tests/fixtures/rules/proxy-egress/PX005/fail-secret-value-is-never-shown.yaml";
    let text = std::fs::read_to_string(workspace().join(name))
        .unwrap()
        .replace("  NO_PROXY: \"*\"", "  A_FIRST: a\n  NO_PROXY: \"*\"");
    let more_keys = checker.check(&Inputs::new().text(name, text));
    let again = more_keys
        .findings
        .iter()
        .find(|f| f.rule == "PX005")
        .unwrap();
    assert_eq!(again.fingerprint(), fingerprint, "{:?}", again.path);
    let related = &finding.related[0];
    assert_eq!(related.object.kind, "Deployment");
    assert_eq!(related.path, "/spec/template/spec/containers/0/envFrom/0");
    assert_eq!(related.location.as_ref().unwrap().line, 29);

    let json: serde_json::Value = serde_json::from_str(&render::json(&report)).unwrap();
    assert_eq!(
        json["findings"][0]["related"][0]["path"],
        "/spec/template/spec/containers/0/envFrom/0"
    );
    let sarif: serde_json::Value = serde_json::from_str(&render::sarif(&report)).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        29
    );
    let path = workspace().join("../shared/data/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let errors = schema::validate(&schema, &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_failed_check_is_not_a_successful_sarif_run() {
    let checker = engine()
        .checker(&PolicySet::builtin_default(), Vec::new())
        .unwrap();
    let report = checker.check(&Inputs::new().text("bad.yaml", "kind: [\n"));
    let sarif: serde_json::Value = serde_json::from_str(&render::sarif(&report)).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let junit = render::junit(&report);
    assert!(junit.contains("<error type=\"input\""), "{junit}");
}

#[test]
fn every_format_is_snapshotted_and_deterministic() {
    let a = demo();
    let b = demo();
    for (name, render) in FORMATS {
        let text = render(&a);
        assert_eq!(
            text,
            render(&b),
            "{name} output must be byte-identical across runs"
        );
        insta::assert_snapshot!(format!("demo_{name}"), text);
    }
}

#[test]
fn policyreport_is_valid_yaml_with_one_report_per_namespace() {
    let text = render::policyreport(&demo());
    let docs: Vec<serde_json::Value> = text
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| palisade::testing::from_yaml(d).unwrap())
        .collect();
    let reports: Vec<(String, String)> = docs
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        reports,
        [
            ("ClusterPolicyReport".to_string(), String::new()),
            ("PolicyReport".to_string(), "egress-proxy".to_string()),
            ("PolicyReport".to_string(), "legacy".to_string()),
            ("PolicyReport".to_string(), "shop".to_string()),
        ],
        "one report per namespace with findings, and one for cluster-scoped objects"
    );
    let legacy = &docs[2];
    let fails = legacy["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["result"] == "fail")
        .count();
    assert_eq!(legacy["summary"]["fail"], fails);
    assert_eq!(
        docs[0]["results"][0]["resources"][0]["kind"],
        "ClusterRoleBinding"
    );
}

// ---------------------------------------------------------------------------
// Output that cannot be forged: plugin output, object names and file names
// are hostile.

/// Text that would clear the screen, forge a finding block and a summary,
/// and colour the rest of the output (C1 CSI), if printed raw.
const FORGE: &str = "\x1b[2J\x1b[H\r\nerror[NP001]: forged\n  = fix: nothing\n\nno findings: 1 file, 1 object, 1 plugin\n\u{9b}31m\u{7f}\u{202e}";

/// Characters that neither XML 1.0 nor YAML allow raw, next to markup and
/// quoting characters.
const UNWRITABLE: &str =
    "a\u{1}b\u{7f}c\u{85}d\u{2028}e\u{ffff}f\u{fffe}g\u{feff}\"'<&>\\\t~\u{10000}";

/// The hostile guest (`echo` behaviour, saying `message`, `fix` and `log`)
/// next to the built-in default-deny plugin, which puts object names into
/// its messages.
fn echo_policy(message: &str, fix: &str, log: &str) -> PolicySet {
    let bytes = std::fs::read(guests::HOSTILE).unwrap();
    let sha = engine().load_plugin(&bytes).unwrap().sha256().to_string();
    let json = |s: &str| serde_json::to_string(s).unwrap();
    let text = format!(
        "apiVersion: palisade.dev/v1alpha1\nkind: PolicySet\nmetadata: {{name: echo}}\nspec:\n  plugins:\n    - builtin: default-deny\n    - path: {}\n      sha256: {sha}\n      settings: {{behaviour: echo, message: {}, fix: {}, log: {}}}\n",
        guests::HOSTILE,
        json(message),
        json(fix),
        json(log),
    );
    PolicySet::parse("echo.yaml", &text).unwrap()
}

/// A Deployment named `name` in a namespace without NetworkPolicies (so
/// default-deny reports it, naming it), as YAML. Control characters are
/// left out of the name: the loader refuses them in names (no cluster has
/// such a name), so the rest of `name` is what a manifest can carry.
fn deployment(name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {}\n  namespace: shop\nspec:\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata: {{labels: {{app: api}}}}\n    spec: {{containers: [{{name: c, image: i}}]}}\n",
        serde_json::to_string(&name).unwrap()
    )
}

/// A report where every field hostile parties control carries `text`: the
/// file name, the object name (and so default-deny's message), and the hostile
/// guest's message, fix and log line.
fn hostile_report(text: &str) -> Report {
    let checker = engine()
        .checker(&echo_policy(text, text, text), Vec::new())
        .unwrap();
    let report = checker.check(&Inputs::new().text(format!("{text}.yaml"), deployment(text)));
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let rules = palisade_tests::rules(&report);
    assert!(
        rules.contains(&"HOSTILE001") && rules.contains(&"NP001"),
        "{rules:?}"
    );
    let name: String = text.chars().filter(|c| !c.is_control()).collect();
    assert!(
        report.findings.iter().any(|f| f.message.contains(&name)),
        "default-deny names the object in its message"
    );
    assert_eq!(report.plugin_log.len(), 1, "{:?}", report.plugin_log);
    report
}

/// Control characters (C0 but LF, DEL, C1) in `out`.
fn controls(out: &str) -> Vec<char> {
    out.chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect()
}

#[test]
fn hostile_text_cannot_forge_lines_of_human_output() {
    let report = hostile_report(FORGE);
    let out = render::human(&report);
    assert_eq!(controls(&out), [], "{out}");
    assert!(!out.contains('\u{202e}'), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    // Every block header is a real finding; no forged one.
    let headers = lines
        .iter()
        .filter(|l| l.starts_with("error[") || l.starts_with("warning[") || l.starts_with("info["))
        .count();
    assert_eq!(headers, report.findings.len(), "{out}");
    assert!(
        !lines.iter().any(|l| l.starts_with("error[NP001]: forged")),
        "{out}"
    );
    // One summary, the last line.
    assert!(!lines.iter().any(|l| l.starts_with("no findings")), "{out}");
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with("1 file, 1 object, 2 plugins"),
        "{out}"
    );
    // The text is still there for people to read, escaped.
    assert!(
        out.contains("\\u{1b}[2J\\u{1b}[H\\r\\nerror[NP001]: forged\\n"),
        "{out}"
    );
    // The log line too.
    let log = render::plugin_log(&report);
    assert_eq!(controls(&log), [], "{log}");
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.starts_with("plugin hostile: warn: \\u{1b}[2J"), "{log}");
}

#[test]
fn hostile_text_cannot_forge_github_workflow_commands() {
    let report = hostile_report(FORGE);
    let out = render::github(&report);
    assert_eq!(controls(&out), [], "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), report.findings.len(), "{out}");
    for (line, f) in lines.iter().zip(&report.findings) {
        let command = if f.severity == palisade::Severity::Error {
            "::error file="
        } else {
            "::warning file="
        };
        assert!(line.starts_with(command), "{line}");
        // The file property ends at the first comma: the hostile name is in
        // it whole, with `:`, `,` and `%` escaped.
        let file = line
            .strip_prefix(command)
            .unwrap()
            .split(',')
            .next()
            .unwrap();
        assert!(
            file.starts_with("\\u{1b}[2J\\u{1b}[H\\r\\nerror[NP001]%3A forged"),
            "{file}"
        );
        assert_eq!(
            line.matches("::").count(),
            2,
            "one command per line: {line}"
        );
    }
}

#[test]
fn junit_escapes_every_name_and_stays_well_formed() {
    // A file name that closes the attribute and the element, and opens a
    // passing testcase, and a message with characters XML 1.0 forbids.
    let name = "x\"/><testcase name=\"forged\"/><x a=\"";
    let checker = engine()
        .checker(&echo_policy(UNWRITABLE, UNWRITABLE, ""), Vec::new())
        .unwrap();
    let report = checker.check(&Inputs::new().text(format!("{name}.yaml"), deployment(UNWRITABLE)));
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let xml = render::junit(&report);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));

    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert!(
        cases.iter().all(|c| c.attribute("name") != Some("forged")),
        "{xml}"
    );
    let total: usize = doc
        .root_element()
        .attribute("tests")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(cases.len(), total, "{xml}");
    // Every finding is one failure, whose text starts at the exact file name
    // and whose message reads back as written, but for what XML cannot hold.
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), report.findings.len());
    let writable = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '\u{1}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
                c => c,
            })
            .collect()
    };
    let mut read: Vec<&str> = failures
        .iter()
        .map(|n| n.attribute("message").unwrap())
        .collect();
    read.sort_unstable();
    let mut expected: Vec<String> = report
        .findings
        .iter()
        .map(|f| writable(&f.message))
        .collect();
    expected.sort_unstable();
    assert_eq!(read, expected);
    for node in &failures {
        let text = node.text().unwrap();
        assert!(text.starts_with(&format!("{name}.yaml:")), "{text:?}");
    }
    let hostile = failures
        .iter()
        .find(|n| n.attribute("message") == Some(writable(UNWRITABLE).as_str()))
        .unwrap();
    assert!(
        hostile
            .text()
            .unwrap()
            .ends_with(&format!("\nfix: {}", writable(UNWRITABLE))),
        "{:?}",
        hostile.text()
    );
}

/// Whether YAML 1.2 allows `c` in a stream (`c-printable`).
fn yaml_printable(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}'
        | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

#[test]
fn policyreport_reads_back_exactly_whatever_the_text() {
    use saphyr::{LoadableYamlNode, Yaml};

    let checker = engine()
        .checker(&echo_policy(UNWRITABLE, "", ""), Vec::new())
        .unwrap();
    let report = checker.check(&Inputs::new().text("a.yaml", deployment(UNWRITABLE)));
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let text = render::policyreport(&report);
    let raw: Vec<char> = text.chars().filter(|c| !yaml_printable(*c)).collect();
    assert_eq!(raw, [], "characters YAML does not allow raw:\n{text}");

    let docs = Yaml::load_from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(docs.len(), 1, "{text}");
    let results = docs[0].as_mapping_get("results").unwrap();
    let mut read = Vec::new();
    for i in 0.. {
        let Some(r) = results.as_sequence_get(i) else {
            break;
        };
        let field = |n: &Yaml, k: &str| n.as_mapping_get(k).unwrap().as_str().unwrap().to_string();
        let resource = r
            .as_mapping_get("resources")
            .unwrap()
            .as_sequence_get(0)
            .unwrap();
        read.push((field(r, "message"), field(resource, "name")));
    }
    let expected: Vec<(String, String)> = report
        .findings
        .iter()
        .map(|f| (f.message.clone(), f.object.name.clone()))
        .collect();
    assert_eq!(read, expected);
    // The hostile guest's message as it was; the object's name as a manifest
    // can write it (without control characters, which the loader refuses).
    let name: String = UNWRITABLE.chars().filter(|c| !c.is_control()).collect();
    assert!(read.iter().any(|(m, n)| m == UNWRITABLE && *n == name));
}

/// A minified JSON `List` of `n` Deployments on one line, in a namespace
/// without NetworkPolicies (each Deployment is reported).
fn one_line_list(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "{{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{{\"name\":\"app-{i:05}\",\"namespace\":\"shop\",\"labels\":{{\"app\":\"app-{i:05}\",\"tier\":\"web\"}}}},\"spec\":{{\"selector\":{{\"matchLabels\":{{\"app\":\"app-{i:05}\"}}}},\"template\":{{\"metadata\":{{\"labels\":{{\"app\":\"app-{i:05}\"}}}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"registry.example/app:1\"}}]}}}}}}}}"
            )
        })
        .collect();
    format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}]}}",
        items.join(",")
    )
}

#[test]
fn human_output_is_bounded_for_a_huge_one_line_input() {
    let text = one_line_list(835);
    assert!(
        text.len() > 265_000 && !text.contains('\n'),
        "{}",
        text.len()
    );
    eprintln!("input: {} bytes on one line", text.len());
    // The default limits: the test engine's (1 000 findings a plugin) would
    // stop default-deny.
    let checker = palisade::Engine::builder()
        .build()
        .unwrap()
        .checker(&PolicySet::builtin_default(), Vec::new())
        .unwrap();
    let report = checker.check(&Inputs::new().text("list.json", text));
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let findings = report.findings.len();
    assert!(findings >= 1_600, "{findings}");

    let out = render::human(&report);
    // Each code frame shows at most FRAME_COLUMNS of the line, frames stop
    // after FRAME_BUDGET bytes, and the rest of a finding's block is a few
    // short lines (as before, the whole line was printed in every frame:
    // over 500 MB here).
    assert!(
        out.len() < render::FRAME_BUDGET + findings * 400,
        "{} bytes for {findings} findings",
        out.len()
    );
    let longest = out.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest < render::FRAME_COLUMNS + 200, "{longest}");
    // Every finding is still listed, with its location.
    let headers = out
        .lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("warning["))
        .count();
    assert_eq!(headers, findings);
    assert_eq!(out.matches("--> list.json:1:").count(), findings);
    let frames = out.matches("1 | ").count();
    eprintln!(
        "{findings} findings, {frames} code frames, {} bytes of human output",
        out.len()
    );
    assert!(frames > 100 && frames < findings, "{frames} frames");
    assert!(
        out.contains(&format!(
            "note: {} code frames omitted after 256 KiB of code frames",
            findings - frames
        )),
        "{}",
        &out[out.len() - 500..]
    );
}
