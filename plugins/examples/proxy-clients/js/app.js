// proxy-clients, in JavaScript: the same rule as ../rust and ../python.
//
// Every workload that may reach the proxy carries an owner label and an
// HTTPS_PROXY that points at the proxy. Build: ./build.sh

import { definePlugin, env, kindName, labels, report, setting } from './sdk/palisade.js';

const DOC = `## What it checks

Every workload that NetworkPolicies let reach the proxy's pods on a proxy
port (or that is not isolated for egress, so reaches everything; where the
proxy is declared by CIDR, a block of every address or one written as a
proxy CIDR reaches it):

- carries the owner label (\`ownerLabel\`, default \`owner\`) in its own
  metadata, so access logs and findings have someone to go to;
- sets \`HTTPS_PROXY\` (or \`https_proxy\`) in every container to a URL whose
  host is one of the proxy's (\`proxyHosts\`, default the policy set's
  \`roles.proxy.hosts\`) and whose port is a proxy port.

The proxy's own pods are not checked. A value the inputs do not determine
(a Secret, a ConfigMap outside the inputs) cannot be checked and is reported.

## Why it matters

A client without \`HTTPS_PROXY\` tries to connect directly; its calls fail or,
where a policy is too wide, bypass the proxy's allow-list and logs.

## How to fix

Add the label, and set \`HTTPS_PROXY=http://<proxy host>:<port>\` in the pod
template.

## Settings

- \`ownerLabel\` (text): the label, default \`owner\`.
- \`proxyHosts\` (text list): the hosts \`HTTPS_PROXY\` may name; empty: the
  policy set's proxy hosts.
`;

const p = definePlugin({
  id: 'proxy-clients',
  version: '0.1.0',
  description: 'Proxy clients carry an owner and point HTTPS_PROXY at the proxy',
  settings: {
    ownerLabel: setting.text('owner', 'The label every proxy client carries in its own metadata.'),
    proxyHosts: setting.textList([], "Hosts HTTPS_PROXY may name (empty: the policy set's proxy hosts)."),
  },
  validate: (s) => (s.ownerLabel ? undefined : 'ownerLabel must not be empty'),
});

// Whether port ranges (undefined: every port) admit a proxy port over TCP
// (any TCP port when the policy set names no proxy port).
function admits(ranges, ports) {
  if (ranges === undefined) return true;
  return ranges.some((r) => r.protocol === 'tcp'
    && (ports.length === 0 || ports.some((port) => r.first <= port && port <= r.last)));
}

// A rule's ports as ranges, for an address peer (a named port matches no
// address); undefined: every port.
function addressPorts(rule) {
  if (rule.ports.length === 0) return undefined;
  const out = [];
  for (const spec of rule.ports) {
    if (spec.port === undefined) {
      out.push({ protocol: spec.protocol, first: 0, last: 65535 });
    } else if (spec.port.tag === 'number') {
      out.push({ protocol: spec.protocol, first: spec.port.val, last: spec.endPort ?? spec.port.val });
    }
  }
  return out;
}

// Whether NetworkPolicies let `w` open a connection to a proxy pod (or proxy
// CIDR) on a proxy port.
function mayReachProxy(cx, w, proxy) {
  const pods = new Set(proxy.pods.workloads);
  if (pods.size === 0 && proxy.cidrs.length === 0) return false;
  if (w.isolation.egress.length === 0) return true;
  for (const fv of cx.flows(w, 'egress')) {
    let toCidrs;
    let targets;
    if (fv.peer?.tag === 'ip-block') {
      const block = fv.peer.val;
      toCidrs = block.everyAddress || proxy.cidrs.includes(block.cidr);
      targets = [];
    } else if (fv.peer === undefined) {
      toCidrs = true;
      targets = [...pods].sort((a, b) => a - b);
    } else {
      toCidrs = false;
      targets = fv.matches.workloads.filter((t) => pods.has(t));
    }
    if (toCidrs && proxy.cidrs.length > 0 && admits(addressPorts(fv.rule), proxy.ports)) return true;
    for (const t of targets) {
      const ranges = cx.facts.resolvedPorts(fv.flow.policy, 'egress', fv.flow.rule, t);
      if (admits(ranges, proxy.ports)) return true;
    }
  }
  return false;
}

// [host, port] of an HTTPS_PROXY value; port undefined when it is not a port.
function proxyUrl(value) {
  let s = value.trim();
  let scheme = '';
  const sep = s.indexOf('://');
  if (sep >= 0) {
    scheme = s.slice(0, sep).toLowerCase();
    s = s.slice(sep + 3);
  }
  s = s.split('/')[0];
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  let host = s;
  let port = '';
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end >= 0) {
      host = s.slice(1, end);
      const rest = s.slice(end + 1);
      if (rest.startsWith(':')) port = rest.slice(1);
    }
  } else if (s.split(':').length === 2) {
    [host, port] = s.split(':');
  }
  let number;
  if (port === '') number = scheme === 'https' ? 443 : 80;
  else if (/^[0-9]+$/.test(port) && Number(port) <= 65535) number = Number(port);
  return [host.toLowerCase(), number];
}

p.rule({
  id: 'PC001',
  name: 'proxy-client-setup',
  severity: 'error',
  summary: 'Workloads that may reach the proxy carry an owner label and an HTTPS_PROXY pointing at it',
  doc: DOC,
}, function* (cx) {
  const proxy = cx.facts.proxy();
  const hosts = (cx.settings.proxyHosts.length ? cx.settings.proxyHosts : proxy.hosts)
    .map((h) => h.toLowerCase());
  const owner = cx.settings.ownerLabel;
  for (const w of cx.workloads()) {
    if (proxy.pods.workloads.includes(w.id) || !mayReachProxy(cx, w, proxy)) continue;
    const what = `${kindName(w.kind)} \`${w.namespace}/${w.name}\``;
    if (!(owner in labels(cx.object(w.object)))) {
      yield report(w, `${what} may reach the proxy but has no \`${owner}\` label`)
        .at('/metadata').fix(`add \`${owner}: <team>\` to its metadata.labels`);
    }
    let k = 0;
    for (const c of w.containers) {
      if (c.init) continue;
      const at = `${w.podSpecPath}/containers/${k}`;
      k += 1;
      const variables = env(c);
      const name = 'HTTPS_PROXY' in variables ? 'HTTPS_PROXY' : 'https_proxy';
      if (!(name in variables)) {
        yield report(w, `container \`${c.name}\` of ${what} may reach the proxy but sets no HTTPS_PROXY`).at(at);
        continue;
      }
      const value = variables[name];
      if (value === undefined || value.includes('$(')) {
        yield report(w, `container \`${c.name}\` of ${what}: ${name} is not known from the inputs, so it cannot be checked`).at(at);
        continue;
      }
      const [host, port] = proxyUrl(value);
      if ((hosts.length && !hosts.includes(host)) || port === undefined
          || (proxy.ports.length && !proxy.ports.includes(port))) {
        const wanted = hosts.join('|') || '<any host>';
        const ports = proxy.ports.join('|') || '<any port>';
        yield report(w, `container \`${c.name}\` of ${what}: ${name} \`${value}\` does not point at the proxy (${wanted}:${ports})`).at(at);
      }
    }
  }
});

export const plugin = p.export();
