//! RBAC semantics, held against cases written from the authorizer's code and
//! documentation (`tests/rbac/cases/*.yaml`): each query says whether it is
//! allowed and, optionally, through which binding.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use palisade::{AccessRequest, Inputs, RbacAnalysis};
use palisade_tests::workspace;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Case {
    note: String,
    builtin_roles: bool,
    manifests: String,
    queries: Vec<Query>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Query {
    #[serde(default)]
    user: String,
    #[serde(default)]
    groups: Vec<String>,
    verb: String,
    #[serde(default)]
    api_group: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    subresource: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "nonResourceURL")]
    non_resource_url: String,
    allowed: bool,
    #[serde(default)]
    via: Option<String>,
}

impl Query {
    fn request(&self) -> AccessRequest {
        AccessRequest {
            user: self.user.clone(),
            groups: self.groups.clone(),
            verb: self.verb.clone(),
            api_group: self.api_group.clone(),
            resource: self.resource.clone(),
            subresource: self.subresource.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            non_resource_url: self.non_resource_url.clone(),
        }
    }
}

fn cases() -> Vec<(String, Case)> {
    let dir = workspace().join("tests/rbac/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let case: Case = palisade::testing::from_yaml(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            (f.display().to_string(), case)
        })
        .collect()
}

#[test]
fn can_i_follows_the_authorizer() {
    let cases = cases();
    assert!(cases.len() >= 10);
    for (file, case) in cases {
        let analysis = RbacAnalysis::new(
            &Inputs::new().text("case.yaml", case.manifests.clone()),
            case.builtin_roles,
        );
        assert!(
            analysis.diagnostics().is_empty(),
            "{file}: {:#?}",
            analysis.diagnostics()
        );
        for (i, q) in case.queries.iter().enumerate() {
            let request = q.request();
            let grant = analysis.can_i(&request);
            assert_eq!(
                grant.is_some(),
                q.allowed,
                "{file} query {i}: {}\n{q:?}\n{grant:?}",
                case.note
            );
            if let Some(via) = &q.via {
                assert_eq!(&grant.unwrap().binding, via, "{file} query {i}");
            }
        }
    }
}

#[test]
fn who_can_agrees_with_can_i() {
    // Every subject who-can names, asked as itself, is allowed; and the
    // grant it names is one can-i could use.
    for (file, case) in cases() {
        let analysis = RbacAnalysis::new(
            &Inputs::new().text("case.yaml", case.manifests.clone()),
            case.builtin_roles,
        );
        for q in &case.queries {
            // Who, not what: who-can ignores the asking user.
            let request = AccessRequest {
                user: String::new(),
                groups: Vec::new(),
                ..q.request()
            };
            for (subject, _grant) in analysis.who_can(&request, false) {
                let (user, groups) = match subject.kind.as_str() {
                    "User" => (subject.name.clone(), vec![]),
                    "Group" => ("someone".to_string(), vec![subject.name.clone()]),
                    _ => (
                        format!(
                            "system:serviceaccount:{}:{}",
                            subject.namespace.clone().unwrap(),
                            subject.name
                        ),
                        vec![],
                    ),
                };
                let asked = AccessRequest {
                    user,
                    groups,
                    ..request.clone()
                };
                assert!(
                    analysis.can_i(&asked).is_some(),
                    "{file}: who-can named {subject} for {request:?}"
                );
            }
        }
    }
}
