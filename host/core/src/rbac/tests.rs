use super::*;

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> RbacRule {
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
    RbacRule {
        verbs: v(verbs),
        api_groups: v(groups),
        resources: v(resources),
        resource_names: v(names),
        non_resource_urls: Vec::new(),
    }
}

fn req(verb: &str, group: &str, resource: &str, sub: Option<&str>, name: Option<&str>) -> Request {
    Request {
        verb: verb.into(),
        api_group: group.into(),
        resource: resource.into(),
        subresource: sub.map(str::to_string),
        namespace: "ns".into(),
        name: name.map(str::to_string),
        ..Request::default()
    }
}

#[test]
fn resource_matching_follows_the_authorizer() {
    let cases: &[(RbacRule, Request, bool)] = &[
        // Verbs are case-sensitive.
        (
            rule(&["get"], &[""], &["pods"], &[]),
            req("GET", "", "pods", None, None),
            false,
        ),
        (
            rule(&["*"], &[""], &["pods"], &[]),
            req("delete", "", "pods", None, None),
            true,
        ),
        // "v1" is not the core group.
        (
            rule(&["get"], &["v1"], &["pods"], &[]),
            req("get", "", "pods", None, None),
            false,
        ),
        // `*` covers subresources; a resource does not cover its subresource.
        (
            rule(&["get"], &[""], &["*"], &[]),
            req("get", "", "pods", Some("exec"), None),
            true,
        ),
        (
            rule(&["get"], &[""], &["pods"], &[]),
            req("get", "", "pods", Some("status"), None),
            false,
        ),
        (
            rule(&["get"], &[""], &["pods/status"], &[]),
            req("get", "", "pods", None, None),
            false,
        ),
        // `*/scale` matches any resource's scale; `pods/*` is literal.
        (
            rule(&["update"], &["apps"], &["*/scale"], &[]),
            req("update", "apps", "deployments", Some("scale"), None),
            true,
        ),
        (
            rule(&["update"], &["apps"], &["*/scale"], &[]),
            req("update", "apps", "deployments", None, None),
            false,
        ),
        (
            rule(&["create"], &[""], &["pods/*"], &[]),
            req("create", "", "pods", Some("exec"), None),
            false,
        ),
        // resourceNames: exact; no name never matches; `*` is not a wildcard.
        (
            rule(&["get"], &[""], &["configmaps"], &["squid"]),
            req("get", "", "configmaps", None, Some("squid")),
            true,
        ),
        (
            rule(&["get"], &[""], &["configmaps"], &["squid"]),
            req("list", "", "configmaps", None, None),
            false,
        ),
        (
            rule(&["get"], &[""], &["configmaps"], &["*"]),
            req("get", "", "configmaps", None, Some("squid")),
            false,
        ),
    ];
    for (i, (r, q, want)) in cases.iter().enumerate() {
        assert_eq!(r.allows(q), *want, "case {i}: {r:?} {q:?}");
    }
}

#[test]
fn non_resource_urls_match_exactly_or_by_trailing_star_prefix() {
    let r = RbacRule {
        verbs: vec!["get".into()],
        api_groups: Vec::new(),
        resources: Vec::new(),
        resource_names: Vec::new(),
        non_resource_urls: vec!["/healthz".into(), "/apis/*".into()],
    };
    let url = |u: &str| Request {
        verb: "get".into(),
        non_resource_url: Some(u.into()),
        ..Request::default()
    };
    assert!(r.allows(&url("/healthz")));
    assert!(!r.allows(&url("/healthz/ready")));
    assert!(r.allows(&url("/apis/")));
    assert!(r.allows(&url("/apis/v1/x")));
    assert!(!r.allows(&url("/apis")));
}

#[test]
fn the_builtin_roles_all_parse() {
    let names: Vec<&str> = builtin_roles().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cluster-admin",
            "admin",
            "edit",
            "view",
            "system:aggregate-to-admin",
            "system:aggregate-to-edit",
            "system:aggregate-to-view"
        ]
    );
}

/// "Can S do VERB on some object of the kind?" (the plugins' access
/// questions): a resourceNames rule counts only for verbs whose requests
/// carry the name when they are authorized (the RBAC docs' resourceNames
/// section).
#[test]
fn resource_names_grant_some_object_only_for_verbs_that_name_it() {
    let named = rule(
        &[
            "create",
            "deletecollection",
            "list",
            "watch",
            "get",
            "update",
            "patch",
            "delete",
        ],
        &["networking.k8s.io"],
        &["networkpolicies"],
        &["default-deny"],
    );
    let any = |verb: &str| Request {
        any_name: true,
        ..req(verb, "networking.k8s.io", "networkpolicies", None, None)
    };
    for (verb, granted) in [
        ("create", false),
        ("deletecollection", false),
        ("list", true),
        ("watch", true),
        ("get", true),
        ("update", true),
        ("patch", true),
        ("delete", true),
    ] {
        assert_eq!(named.allows(&any(verb)), granted, "{verb}");
    }
    // A subresource names its parent object: `create pods/exec` on a named
    // pod is grantable by name.
    let exec = rule(&["create"], &[""], &["pods/exec"], &["squid-0"]);
    let some_exec = Request {
        any_name: true,
        ..req("create", "", "pods", Some("exec"), None)
    };
    assert!(exec.allows(&some_exec));
    // Without resourceNames, create is granted as before.
    let open = rule(
        &["create"],
        &["networking.k8s.io"],
        &["networkpolicies"],
        &[],
    );
    assert!(open.allows(&any("create")));
}
