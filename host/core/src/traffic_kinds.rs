//! The custom-resource kinds that change what pods may reach and that
//! Palisade does not model: their API groups, scope, effect and reach. The
//! one table of them: `kinds` reads their scope, `traffic` reports the
//! objects (rule `PAL004`). Sources for every row are in ARCHITECTURE.md
//! ("Traffic objects not modelled").

/// What a kind does to traffic, in words that finish "… and Palisade does
/// not model it".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Allows and denies flows beside (or before) NetworkPolicies: it can
    /// open what they deny and close what they allow.
    AllowsAndDenies,
    /// Only ever takes flows away (a mesh's authorization, an egress
    /// firewall, a registry-only sidecar).
    Restricts,
    /// Changes where allowed traffic leaves from, or the address it leaves
    /// with (egress gateways, egress IPs, redirects).
    ExitPath,
    /// Adds network interfaces that NetworkPolicies do not cover.
    BypassesNetworkPolicy,
    /// Rewrites the proxies of a service mesh: anything is possible.
    RewritesProxies,
}

impl Effect {
    pub fn words(self) -> &'static str {
        match self {
            Effect::AllowsAndDenies => {
                "can allow traffic the NetworkPolicies deny, and deny traffic they allow,"
            }
            Effect::Restricts => "can deny traffic the NetworkPolicies allow",
            Effect::ExitPath => {
                "changes the path or source address of egress traffic (what a proxy allow-list or cloud firewall sees)"
            }
            Effect::BypassesNetworkPolicy => {
                "adds network interfaces that NetworkPolicies do not cover"
            }
            Effect::RewritesProxies => "rewrites the mesh proxies that carry traffic",
        }
    }
}

/// How far an object of a kind reaches: which namespaces' pods it affects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Its own namespace.
    Own,
    /// Its own namespace, or every namespace when it lives in the service
    /// mesh's root namespace (Istio: `istio-system`; Linkerd egress:
    /// `linkerd-egress`).
    OwnOrEverywhereFrom(&'static str),
    /// Its own namespace, or every namespace when it lives in Istio's root
    /// namespace (MeshConfig `rootNamespace`, read from the `istio`
    /// ConfigMap of the inputs; `istio-system` by default).
    IstioRoot,
    /// Every namespace it is exported to: `spec.exportTo` (default all).
    ExportTo,
    /// The upstream admin policies' `spec.subject`: `namespaces` (a label
    /// selector) or `pods.namespaceSelector`.
    Subject,
    /// A label selector on namespaces at this JSON pointer; each entry of
    /// an array at `list` when given (absent or empty: every namespace).
    NamespaceSelector {
        list: Option<&'static str>,
        field: &'static str,
    },
    /// Cilium's cluster-wide policies: pods of every namespace unless the
    /// endpoint selector pins `k8s:io.kubernetes.pod.namespace`.
    CiliumEndpoints,
    /// Calico's global policies: `spec.namespaceSelector`, an expression in
    /// Calico's own selector language (shown, not evaluated).
    CalicoExpression,
    /// Every namespace.
    Everywhere,
}

/// One kind of the table.
#[derive(Debug)]
pub struct TrafficKind {
    pub groups: &'static [&'static str],
    pub kind: &'static str,
    pub namespaced: bool,
    pub effect: Effect,
    pub reach: Reach,
}

const CALICO: &[&str] = &["projectcalico.org", "crd.projectcalico.org"];
const CILIUM: &[&str] = &["cilium.io"];
const ADMIN: &[&str] = &["policy.networking.k8s.io"];
const ISTIO_NET: &[&str] = &["networking.istio.io"];
const ISTIO_SEC: &[&str] = &["security.istio.io"];
const LINKERD: &[&str] = &["policy.linkerd.io"];
const ANTREA: &[&str] = &["crd.antrea.io"];
const OVN: &[&str] = &["k8s.ovn.org"];
const MULTUS: &[&str] = &["k8s.cni.cncf.io"];

/// Istio's root namespace as installed by default (MeshConfig
/// `rootNamespace`): configuration there applies to the whole mesh.
pub const ISTIO_ROOT: &str = "istio-system";

const fn row(
    groups: &'static [&'static str],
    kind: &'static str,
    namespaced: bool,
    effect: Effect,
    reach: Reach,
) -> TrafficKind {
    TrafficKind {
        groups,
        kind,
        namespaced,
        effect,
        reach,
    }
}

use Effect::{AllowsAndDenies, BypassesNetworkPolicy, ExitPath, Restricts, RewritesProxies};

/// Left out on purpose: Calico's staged policies (they do not enforce),
/// selector targets that change nothing on their own (Cilium's
/// CIDRGroup, Calico's NetworkSets and Tiers, Antrea's groups), and Istio's
/// VirtualService and DestinationRule (they route inside what is already
/// reachable).
pub const TABLE: &[TrafficKind] = &[
    row(
        ADMIN,
        "AdminNetworkPolicy",
        false,
        AllowsAndDenies,
        Reach::Subject,
    ),
    row(
        ADMIN,
        "BaselineAdminNetworkPolicy",
        false,
        AllowsAndDenies,
        Reach::Subject,
    ),
    row(
        ADMIN,
        "ClusterNetworkPolicy",
        false,
        AllowsAndDenies,
        Reach::Subject,
    ),
    row(
        CILIUM,
        "CiliumNetworkPolicy",
        true,
        AllowsAndDenies,
        Reach::Own,
    ),
    row(
        CILIUM,
        "CiliumClusterwideNetworkPolicy",
        false,
        AllowsAndDenies,
        Reach::CiliumEndpoints,
    ),
    row(
        CILIUM,
        "CiliumEgressGatewayPolicy",
        false,
        ExitPath,
        Reach::NamespaceSelector {
            list: Some("/spec/selectors"),
            field: "/namespaceSelector",
        },
    ),
    row(
        CILIUM,
        "CiliumLocalRedirectPolicy",
        true,
        ExitPath,
        Reach::Everywhere,
    ),
    row(
        CILIUM,
        "CiliumEnvoyConfig",
        true,
        RewritesProxies,
        Reach::Own,
    ),
    row(
        CILIUM,
        "CiliumClusterwideEnvoyConfig",
        false,
        RewritesProxies,
        Reach::Everywhere,
    ),
    row(CALICO, "NetworkPolicy", true, AllowsAndDenies, Reach::Own),
    row(
        CALICO,
        "GlobalNetworkPolicy",
        false,
        AllowsAndDenies,
        Reach::CalicoExpression,
    ),
    row(ISTIO_NET, "Sidecar", true, Restricts, Reach::IstioRoot),
    row(ISTIO_NET, "ServiceEntry", true, ExitPath, Reach::ExportTo),
    row(
        ISTIO_NET,
        "EnvoyFilter",
        true,
        RewritesProxies,
        Reach::IstioRoot,
    ),
    row(
        ISTIO_SEC,
        "AuthorizationPolicy",
        true,
        Restricts,
        Reach::IstioRoot,
    ),
    row(
        ISTIO_SEC,
        "PeerAuthentication",
        true,
        Restricts,
        Reach::IstioRoot,
    ),
    row(LINKERD, "Server", true, Restricts, Reach::Own),
    row(LINKERD, "AuthorizationPolicy", true, Restricts, Reach::Own),
    row(LINKERD, "ServerAuthorization", true, Restricts, Reach::Own),
    row(
        LINKERD,
        "EgressNetwork",
        true,
        Restricts,
        Reach::OwnOrEverywhereFrom("linkerd-egress"),
    ),
    row(
        ANTREA,
        "ClusterNetworkPolicy",
        false,
        AllowsAndDenies,
        Reach::NamespaceSelector {
            list: Some("/spec/appliedTo"),
            field: "/namespaceSelector",
        },
    ),
    row(ANTREA, "NetworkPolicy", true, AllowsAndDenies, Reach::Own),
    row(
        ANTREA,
        "Egress",
        false,
        ExitPath,
        Reach::NamespaceSelector {
            list: None,
            field: "/spec/appliedTo/namespaceSelector",
        },
    ),
    row(OVN, "EgressFirewall", true, Restricts, Reach::Own),
    row(
        OVN,
        "EgressIP",
        false,
        ExitPath,
        Reach::NamespaceSelector {
            list: None,
            field: "/spec/namespaceSelector",
        },
    ),
    row(
        &["network.openshift.io"],
        "EgressNetworkPolicy",
        true,
        Restricts,
        Reach::Own,
    ),
    row(
        MULTUS,
        "NetworkAttachmentDefinition",
        true,
        BypassesNetworkPolicy,
        Reach::Own,
    ),
    row(MULTUS, "MultiNetworkPolicy", true, Restricts, Reach::Own),
    // Cloud providers: GKE's FQDN egress policies, and EKS security groups
    // for pods (the VPC's firewall applied per pod).
    row(
        &["networking.gke.io"],
        "FQDNNetworkPolicy",
        true,
        AllowsAndDenies,
        Reach::Own,
    ),
    row(
        &["vpcresources.k8s.aws"],
        "SecurityGroupPolicy",
        true,
        Restricts,
        Reach::Own,
    ),
];

pub fn lookup(api_version: &str, kind: &str) -> Option<&'static TrafficKind> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    TABLE
        .iter()
        .find(|t| t.kind == kind && t.groups.contains(&group))
}

/// Whether an object of this kind changes traffic in a way Palisade does
/// not model (so it is on the control paths: it cannot exempt itself).
pub fn changes_traffic(api_version: &str, kind: &str) -> bool {
    lookup(api_version, kind).is_some()
}

/// The scope of a kind of the table: `Some(true)` when namespaced.
pub fn namespaced(api_version: &str, kind: &str) -> Option<bool> {
    lookup(api_version, kind).map(|t| t.namespaced)
}
