"""Write Palisade rules in Python.

A plugin is a module that declares itself, its settings and its rules, and
binds the result to the name ``Plugin``, which componentize-py exports::

    from dataclasses import dataclass
    from palisade_sdk import Severity, plugin, report

    @dataclass
    class Settings:
        label: str = "team"

    rules = plugin(id="team-label", version="0.1.0",
                   description="Workloads carry a team label", settings=Settings)

    @rules.rule(id="TL001", name="team-label", severity=Severity.ERROR,
                summary="Every workload's pods carry a team label", doc="...")
    def team_label(cx):
        for w in cx.workloads():
            if cx.settings.label not in labels(w):
                yield report(w, f"{w.name} has no team label").at("/metadata")

    Plugin = rules.export()

The facts are the host's: the model of the inputs (workloads, policies,
flows, RBAC, proxies), computed once, in one place, for every language. This
module adds lookups over them, settings as a dataclass, and findings; it does
not compute semantics of its own.

Build with ``componentize-py -d wit -w policy-plugin componentize app
--stub-wasi -o plugin.wasm``. The sandbox gives a plugin no files, network,
environment, clock or randomness; ``print`` goes to the plugin's log.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import traceback
import typing
from typing import Any, Callable, Dict, Iterable, List, Optional

from componentize_py_types import Err
from wit_world.imports import cloud as _cloud
from wit_world.imports import facts as _facts
from wit_world.imports import log as _log
from wit_world.imports import observed as _observed
from wit_world.imports import ports as _ports
from wit_world.imports import types as _types

__all__ = [
    "AddressClasses", "CallVerdict", "CidrList", "Container", "Context", "Direction", "Facts",
    "Finding", "Flow", "FlowView", "IpBlockPeer", "Level", "NetworkPolicy",
    "ObservedCall", "Placement", "PluginSpec", "PodPeer", "PortList", "PortRange", "Protocol",
    "ReachVerdict", "Report", "SecurityGroup", "Severity", "SourceObject",
    "Subnet", "Vpc", "Workload", "WorkloadKind", "env", "kind_name", "labels",
    "log", "plugin", "report",
]

# The contract's types, under the names rule authors use.
Severity = _types.Severity
Direction = _types.Direction
Protocol = _types.Protocol
WorkloadKind = _types.WorkloadKind
SourceObject = _types.SourceObject
Workload = _types.Workload
Container = _types.Container
NetworkPolicy = _types.NetworkPolicy
Flow = _types.Flow
AddressClasses = _types.AddressClasses
Finding = _types.Finding
PortRange = _ports.PortRange
Level = _log.Level
ObservedCall = _observed.ObservedCall
CallVerdict = _observed.CallVerdict
Vpc = _cloud.Vpc
Subnet = _cloud.Subnet
SecurityGroup = _cloud.SecurityGroup
Placement = _cloud.Placement
ReachVerdict = _cloud.ReachVerdict
PodPeer = _types.Peer_Pods
IpBlockPeer = _types.Peer_IpBlock

# Marker types for settings whose values the host checks beyond "a list of
# strings" / "a list of integers" (`settings: CidrList = ...`).
CidrList = typing.NewType("CidrList", List[str])
PortList = typing.NewType("PortList", List[int])

_KIND_NAMES = {
    WorkloadKind.POD: "Pod",
    WorkloadKind.DEPLOYMENT: "Deployment",
    WorkloadKind.STATEFUL_SET: "StatefulSet",
    WorkloadKind.DAEMON_SET: "DaemonSet",
    WorkloadKind.REPLICA_SET: "ReplicaSet",
    WorkloadKind.REPLICATION_CONTROLLER: "ReplicationController",
    WorkloadKind.JOB: "Job",
    WorkloadKind.CRON_JOB: "CronJob",
}


def kind_name(kind: WorkloadKind) -> str:
    """The Kubernetes kind of a workload kind (``Deployment``)."""
    return _KIND_NAMES[kind]


def log(level: Level, message: str) -> None:
    """Sends a message to the host's log for this evaluation (``--verbose``)."""
    _log.log(level, message)


class _LogStream:
    """``sys.stdout``/``sys.stderr`` inside the sandbox: whole lines go to the
    plugin's log (a component has no terminal; an unredirected ``print``
    would trap)."""

    def __init__(self, level: Level) -> None:
        self._level = level
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            _log.log(self._level, line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            _log.log(self._level, self._pending)
            self._pending = ""


sys.stdout = _LogStream(Level.INFO)  # type: ignore[assignment]
sys.stderr = _LogStream(Level.WARN)  # type: ignore[assignment]


def labels(subject: Any) -> Dict[str, str]:
    """The labels of a source object, workload (its pods' labels), namespace
    or anything else with a ``labels`` list, as a dict."""
    return {label.key: label.value for label in subject.labels}


def env(container: Container) -> Dict[str, Optional[str]]:
    """A container's environment: name to literal value (``None`` when the
    value comes from ``valueFrom``)."""
    return {var.name: var.value for var in container.env}


class Facts:
    """The host's facts for one evaluation, each fetched once on first use."""

    def __init__(self) -> None:
        self._cache: Dict[str, Any] = {}

    def _once(self, name: str, fetch: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = fetch()
        return self._cache[name]

    def settings_json(self) -> str:
        return self._once("settings", _facts.settings)

    def enabled_rules(self) -> List[str]:
        return self._once("enabled", _facts.enabled_rules)

    def excluded_namespaces(self) -> List[str]:
        return self._once("excluded", _facts.excluded_namespaces)

    def objects(self) -> List[SourceObject]:
        return self._once("objects", _facts.objects)

    def namespaces(self) -> List[_types.Namespace]:
        return self._once("namespaces", _facts.namespaces)

    def workloads(self) -> List[Workload]:
        return self._once("workloads", _facts.workloads)

    def network_policies(self) -> List[NetworkPolicy]:
        return self._once("policies", _facts.network_policies)

    def flows(self, workload: int, direction: Direction) -> List[Flow]:
        return self._once(f"flows/{workload}/{direction.value}",
                          lambda: _facts.flows(workload, direction))

    def select_workloads(self, namespace: Optional[str],
                         selector: _types.LabelSelector) -> List[int]:
        return _facts.select_workloads(namespace, selector)

    def classify_address(self, address: str) -> Optional[AddressClasses]:
        return _facts.classify_address(address)

    def rbac_roles(self) -> List[_types.RbacRole]:
        return self._once("roles", _facts.rbac_roles)

    def rbac_bindings(self) -> List[_types.RbacBinding]:
        return self._once("bindings", _facts.rbac_bindings)

    def who_can(self, query: _types.AccessQuery) -> List[_types.AccessGrant]:
        return _facts.who_can(query)

    def proxies(self) -> List[_types.ProxyConfig]:
        return self._once("proxies", _facts.proxies)

    def evaluate_proxy(self, proxy: int,
                       request: _types.ProxyRequest) -> Optional[_types.ProxyVerdict]:
        return _facts.evaluate_proxy(proxy, request)

    def proxy(self) -> _types.ProxyRole:
        return self._once("proxy", _facts.proxy)

    def cluster_dns(self):
        return self._once("dns", _facts.cluster_dns)

    def allowed_destinations(self):
        return self._once("allowed", _facts.allowed_destinations)

    def admins(self) -> List[_types.RbacSubject]:
        return self._once("admins", _facts.admins)

    def resolved_ports(self, policy: int, direction: Direction, rule: int,
                       destination: int) -> Optional[List[PortRange]]:
        return _ports.resolved_ports(policy, direction, rule, destination)

    def observed_calls(self) -> List[ObservedCall]:
        """What the proxy access logs show (contract 0.2.3)."""
        return self._once("observed", _observed.observed_calls)

    # The cloud network (contract 0.2.2); empty without cloud inputs.

    def vpcs(self) -> List[Vpc]:
        return self._once("vpcs", _cloud.vpcs)

    def subnets(self) -> List[Subnet]:
        return self._once("subnets", _cloud.subnets)

    def security_groups(self) -> List[SecurityGroup]:
        return self._once("groups", _cloud.security_groups)

    def workload_placement(self, workload: int) -> Optional[Placement]:
        return _cloud.workload_placement(workload)

    def reach(self, subnet: str, security_groups: List[str], address: str,
              protocol: Protocol, port: int) -> ReachVerdict:
        return _cloud.reach(subnet, security_groups, address, protocol, port)


@dataclasses.dataclass
class FlowView:
    """A flow with the policy, rule and peer it refers to."""

    flow: Flow
    policy: NetworkPolicy
    rule: _types.PolicyRule
    #: The peer and what it matches; ``None``: every pod and address.
    peer: Optional[_types.Peer]
    matches: Optional[_types.PeerMatch]

    @property
    def path(self) -> str:
        """JSON pointer of the flow's peer in its policy (the rule's when it
        has no peers)."""
        if self.flow.peer is not None and self.flow.peer < len(self.rule.peer_paths):
            return self.rule.peer_paths[self.flow.peer]
        return self.rule.path


class Report:
    """A finding being built: ``report(obj, message).at("/spec").fix("...")``."""

    def __init__(self, subject: Any, message: str) -> None:
        self.object = _object_id(subject)
        self.message = str(message)
        self.location: _types.Location = _types.Location_Object()
        self.remediation: Optional[str] = None
        self.severity_override: Optional[Severity] = None

    def at(self, path: str) -> "Report":
        """Points the finding at a field: a JSON pointer inside the object
        (``/spec/podSelector``)."""
        self.location = _types.Location_Field(str(path))
        return self

    def at_line(self, line: int) -> "Report":
        """Points the finding at a line of a proxy configuration's file."""
        self.location = _types.Location_Line(int(line))
        return self

    def fix(self, remediation: str) -> "Report":
        """Adds remediation text."""
        self.remediation = str(remediation)
        return self

    def severity(self, severity: Severity) -> "Report":
        """Overrides the rule's default severity for this finding."""
        self.severity_override = severity
        return self


def report(subject: Any, message: str) -> Report:
    """A finding about ``subject``: a source object, a workload, a policy, a
    proxy config (anything with an ``object`` field) or a source-object ID."""
    return Report(subject, message)


def _object_id(subject: Any) -> int:
    if isinstance(subject, bool):
        raise TypeError("report() needs an object, not a bool")
    if isinstance(subject, int):
        return subject
    if isinstance(subject, SourceObject):
        return subject.id
    obj = getattr(subject, "object", None)
    if isinstance(obj, int):
        return obj
    raise TypeError(f"report() cannot tell which object {type(subject).__name__} is")


class Context:
    """What a rule sees: the facts, its settings, and lookups over them."""

    def __init__(self, facts: Facts, settings: Any, rule: "_Rule") -> None:
        self.facts = facts
        self.settings = settings
        self.rule_id = rule.id
        self.default_severity = rule.severity

    def in_scope(self, namespace: str) -> bool:
        """Whether objects in ``namespace`` may be reported on (the policy set
        may exclude namespaces; the host drops findings about them)."""
        return namespace not in self.facts.excluded_namespaces()

    def workloads(self) -> List[Workload]:
        """Workloads whose namespace is in scope."""
        return [w for w in self.facts.workloads() if self.in_scope(w.namespace)]

    def network_policies(self) -> List[NetworkPolicy]:
        """NetworkPolicies whose namespace is in scope."""
        return [p for p in self.facts.network_policies() if self.in_scope(p.namespace)]

    def object(self, id: int) -> SourceObject:
        """The source object with this ID (a workload's ``object``)."""
        return self.facts.objects()[id]

    def workload(self, id: int) -> Workload:
        """The workload with this index."""
        return self.facts.workloads()[id]

    def network_policy(self, index: int) -> NetworkPolicy:
        """The NetworkPolicy with this index (a flow's ``policy``)."""
        return self.facts.network_policies()[index]

    def flows(self, workload: Workload, direction: Direction) -> List[FlowView]:
        """What ``workload`` may send (egress) or receive, each flow with its
        policy, rule and peer. Empty when the workload is not isolated in
        that direction: then everything is allowed."""
        out = []
        for flow in self.facts.flows(workload.id, direction):
            policy = self.network_policy(flow.policy)
            rules = policy.egress if direction == Direction.EGRESS else policy.ingress
            rule = rules[flow.rule]
            peer = matches = None
            if flow.peer is not None:
                peer, matches = rule.peers[flow.peer], rule.matches[flow.peer]
            out.append(FlowView(flow, policy, rule, peer, matches))
        return out


@dataclasses.dataclass
class _Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    doc: str
    check: Callable[[Context], Optional[Iterable[Report]]]


_SCALARS = {bool: _types.SettingType.BOOLEAN, int: _types.SettingType.INTEGER,
            str: _types.SettingType.TEXT}


def _setting_type(hint: Any) -> _types.SettingType:
    if hint is CidrList:
        return _types.SettingType.CIDR_LIST
    if hint is PortList:
        return _types.SettingType.PORT_LIST
    if hint in _SCALARS:
        return _SCALARS[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (list, List) and args == (str,):
        return _types.SettingType.TEXT_LIST
    if origin in (dict, Dict) and args == (str, str):
        return _types.SettingType.TEXT_MAP
    return _types.SettingType.STRUCTURED


def _setting_name(field: dataclasses.Field) -> str:
    """``owner_label`` is the setting ``ownerLabel``, as the built-in
    plugins name theirs."""
    head, *rest = field.name.split("_")
    return field.metadata.get("name", head + "".join(w.capitalize() for w in rest))


def _fits(value: Any, kind: _types.SettingType) -> bool:
    if kind == _types.SettingType.BOOLEAN:
        return isinstance(value, bool)
    if kind == _types.SettingType.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _types.SettingType.TEXT:
        return isinstance(value, str)
    if kind in (_types.SettingType.TEXT_LIST, _types.SettingType.CIDR_LIST):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == _types.SettingType.PORT_LIST:
        return isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value)
    if kind == _types.SettingType.TEXT_MAP:
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    return True


class PluginSpec:
    """A plugin being declared: its identity, settings class and rules."""

    def __init__(self, id: str, version: str, description: str,
                 settings: Optional[type]) -> None:
        if settings is not None and not dataclasses.is_dataclass(settings):
            raise TypeError("settings must be a dataclass")
        self.id, self.version, self.description = id, version, description
        self.settings_class = settings
        self.rules: List[_Rule] = []

    def rule(self, *, id: str, name: str, severity: Severity, summary: str,
             doc: str) -> Callable[[Callable], Callable]:
        """Declares a rule. The function takes a `Context` and returns or
        yields `Report`s."""
        def register(check: Callable) -> Callable:
            if any(r.id == id for r in self.rules):
                raise ValueError(f"rule {id} is declared twice")
            self.rules.append(_Rule(id, name, severity, summary, doc, check))
            return check
        return register

    def _fields(self):
        if self.settings_class is None:
            return []
        hints = typing.get_type_hints(self.settings_class)
        return [(f, _setting_name(f), _setting_type(hints[f.name]))
                for f in dataclasses.fields(self.settings_class)]

    def metadata(self) -> _types.PluginMetadata:
        rules = [_types.RuleInfo(r.id, r.name, r.severity, r.summary, r.doc)
                 for r in self.rules]
        settings = [_types.Setting(name, kind, f.metadata.get("doc", ""))
                    for f, name, kind in self._fields()]
        return _types.PluginMetadata(self.id, self.version, self.description,
                                     rules, settings)

    def parse_settings(self, text: str) -> Any:
        """Settings JSON (empty or ``null``: the defaults) as the settings
        dataclass, then its ``validate()`` if it has one. Raises
        ``ValueError`` with a message for the policy-set author."""
        if self.settings_class is None:
            return None
        text = text.strip()
        raw = {} if text in ("", "null") else json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("settings must be a mapping")
        fields = {name: (f, kind) for f, name, kind in self._fields()}
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        values = {}
        for name, value in raw.items():
            field, kind = fields[name]
            if not _fits(value, kind):
                raise ValueError(f"setting `{name}`: expected {kind.name.lower()}, "
                                 f"got {json.dumps(value)}")
            values[field.name] = value
        settings = self.settings_class(**values)
        check = getattr(settings, "validate", None)
        if callable(check):
            problem = check()
            if problem:
                raise ValueError(str(problem))
        return settings

    def evaluate(self, facts: Optional[Facts] = None) -> List[Finding]:
        """Runs every enabled rule over the facts."""
        facts = facts or Facts()
        settings = self.parse_settings(facts.settings_json())
        enabled = set(facts.enabled_rules())
        out: List[Finding] = []
        for rule in self.rules:
            if rule.id not in enabled:
                continue
            cx = Context(facts, settings, rule)
            for r in rule.check(cx) or ():
                if not isinstance(r, Report):
                    raise TypeError(f"rule {rule.id} produced {type(r).__name__}, "
                                    "not a report()")
                out.append(_types.Finding(rule.id, r.severity_override or rule.severity,
                                          r.message, r.object, r.location, r.remediation))
        return out

    def export(self) -> type:
        """The class componentize-py exports: bind it to ``Plugin``."""
        spec = self

        class Plugin:
            def metadata(self) -> _types.PluginMetadata:
                return spec.metadata()

            def validate_settings(self, settings: str) -> None:
                try:
                    spec.parse_settings(settings)
                except Exception as e:  # the author's message, not a trap
                    raise Err(_message(e))

            def evaluate(self) -> List[Finding]:
                try:
                    return spec.evaluate()
                except Exception as e:
                    _log.log(Level.FATAL, traceback.format_exc())
                    raise Err(_types.PluginError(_message(e)))

        return Plugin


def _message(e: BaseException) -> str:
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def plugin(*, id: str, version: str, description: str,
           settings: Optional[type] = None) -> PluginSpec:
    """Declares the plugin. ``settings`` is a dataclass whose fields are its
    settings: ``bool``, ``int``, ``str``, ``list[str]``, ``CidrList``,
    ``PortList``, ``dict[str, str]``, anything else structured. A field's name
    is its setting's in camelCase (``owner_label``: ``ownerLabel``); ``field(metadata={"doc": ...,
    "name": ...})`` documents or renames it."""
    return PluginSpec(id, version, description, settings)
