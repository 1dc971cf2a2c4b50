//! Generated inputs for benchmarks and property tests. Not a stable API.

use std::fmt::Write as _;

/// A small deterministic PRNG (xorshift64*), so generated clusters are the
/// same on every machine for a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        if n == 0 { 0 } else { (x % n as u64) as usize }
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or_default()
    }
}

/// A multi-document YAML cluster: `namespaces` namespaces, `pods` Pods and
/// `policies` NetworkPolicies, mixing every selector, peer, port and
/// `policyTypes` form the API has.
pub fn generate_cluster(namespaces: usize, pods: usize, policies: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let namespaces = namespaces.max(1);
    let mut out = String::with_capacity(pods * 300 + policies * 600);
    for n in 0..namespaces {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{n}\n  labels: {{team: t{}, env: {}}}\n",
            n % 4,
            rng.pick(&["prod", "dev"])
        );
    }
    for p in 0..pods {
        let ns = rng.below(namespaces);
        let ports = rng.pick(&[
            "[{name: http, containerPort: 80}]",
            "[{name: http, containerPort: 8080}]",
            "[{name: dns, containerPort: 53, protocol: UDP}, {name: http, containerPort: 81}]",
            "[]",
        ]);
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{p}\n  namespace: ns-{ns}\n  labels: {{app: a{}, tier: {}}}\nspec:\n  containers: [{{name: c, image: i, ports: {ports}}}]\n",
            rng.below(4),
            rng.pick(&["web", "api", "db"]),
        );
        if rng.below(8) == 0 {
            let _ = writeln!(
                out,
                "status: {{podIP: 10.{}.{}.{}}}",
                ns % 256,
                p / 256 % 256,
                p % 256
            );
        }
    }
    for q in 0..policies {
        let ns = rng.below(namespaces);
        let _ = write!(
            out,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np-{q}\n  namespace: ns-{ns}\nspec:\n  podSelector: {}\n",
            selector(&mut rng)
        );
        match rng.below(4) {
            0 => {}
            1 => out.push_str("  policyTypes: [Ingress]\n"),
            2 => out.push_str("  policyTypes: [Egress]\n"),
            _ => out.push_str("  policyTypes: [Ingress, Egress]\n"),
        }
        for dir in ["ingress", "egress"] {
            match rng.below(5) {
                0 => {}
                1 => {
                    let _ = writeln!(out, "  {dir}: []");
                }
                _ => {
                    let _ = writeln!(out, "  {dir}:");
                    for _ in 0..=rng.below(2) {
                        rule(&mut out, &mut rng, dir == "ingress");
                    }
                }
            }
        }
    }
    out
}

fn selector(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => "{}".to_string(),
        1 => format!("{{matchLabels: {{app: a{}}}}}", rng.below(4)),
        2 => format!(
            "{{matchExpressions: [{{key: tier, operator: In, values: [{}, {}]}}]}}",
            rng.pick(&["web", "api"]),
            rng.pick(&["db", "api"])
        ),
        3 => format!(
            "{{matchExpressions: [{{key: app, operator: NotIn, values: [a{}]}}]}}",
            rng.below(4)
        ),
        _ => "{matchExpressions: [{key: tier, operator: Exists}, {key: missing, operator: DoesNotExist}]}".to_string(),
    }
}

fn rule(out: &mut String, rng: &mut Rng, ingress: bool) {
    let peers_key = if ingress { "from" } else { "to" };
    out.push_str("    - ");
    let mut first = true;
    let mut field = |out: &mut String, text: String| {
        if !first {
            out.push_str("      ");
        }
        first = false;
        out.push_str(&text);
        out.push('\n');
    };
    match rng.below(4) {
        0 => {}
        1 => field(out, format!("{peers_key}: []")),
        _ => {
            let mut peers = Vec::new();
            for _ in 0..=rng.below(2) {
                peers.push(match rng.below(5) {
                    0 => format!("{{podSelector: {}}}", selector(rng)),
                    1 => format!(
                        "{{namespaceSelector: {{matchLabels: {{team: t{}}}}}}}",
                        rng.below(4)
                    ),
                    2 => format!(
                        "{{namespaceSelector: {{matchLabels: {{env: {}}}}}, podSelector: {}}}",
                        rng.pick(&["prod", "dev"]),
                        selector(rng)
                    ),
                    3 => "{namespaceSelector: {}}".to_string(),
                    _ => rng
                        .pick(&[
                            "{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}",
                            "{ipBlock: {cidr: 0.0.0.0/0}}",
                            "{ipBlock: {cidr: 192.168.1.0/24}}",
                            "{ipBlock: {cidr: '2001:db8::/32'}}",
                        ])
                        .to_string(),
                });
            }
            field(out, format!("{peers_key}: [{}]", peers.join(", ")));
        }
    }
    match rng.below(6) {
        0 => {}
        1 => field(out, "ports: []".to_string()),
        2 => field(out, "ports: [{port: 80}]".to_string()),
        3 => field(out, "ports: [{port: http}]".to_string()),
        4 => field(
            out,
            "ports: [{port: 53, protocol: UDP}, {port: dns, protocol: UDP}]".to_string(),
        ),
        _ => field(
            out,
            "ports: [{port: 79, endPort: 81}, {protocol: SCTP}]".to_string(),
        ),
    }
    if first {
        out.push_str("{}\n");
    }
}

/// Parses YAML (with the host's parser) into a deserializable type, for
/// test-case files.
pub fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let file = crate::input::ConfigFile::parse("<yaml>", text).map_err(|e| e.to_string())?;
    serde_json::from_value(file.value().clone()).map_err(|e| e.to_string())
}

/// Loads inputs as a check would (read, parse, split into objects) and
/// returns how many objects and diagnostics came out: the loader alone, for
/// memory and time measurements.
pub fn load(inputs: &crate::Inputs) -> (usize, usize) {
    let loaded = crate::input::load(inputs, &crate::input::LoadOptions::default());
    (loaded.objects.len(), loaded.diagnostics.len())
}

/// The NetworkPolicy assumption table (each undefined corner, each network
/// plugin profile's reading, the sources) in Markdown, as README.md carries
/// it.
pub fn network_plugin_table() -> String {
    crate::netpol::plugin::markdown()
}
