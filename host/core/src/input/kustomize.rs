//! What the loader knows about Kustomize: its own files, the files they name
//! that are not manifests (patches, generator inputs, Helm values), and the
//! origin annotation of rendered objects.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::base_name;

/// The API group of Kustomize's configuration files.
pub(super) const GROUP: &str = "kustomize.config.k8s.io";

/// Whether a file is a Kustomize configuration by its name.
pub(super) fn is_kustomization_file(name: &str) -> bool {
    matches!(
        base_name(name),
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

/// `group/Kind` of a Kustomize object (`Kustomization`, `Component`).
pub(super) fn kind_of(value: &Value) -> Option<String> {
    let api_version = value.get("apiVersion")?.as_str()?;
    let kind = value.get("kind")?.as_str()?;
    let group = api_version.split('/').next()?;
    (group == GROUP).then(|| format!("{GROUP}/{kind}"))
}

/// Files a kustomization names that are not manifests to apply, by their
/// path (lexically normalised), with the `group/Kind` they are counted as:
/// patches (`patches`, `patchesStrategicMerge`, `patchesJson6902`) and
/// inputs (`replacements`, generator `files` and `envs`, `helmCharts`
/// values files, `openapi`, `configurations`). Checking them as objects
/// would report partial Deployments and data files as broken manifests.
pub(super) fn referenced_files(kustomization: &str, value: &Value) -> BTreeMap<PathBuf, String> {
    let dir = Path::new(kustomization).parent().unwrap_or(Path::new(""));
    let mut out = BTreeMap::new();
    let mut add = |path: &str, what: &str| {
        // Inline patches hold YAML, not a path.
        if path.contains('\n') {
            return;
        }
        // Generator files may be `key=path`.
        let path = path.split_once('=').map_or(path, |(_, p)| p);
        // Remote and absolute paths are not files of the inputs.
        if path.contains("://") || Path::new(path).is_absolute() {
            return;
        }
        // Kustomize reads these files only from inside the kustomization's
        // own directory (its default load restrictor): a path that climbs
        // out names nothing here, and cannot hide a manifest elsewhere.
        let Some(inside) = normalise(Path::new(path)) else {
            return;
        };
        if inside.starts_with("..") {
            return;
        }
        if let Some(p) = normalise(&dir.join(inside)) {
            out.insert(p, format!("{GROUP}/{what}"));
        }
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let entries = |key: &str| -> Vec<Value> {
        value
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for key in ["patches", "patchesJson6902"] {
        for e in entries(key) {
            // `{path: …}` only: the bare-string form is one Kustomize 5
            // refuses, and trusting it would let any file be called a patch.
            if let Some(p) = e.get("path").and_then(Value::as_str) {
                add(p, "Patch");
            }
        }
    }
    for p in strings(value.get("patchesStrategicMerge")) {
        add(&p, "Patch");
    }
    for e in entries("replacements") {
        if let Some(p) = e.get("path").and_then(Value::as_str) {
            add(p, "Input");
        }
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for e in entries(key) {
            for p in strings(e.get("files"))
                .iter()
                .chain(&strings(e.get("envs")))
            {
                add(p, "Input");
            }
            if let Some(p) = e.get("env").and_then(Value::as_str) {
                add(p, "Input");
            }
        }
    }
    for e in entries("helmCharts") {
        if let Some(p) = e.get("valuesFile").and_then(Value::as_str) {
            add(p, "Input");
        }
        for p in strings(e.get("additionalValuesFiles")) {
            add(&p, "Input");
        }
    }
    if let Some(p) = value.pointer("/openapi/path").and_then(Value::as_str) {
        add(p, "Input");
    }
    for p in strings(value.get("configurations")) {
        add(&p, "Input");
    }
    out
}

/// Files a kustomization lists under `resources` (or the older `bases`):
/// manifests, which no other kustomization's patch list can take out of the
/// check.
/// Each with the JSON pointer of its entry.
pub(super) fn resource_files(kustomization: &str, value: &Value) -> Vec<(PathBuf, String)> {
    let dir = Path::new(kustomization).parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for key in ["resources", "bases"] {
        let entries = value.get(key).and_then(Value::as_array);
        for (i, entry) in entries.into_iter().flatten().enumerate() {
            let Some(p) = entry.as_str() else { continue };
            if p.contains("://") || Path::new(p).is_absolute() {
                continue;
            }
            if let Some(path) = normalise(&dir.join(p)) {
                out.push((path, format!("/{key}/{i}")));
            }
        }
    }
    out
}

/// `path` with `.` and `..` resolved lexically (no file system access);
/// `None` when it climbs above its start.
pub(super) fn normalise(path: &Path) -> Option<PathBuf> {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => return None,
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    Some(out.iter().collect())
}

/// Kustomize's annotation naming the file an object was rendered from
/// (written when a kustomization sets `buildMetadata: [originAnnotations]`).
const ORIGIN: &str = "config.kubernetes.io/origin";

/// The file an object was rendered from, by Kustomize's origin annotation;
/// a local path is relative to the directory that was built, and is
/// resolved against it when known.
pub(super) fn origin(value: &Value, built: Option<&Path>) -> Option<String> {
    let text = value
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(ORIGIN))
        .and_then(Value::as_str)?;
    // A small YAML mapping: `path`, and for remote bases `repo` and `ref`.
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
            .map(|v| v.trim().trim_matches(['"', '\'']))
            .filter(|v| !v.is_empty())
    };
    let path = field("path")?;
    let origin = match (field("repo"), field("ref")) {
        (Some(repo), Some(r)) => format!("{repo}//{path}?ref={r}"),
        (Some(repo), None) => format!("{repo}//{path}"),
        _ => built
            .and_then(|dir| normalise(&dir.join(path)))
            .map_or_else(|| path.to_string(), |p| p.display().to_string()),
    };
    (origin.len() <= 512 && !origin.chars().any(char::is_control)).then_some(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_and_inputs_inside_the_kustomization_are_found() {
        let k = serde_json::json!({
            "resources": ["deploy.yaml", "../base"],
            "patches": [{"path": "replicas.yaml"}, {"patch": "- op: add\n  path: /x\n"}, "old-form.yaml"],
            "patchesStrategicMerge": ["../shared/limits.yaml", "kind: X\nmetadata: {}\n"],
            "configMapGenerator": [{"name": "c", "files": ["conf/app.yaml", "key=other.yml"], "envs": ["a.env"]}],
            "helmCharts": [{"name": "x", "valuesFile": "values.yaml"}],
            "replacements": [{"path": "/etc/passwd"}],
            "secretGenerator": [{"name": "s", "files": ["k=/abs/elsewhere/x.yaml", "k2=../up.yaml"]}],
        });
        let found = referenced_files("repo/overlays/prod/kustomization.yaml", &k);
        let names: Vec<String> = found.keys().map(|p| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "repo/overlays/prod/a.env",
                "repo/overlays/prod/conf/app.yaml",
                "repo/overlays/prod/other.yml",
                "repo/overlays/prod/replicas.yaml",
                "repo/overlays/prod/values.yaml",
            ]
        );
        assert_eq!(
            found[Path::new("repo/overlays/prod/replicas.yaml")],
            "kustomize.config.k8s.io/Patch"
        );
        assert_eq!(
            found[Path::new("repo/overlays/prod/values.yaml")],
            "kustomize.config.k8s.io/Input"
        );
    }

    #[test]
    fn resources_are_manifests() {
        let k = serde_json::json!({"resources": ["a.yaml", "../base", "https://x/y"], "bases": ["./b.yaml"]});
        let found: Vec<PathBuf> = resource_files("r/k/kustomization.yaml", &k)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            found,
            [
                PathBuf::from("r/k/a.yaml"),
                PathBuf::from("r/base"),
                PathBuf::from("r/k/b.yaml")
            ]
        );
    }

    #[test]
    fn normalising_is_lexical() {
        assert_eq!(
            normalise(Path::new("a/./b/../c")),
            Some(PathBuf::from("a/c"))
        );
        assert_eq!(normalise(Path::new("../a")), Some(PathBuf::from("../a")));
        assert_eq!(normalise(Path::new("/../a")), None);
    }

    #[test]
    fn origins_name_local_and_remote_files() {
        let local = serde_json::json!({"metadata": {"annotations": {ORIGIN: "path: ../base/deploy.yaml\n"}}});
        assert_eq!(origin(&local, None).as_deref(), Some("../base/deploy.yaml"));
        assert_eq!(
            origin(&local, Some(Path::new("repo/overlays/prod"))).as_deref(),
            Some("repo/overlays/base/deploy.yaml")
        );
        let remote = serde_json::json!({"metadata": {"annotations": {ORIGIN: "path: deploy.yaml\nrepo: https://github.com/example/app\nref: v1.2\n"}}});
        assert_eq!(
            origin(&remote, Some(Path::new("repo"))).as_deref(),
            Some("https://github.com/example/app//deploy.yaml?ref=v1.2")
        );
    }
}
