"""proxy-clients, in Python: the same rule as ../rust and ../js.

Every workload that may reach the proxy carries an owner label and an
HTTPS_PROXY that points at the proxy. Build: ./build.sh
"""

from dataclasses import dataclass, field
from typing import List, Optional

from palisade_sdk import (Direction, IpBlockPeer, Protocol, Severity, env, kind_name, labels,
                          plugin, report)

DOC = """\
## What it checks

Every workload that NetworkPolicies let reach the proxy's pods on a proxy
port (or that is not isolated for egress, so reaches everything; where the
proxy is declared by CIDR, a block of every address or one written as a
proxy CIDR reaches it):

- carries the owner label (`ownerLabel`, default `owner`) in its own
  metadata, so access logs and findings have someone to go to;
- sets `HTTPS_PROXY` (or `https_proxy`) in every container to a URL whose
  host is one of the proxy's (`proxyHosts`, default the policy set's
  `roles.proxy.hosts`) and whose port is a proxy port.

The proxy's own pods are not checked. A value the inputs do not determine
(a Secret, a ConfigMap outside the inputs) cannot be checked and is reported.

## Why it matters

A client without `HTTPS_PROXY` tries to connect directly; its calls fail or,
where a policy is too wide, bypass the proxy's allow-list and logs.

## How to fix

Add the label, and set `HTTPS_PROXY=http://<proxy host>:<port>` in the pod
template.

## Settings

- `ownerLabel` (text): the label, default `owner`.
- `proxyHosts` (text list): the hosts `HTTPS_PROXY` may name; empty: the
  policy set's proxy hosts.
"""


@dataclass
class Settings:
    owner_label: str = field(default="owner", metadata={
        "doc": "The label every proxy client carries in its own metadata."})
    proxy_hosts: List[str] = field(default_factory=list, metadata={
        "doc": "Hosts HTTPS_PROXY may name (empty: the policy set's proxy hosts)."})

    def validate(self) -> Optional[str]:
        if not self.owner_label:
            return "ownerLabel must not be empty"
        return None


rules = plugin(id="proxy-clients", version="0.1.0",
               description="Proxy clients carry an owner and point HTTPS_PROXY at the proxy",
               settings=Settings)


def admits(ranges, ports) -> bool:
    """Whether port ranges (None: every port) admit a proxy port over TCP
    (any TCP port when the policy set names no proxy port)."""
    if ranges is None:
        return True
    return any(protocol == Protocol.TCP and (not ports or any(first <= p <= last for p in ports))
               for protocol, first, last in ranges)


def address_ports(rule):
    """A rule's ports as (protocol, first, last), for an address peer (a
    named port matches no address); None: every port."""
    if not rule.ports:
        return None
    out = []
    for spec in rule.ports:
        if spec.port is None:
            out.append((spec.protocol, 0, 65535))
        elif isinstance(spec.port.value, int):
            out.append((spec.protocol, spec.port.value, spec.end_port or spec.port.value))
    return out


def may_reach_proxy(cx, w, proxy) -> bool:
    """Whether NetworkPolicies let `w` open a connection to a proxy pod (or
    proxy CIDR) on a proxy port."""
    pods = set(proxy.pods.workloads)
    if not pods and not proxy.cidrs:
        return False
    if not w.isolation.egress:
        return True
    for fv in cx.flows(w, Direction.EGRESS):
        if isinstance(fv.peer, IpBlockPeer):
            block = fv.peer.value
            to_cidrs = block.every_address or block.cidr in proxy.cidrs
            targets = []
        elif fv.peer is None:
            to_cidrs, targets = True, sorted(pods)
        else:
            to_cidrs, targets = False, [t for t in fv.matches.workloads if t in pods]
        if to_cidrs and proxy.cidrs and admits(address_ports(fv.rule), proxy.ports):
            return True
        for t in targets:
            ranges = cx.facts.resolved_ports(fv.flow.policy, Direction.EGRESS, fv.flow.rule, t)
            if admits(None if ranges is None else [(r.protocol, r.first, r.last) for r in ranges],
                      proxy.ports):
                return True
    return False


def proxy_url(value: str):
    """(host, port) of an HTTPS_PROXY value; port None when it is not a port."""
    s = value.strip()
    scheme = ""
    if "://" in s:
        scheme, s = s.split("://", 1)
        scheme = scheme.lower()
    s = s.split("/", 1)[0]
    if "@" in s:
        s = s.rsplit("@", 1)[1]
    port = ""
    if s.startswith("["):
        end = s.find("]")
        host, rest = (s[1:end], s[end + 1:]) if end >= 0 else (s, "")
        if rest.startswith(":"):
            port = rest[1:]
    elif s.count(":") == 1:
        host, port = s.split(":")
    else:
        host = s
    if port == "":
        number = 443 if scheme == "https" else 80
    elif port.isascii() and port.isdigit() and int(port) <= 65535:
        number = int(port)
    else:
        number = None
    return host.lower(), number


@rules.rule(id="PC001", name="proxy-client-setup", severity=Severity.ERROR,
            summary="Workloads that may reach the proxy carry an owner label and an HTTPS_PROXY pointing at it",
            doc=DOC)
def proxy_client_setup(cx):
    proxy = cx.facts.proxy()
    hosts = [h.lower() for h in (cx.settings.proxy_hosts or proxy.hosts)]
    owner = cx.settings.owner_label
    for w in cx.workloads():
        if w.id in proxy.pods.workloads or not may_reach_proxy(cx, w, proxy):
            continue
        what = f"{kind_name(w.kind)} `{w.namespace}/{w.name}`"
        if owner not in labels(cx.object(w.object)):
            yield report(w, f"{what} may reach the proxy but has no `{owner}` label") \
                .at("/metadata").fix(f"add `{owner}: <team>` to its metadata.labels")
        k = 0
        for c in w.containers:
            if c.init:
                continue
            at = f"{w.pod_spec_path}/containers/{k}"
            k += 1
            variables = env(c)
            name = "HTTPS_PROXY" if "HTTPS_PROXY" in variables else "https_proxy"
            if name not in variables:
                yield report(w, f"container `{c.name}` of {what} may reach the proxy but sets no HTTPS_PROXY").at(at)
                continue
            value = variables[name]
            if value is None or "$(" in value:
                yield report(w, f"container `{c.name}` of {what}: {name} is not known from the inputs, so it cannot be checked").at(at)
                continue
            host, port = proxy_url(value)
            if (hosts and host not in hosts) or port is None or (proxy.ports and port not in proxy.ports):
                wanted = "|".join(hosts) or "<any host>"
                ports = "|".join(str(p) for p in proxy.ports) or "<any port>"
                yield report(w, f"container `{c.name}` of {what}: {name} `{value}` does not point at the proxy ({wanted}:{ports})").at(at)


Plugin = rules.export()
