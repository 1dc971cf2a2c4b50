#!/usr/bin/env python3
"""Writes a realistic cluster of about N objects as one YAML stream, the same
for the same N and seed.

Each team namespace holds a default-deny NetworkPolicy, egress to the proxy
and cluster DNS, a ServiceAccount, an `edit` RoleBinding for its team group,
and Deployments with Services; the egress-proxy namespace holds squid (its
Deployment, Service, NetworkPolicy and ConfigMap). About one namespace in
ten carries a deliberate flaw: a policy opening egress to 0.0.0.0/0, a
workload without isolation, a binding that grants `edit` to every service
account, or a proxy variable pointing elsewhere.

    python3 tests/bench/gen-cluster.py 10000 > cluster.yaml
    python3 tests/bench/gen-cluster.py 10000 --seed 7 > other.yaml
"""

import argparse
import random
import sys

PER_NAMESPACE = 100  # objects per team namespace, about


def namespace(out, name):
    out.append(f"""apiVersion: v1
kind: Namespace
metadata:
  name: {name}
  labels: {{team: {name}}}""")


def proxy(out):
    namespace(out, "egress-proxy")
    out.append("""apiVersion: v1
kind: ConfigMap
metadata: {name: squid, namespace: egress-proxy}
data:
  squid.conf: |
    http_port 3128
    acl localnet src 10.0.0.0/8
    acl SSL_ports port 443
    acl Safe_ports port 80 443
    acl CONNECT method CONNECT
    acl allowed dstdomain .github.com .pypi.org
    http_access deny !Safe_ports
    http_access deny CONNECT !SSL_ports
    http_access allow localnet allowed
    http_access deny all
    access_log stdio:/dev/stdout""")
    out.append("""apiVersion: apps/v1
kind: Deployment
metadata: {name: squid, namespace: egress-proxy}
spec:
  selector: {matchLabels: {app: squid}}
  template:
    metadata: {labels: {app: squid}}
    spec:
      automountServiceAccountToken: false
      containers:
      - name: squid
        image: registry.example.com/squid:6
        ports: [{name: proxy, containerPort: 3128}]""")
    out.append("""apiVersion: v1
kind: Service
metadata: {name: squid, namespace: egress-proxy}
spec:
  selector: {app: squid}
  ports: [{port: 3128, targetPort: proxy}]""")
    out.append("""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: proxy, namespace: egress-proxy}
spec:
  podSelector: {matchLabels: {app: squid}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [egress-proxy]}]}}]
    ports: [{port: 3128}]
  egress:
  - ports: [{port: 443}, {port: 80}]""")


def team(out, rng, index, apps):
    ns = f"team-{index:04d}"
    flaw = rng.randrange(10) == 0 and rng.choice(["internet", "open", "rbac", "env"])
    namespace(out, ns)
    out.append(f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: default-deny, namespace: {ns}}}
spec:
  podSelector: {{}}
  policyTypes: [Ingress, Egress]""")
    egress_to = (
        "[{ipBlock: {cidr: 0.0.0.0/0}}]"
        if flaw == "internet"
        else "[{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: egress-proxy}}, podSelector: {matchLabels: {app: squid}}}]"
    )
    out.append(f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: egress, namespace: {ns}}}
spec:
  podSelector: {{matchLabels: {{isolated: "yes"}}}}
  policyTypes: [Egress]
  egress:
  - to: {egress_to}
    ports: [{{port: 3128}}]
  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: kube-system}}}}, podSelector: {{matchLabels: {{k8s-app: kube-dns}}}}}}]
    ports: [{{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}]""")
    out.append(f"""apiVersion: v1
kind: ServiceAccount
metadata: {{name: app, namespace: {ns}}}
automountServiceAccountToken: false""")
    subject = (
        "{kind: Group, name: system:serviceaccounts, apiGroup: rbac.authorization.k8s.io}"
        if flaw == "rbac"
        else f"{{kind: Group, name: devs-{index}, apiGroup: rbac.authorization.k8s.io}}"
    )
    out.append(f"""apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: devs, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}
subjects: [{subject}]""")
    for a in range(apps):
        isolated = "no" if flaw == "open" and a == 0 else "yes"
        proxy_url = (
            "http://proxy.example.net:8080"
            if flaw == "env" and a == 0
            else "http://squid.egress-proxy.svc:3128"
        )
        port = rng.choice([8080, 8443, 9000])
        out.append(f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: app-{a:03d}, namespace: {ns}}}
spec:
  replicas: {rng.randrange(1, 4)}
  selector: {{matchLabels: {{app: app-{a:03d}}}}}
  template:
    metadata: {{labels: {{app: app-{a:03d}, isolated: "{isolated}", tier: t{a % 3}}}}}
    spec:
      serviceAccountName: app
      containers:
      - name: main
        image: registry.example.com/app-{a % 17}:1.{rng.randrange(40)}
        env:
        - {{name: HTTPS_PROXY, value: "{proxy_url}"}}
        - {{name: NO_PROXY, value: ".svc,.cluster.local,10.0.0.0/8"}}
        ports: [{{name: http, containerPort: {port}}}]""")
        out.append(f"""apiVersion: v1
kind: Service
metadata: {{name: app-{a:03d}, namespace: {ns}}}
spec:
  selector: {{app: app-{a:03d}}}
  ports: [{{port: 80, targetPort: http}}]""")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("objects", type=int, help="about how many objects")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = []
    proxy(out)
    # Five objects per namespace besides its apps, two per app.
    namespaces = max(1, args.objects // PER_NAMESPACE)
    apps = max(1, (min(args.objects, PER_NAMESPACE) - 5) // 2)
    for i in range(namespaces):
        team(out, rng, i, apps)
    sys.stdout.write("\n---\n".join(out) + "\n")


if __name__ == "__main__":
    main()
