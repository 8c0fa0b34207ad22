"""A D-Bus client for the polkit tests, run as an unprivileged user (setpriv).

It keeps ONE bus connection for its whole life (so the daemon's verdict
cache for it stays), reads one JSON request per line on stdin and answers
one JSON line on stdout:
  {"path": P, "iface": I, "method": M, "sig": S, "args": [...]}
  -> {"ok": <result>} or {"error": <D-Bus error name>, "message": <text>}
  {"timed": N, ...request...} -> {"times": [seconds per call]} (N calls)
"""
import json
import os
import sys
import time

import dbus


def plain(v):
    if isinstance(v, (dbus.Array, list, tuple, dbus.Struct)):
        return [plain(x) for x in v]
    if isinstance(v, (dbus.Dictionary, dict)):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (dbus.Boolean, bool)):
        return bool(v)
    if isinstance(v, (int, dbus.Byte, dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16, dbus.UInt32,
                      dbus.UInt64)):
        return int(v)
    if isinstance(v, (float, dbus.Double)):
        return float(v)
    return str(v)


def main():
    bus = dbus.bus.BusConnection(os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
    for line in sys.stdin:
        req = json.loads(line)
        call = (lambda: bus.call_blocking("org.libvirt", req["path"], req["iface"], req["method"],
                                          req.get("sig", ""), req.get("args", []), timeout=30))
        try:
            if "timed" in req:
                times = []
                for _ in range(req["timed"]):
                    t = time.perf_counter()
                    call()
                    times.append(time.perf_counter() - t)
                out = {"times": times}
            else:
                out = {"ok": plain(call())}
        except dbus.exceptions.DBusException as e:
            out = {"error": e.get_dbus_name(), "message": e.get_dbus_message()}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
