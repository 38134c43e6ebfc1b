"""Where things live on a Rocks frontend (RPM layout, see rpm/segbridge.spec).

Every path can be overridden with an environment variable so that tests (and admins
with a non-standard install) can point the code elsewhere without patching it.
"""
from __future__ import absolute_import, division, print_function

import os


def _env(name, default):
    value = os.environ.get(name)
    if value:
        return value
    return default


def segbridged_conf():
    return _env("SEGBRIDGE_CONF", "/etc/segbridge/segbridged.conf")


def shim_conf():
    return _env("SEGBRIDGE_SHIM_CONF", "/etc/segbridge/insert-ethers-shim.conf")


def segbridgectl():
    return _env("SEGBRIDGE_SEGBRIDGECTL", "/usr/bin/segbridgectl")


def shim_binary():
    return _env("SEGBRIDGE_SHIM", "/usr/sbin/insert-ethers-shim")


def rocks_binary():
    return _env("SEGBRIDGE_ROCKS", "/opt/rocks/bin/rocks")


def backup_dir():
    """Originals saved by `rocks sync segbridge` and restored by `rocks remove segbridge`."""
    return _env("SEGBRIDGE_BACKUP_DIR", "/etc/segbridge/backup")


def network_scripts_dir():
    return _env("SEGBRIDGE_NETWORK_SCRIPTS", "/etc/sysconfig/network-scripts")


def dhcpd_dropin():
    return _env("SEGBRIDGE_DHCPD_DROPIN", "/etc/systemd/system/dhcpd.service.d/segbridge.conf")


def dhcpd_sysconfig():
    return _env("SEGBRIDGE_DHCPD_SYSCONFIG", "/etc/sysconfig/dhcpd")


def modules_load_conf():
    return _env("SEGBRIDGE_MODULES_LOAD", "/etc/modules-load.d/segbridge.conf")


def sysctl_conf():
    return _env("SEGBRIDGE_SYSCTL", "/etc/sysctl.d/90-segbridge.conf")


def insert_ethers_lock():
    return _env("SEGBRIDGE_INSERT_ETHERS_LOCK", "/var/lock/insert-ethers")


def sys_class_net():
    return _env("SEGBRIDGE_SYS_CLASS_NET", "/sys/class/net")
