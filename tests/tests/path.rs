//! `palisade path` across the three layers: the six verdict cases of the
//! issue, each with the hop that decides and its `file:line`, traced over
//! `tests/path/cluster.yaml` and the demo's real Terraform plans.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation should abort the test"
)]

use palisade::path::{HopOutcome, PathQuery, PathReport, PathVerdict};
use palisade::{Inputs, PolicySet};
use palisade_tests::{engine, portable, workspace};

const SECURE: &str = "tests/demo/secure/network/plan.json";
const INSECURE: &str = "tests/demo/insecure/network/plan.json";

fn path(network: Option<&str>, from: &str, to: &str) -> PathReport {
    let root = workspace();
    let mut inputs = Inputs::new().path(root.join("tests/path/cluster.yaml"));
    if let Some(n) = network {
        inputs = inputs.path(root.join(n));
    }
    let (host, port) = to.rsplit_once(':').unwrap();
    let port: u16 = port.parse().unwrap();
    let query = PathQuery {
        from: from.to_string(),
        host: host.to_string(),
        port,
        method: if port == 443 { "CONNECT" } else { "GET" }.to_string(),
        address: None,
    };
    let checker = engine()
        .checker(&PolicySet::builtin_default().without_plugins(), Vec::new())
        .unwrap();
    let (report, diagnostics) = checker.path(&inputs, &query).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    report
}

/// The first hop of a leg that is not `allowed`, with its location.
fn deciding(leg: &palisade::path::Leg, layer: &str) -> String {
    let hop = leg
        .hops
        .iter()
        .rev()
        .find(|h| h.layer == layer)
        .unwrap_or_else(|| panic!("no {layer} hop in {:#?}", leg.hops));
    let at = hop
        .location
        .as_ref()
        .expect("every deciding hop cites its line");
    format!("{}:{}", at.file.rsplit('/').next().unwrap(), at.line)
}

fn snapshot(name: &str, r: &PathReport) {
    insta::assert_snapshot!(name, portable(&palisade::path::render(r)));
}

#[test]
fn allowed_direct_is_a_bypass_citing_the_policy_rule_and_the_nat_route() {
    let r = path(Some(INSECURE), "shop/direct", "api.partner.example:443");
    assert_eq!(r.verdict, PathVerdict::ReachableDirectly);
    assert_eq!(r.direct.outcome, HopOutcome::Allowed);
    assert_eq!(deciding(&r.direct, "networkpolicy"), "cluster.yaml:56");
    assert!(
        r.direct
            .hops
            .iter()
            .any(|h| h.layer == "route" && h.what.contains("NAT gateway")),
        "{:#?}",
        r.direct.hops
    );
    snapshot("path_allowed_direct", &r);
}

#[test]
fn blocked_by_policy_closes_the_direct_leg_at_the_networkpolicy() {
    // The route would carry it (insecure network); the policy does not.
    let r = path(Some(INSECURE), "shop/web", "api.partner.example:443");
    assert_eq!(r.direct.outcome, HopOutcome::Denied);
    assert!(r.direct.hops.iter().all(|h| h.layer == "networkpolicy"));
    assert_eq!(deciding(&r.direct, "networkpolicy"), "cluster.yaml:41");
    // squid allows only its list: unreachable.
    assert_eq!(r.verdict, PathVerdict::Unreachable);
    snapshot("path_blocked_by_policy", &r);
}

#[test]
fn blocked_by_route_only_when_the_policy_allows_it() {
    let r = path(Some(SECURE), "shop/direct", "api.partner.example:443");
    assert_eq!(r.direct.outcome, HopOutcome::Denied);
    assert!(r.direct.hops.iter().any(|h| h.layer == "networkpolicy"));
    let route = r
        .direct
        .hops
        .iter()
        .find(|h| h.layer == "route" && h.what.contains("no route"))
        .expect("the route hop decides");
    assert!(route.location.is_some());
    assert_eq!(r.verdict, PathVerdict::Unreachable);
    snapshot("path_blocked_by_route", &r);
}

#[test]
fn proxied_is_reachable_only_through_the_proxy() {
    let r = path(Some(SECURE), "shop/web", "github.com:443");
    assert_eq!(r.verdict, PathVerdict::ReachableOnlyThroughProxy);
    assert_eq!(r.proxied.outcome, HopOutcome::Allowed);
    assert_eq!(deciding(&r.proxied, "squid"), "cluster.yaml:73");
    assert!(
        r.proxied
            .hops
            .iter()
            .any(|h| h.layer == "route" && h.what.contains("aws_nat_gateway.nat")),
        "the proxy's own route is traced: {:#?}",
        r.proxied.hops
    );
    snapshot("path_proxied", &r);
}

#[test]
fn denied_by_squid_is_unreachable_at_the_http_access_line() {
    let r = path(Some(SECURE), "shop/web", "api.partner.example:443");
    assert_eq!(r.verdict, PathVerdict::Unreachable);
    assert_eq!(r.proxied.outcome, HopOutcome::Denied);
    assert_eq!(deciding(&r.proxied, "squid"), "cluster.yaml:74");
    snapshot("path_denied_by_squid", &r);
}

#[test]
fn unknown_when_no_network_holds_the_workload() {
    let r = path(None, "shop/direct", "93.184.216.34:443");
    let PathVerdict::Unknown(why) = &r.verdict else {
        panic!("{:?}", r.verdict)
    };
    assert!(why.contains("no cloud network"), "{why}");
    snapshot("path_unknown", &r);
}
