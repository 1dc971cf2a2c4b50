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
    if behaviour == "ok":
        print("saw", len(cx_objects()), "objects")
        return "ok"
    raise ValueError(f"unknown behaviour {behaviour}")


def cx_objects():
    from palisade_sdk import Facts
    return Facts().objects()


@rules.rule(id="HOSTILEPY001", name="hostile", severity=Severity.WARNING,
            summary="Reports what it got", doc="Reports what it got.")
def hostile(cx):
    yield report(0, attempt(cx.settings.behaviour))


Plugin = rules.export()
