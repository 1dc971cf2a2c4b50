"""A Python plugin that tries to leave the sandbox: its `behaviour` setting
says how. Built with WASI stubbed out, as the SDK's build does; every
attempt must end in a contained failure (or, where the interpreter answers
from what it captured at build time, with nothing of the host's)."""

from dataclasses import dataclass

from palisade_sdk import Severity, plugin, report


@dataclass
class Settings:
    behaviour: str = "ok"


rules = plugin(id="hostile-py", version="0.0.0", description="Tries to leave the sandbox",
               settings=Settings)


def attempt(behaviour: str) -> str:
    if behaviour == "file":
        with open("/etc/hostname") as f:
            return f.read()
    if behaviour == "socket":
        import socket
        s = socket.create_connection(("127.0.0.1", 22), timeout=1)
        return repr(s.recv(64))
    if behaviour == "env":
        import os
        return " ".join(sorted(os.environ))
    if behaviour == "clock":
        import time
        return str(time.time())
    if behaviour == "random":
        import os
        return os.urandom(8).hex()
    if behaviour == "facts":
        return facts_seen()
    if behaviour == "ok":
        print("saw", len(cx_objects()), "objects")
        return "ok"
    raise ValueError(f"unknown behaviour {behaviour}")


def facts_seen() -> str:
    """The cloud and access-log facts (contracts 0.2.2 and 0.2.3), summed
    up the same way as the JavaScript guest does."""
    from palisade_sdk import CallVerdict, Facts, Protocol
    f = Facts()
    subnets = f.subnets()
    calls = f.observed_calls()
    allowed = sum(1 for c in calls if c.verdict == CallVerdict.ALLOWED)
    placed = [w for w in f.workloads() if f.workload_placement(w.id) is not None]
    workload_subnets = sorted(s.key for s in subnets if s.parts.nodes)
    reach = "-"
    if workload_subnets:
        groups = [g.key for g in f.security_groups() if g.parts.nodes]
        v = f.reach(workload_subnets[0], groups, "93.184.216.34", Protocol.TCP, 443)
        reach = type(v.outcome).__name__.split("_")[-1].lower()
    return (f"{len(f.vpcs())} vpcs, {len(subnets)} subnets, {len(f.security_groups())} groups, "
            f"{len(calls)} calls ({allowed} allowed), {len(placed)} placed, reach {reach}")


def cx_objects():
    from palisade_sdk import Facts
    return Facts().objects()


@rules.rule(id="HOSTILEPY001", name="hostile", severity=Severity.WARNING,
            summary="Reports what it got", doc="Reports what it got.")
def hostile(cx):
    yield report(0, attempt(cx.settings.behaviour))


Plugin = rules.export()
