"""Reads interfaces/permissions.table: the polkit actions and the checks of
every D-Bus member. Shared by gen-glue.py (the checks in the server glue)
and gen-polkit.py (the policy file), so both come from one table."""
import re
from dataclasses import dataclass

CHECK = re.compile(r"^(?:(?P<where>@\w+|result|filter):)?(?P<obj>[a-z-]+)\.(?P<perm>[a-z-]+)"
                   r"(?:\?(?P<neg>!)?(?P<arg>\w+)&(?P<mask>0x[0-9a-fA-F]+|\d+))?$")


@dataclass
class Check:
    where: str  # "self", "arg", "result" or "filter"
    arg: str | None  # the XML argument (where == "arg")
    obj: str
    perm: str
    cond: tuple | None  # (negated, flags argument, mask)


@dataclass
class Action:
    obj: str
    perm: str
    readonly: bool
    description: str

    @property
    def id(self):
        return f"org.libvirt.api.{self.obj}.{self.perm}"


class Table:
    def __init__(self, path):
        self.path = path
        self.actions = {}  # (obj, perm) -> Action
        self.members = {}  # "Domain.Create" / "Domain.Name" / "Domain.Autostart=" -> [Check]
        for n, line in enumerate(open(path), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if fields[0] == "action":
                obj, _, perm = fields[1].partition(".")
                if fields[2] not in ("R", "W") or not perm:
                    self.fail(n, "action lines read: action <object>.<permission> R|W <description>")
                self.actions[(obj, perm)] = Action(obj, perm, fields[2] == "R", " ".join(fields[3:]))
                continue
            member, checks = fields[0], fields[1:]
            if member in self.members:
                self.fail(n, f"{member} appears twice")
            self.members[member] = [] if checks == ["none"] else [self.parse(n, c) for c in checks]
        for member, checks in self.members.items():
            for c in checks:
                if (c.obj, c.perm) not in self.actions:
                    raise SystemExit(f"{path}: {member} uses {c.obj}.{c.perm}, which has no action line")

    def parse(self, n, text):
        m = CHECK.match(text)
        if not m:
            self.fail(n, f"cannot read check '{text}'")
        where = m["where"] or "self"
        arg = None
        if where.startswith("@"):
            where, arg = "arg", where[1:]
        cond = (bool(m["neg"]), m["arg"], int(m["mask"], 0)) if m["arg"] else None
        return Check(where, arg, m["obj"], m["perm"], cond)

    def fail(self, n, msg):
        raise SystemExit(f"{self.path}:{n}: {msg}")

    def checks(self, iface_short, member):
        key = f"{iface_short}.{member}"
        if key not in self.members:
            raise SystemExit(f"{self.path}: no entry for {key}: every member needs its permissions")
        return self.members[key]
