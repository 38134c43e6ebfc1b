"""The few settings of segbridged.conf and insert-ethers-shim.conf the Rocks side needs.

Key names and defaults follow agents/CONTRACTS.md (docs/segbridged.conf.md,
docs/insert-ethers-shim.conf.md). Missing files give the documented defaults so that
`rocks sync segbridge` can still print a plan before the daemons are configured.
"""
from __future__ import absolute_import, division, print_function

import os
import re

from segbridge_rocks import tomlish

DEFAULT_BRIDGE = "br0"
DEFAULT_PORT = 7440
DEFAULT_TUNNEL_PORT_PREFIX = "sb-"
DEFAULT_CONTROL_SOCKET = "/run/segbridged/control.sock"


def parse_port(listen):
    """'0.0.0.0:7440' / '[::]:7440' / ':7440' -> 7440; ValueError otherwise."""
    match = re.match(r"^(\[[0-9A-Fa-f:.]*\]|[^:\[\]]*):([0-9]+)$", listen or "")
    if not match:
        raise ValueError("listen address %r is not HOST:PORT or [IPV6]:PORT" % (listen,))
    port = int(match.group(2))
    if port < 1 or port > 65535:
        raise ValueError("listen port %d is out of range" % port)
    return port


class DaemonSettings(object):
    def __init__(self, path, bridge, port, role, name, control_socket, bridge_ports, exists):
        self.path = path
        self.bridge = bridge
        self.port = port
        self.role = role
        self.name = name
        self.control_socket = control_socket
        self.bridge_ports = bridge_ports
        self.exists = exists


def read_daemon(path):
    if not os.path.exists(path):
        return DaemonSettings(path, DEFAULT_BRIDGE, DEFAULT_PORT, "hub", None,
                              DEFAULT_CONTROL_SOCKET, [], False)
    data = tomlish.load(path)
    daemon = data.get("daemon", {})
    port = DEFAULT_PORT
    if "listen" in daemon:
        port = parse_port(daemon["listen"])
    return DaemonSettings(
        path,
        daemon.get("bridge", DEFAULT_BRIDGE),
        port,
        daemon.get("role", "hub"),
        daemon.get("name"),
        daemon.get("control_socket", DEFAULT_CONTROL_SOCKET),
        list(daemon.get("bridge_ports", [])),
        True,
    )


class ShimSettings(object):
    def __init__(self, path, private_interface, interfaces, tunnel_port_prefix, exists,
                 from_rocks=False):
        self.path = path
        self.private_interface = private_interface
        # private_interface_from_rocks: the shim reads the DB device itself at start
        self.from_rocks = from_rocks
        self.interfaces = interfaces
        self.tunnel_port_prefix = tunnel_port_prefix
        self.exists = exists


def read_shim(path):
    if not os.path.exists(path):
        return ShimSettings(path, None, [DEFAULT_BRIDGE], DEFAULT_TUNNEL_PORT_PREFIX, False)
    data = tomlish.load(path)
    return ShimSettings(
        path,
        data.get("private_interface"),
        list(data.get("interfaces", [DEFAULT_BRIDGE])),
        data.get("tunnel_port_prefix", DEFAULT_TUNNEL_PORT_PREFIX),
        True,
        data.get("private_interface_from_rocks") is True,
    )


def with_private_interface(text, device):
    """Return the shim config text with ``private_interface`` set to device.

    Only the one top-level line changes (comments and layout stay); if the key is
    missing it is added before the first table, where TOML top-level keys must be.
    """
    line = 'private_interface = "%s"' % device
    lines = text.splitlines(True)
    in_table = False
    for i, current in enumerate(lines):
        stripped = current.strip()
        if stripped.startswith("["):
            in_table = True
        if not in_table and re.match(r"^private_interface\s*=", stripped):
            comment = ""
            hash_at = current.find("#", current.find("=") + 1)
            tail = current[current.find("=") + 1:]
            # keep a trailing comment only if it sits after the closing quote
            if hash_at >= 0 and tail.count('"') >= 2 and current.rfind('"') < hash_at:
                comment = "  " + current[hash_at:].rstrip("\r\n")
            lines[i] = line + comment + "\n"
            return "".join(lines)
    for i, current in enumerate(lines):
        if current.strip().startswith("["):
            lines.insert(i, line + "\n\n")
            return "".join(lines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines.append(line + "\n")
    return "".join(lines)
