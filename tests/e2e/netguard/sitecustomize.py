"""Loaded by every Python process of the local stack under test (PYTHONPATH): an audit hook records each socket
connection and name lookup that leaves the machine to the file named by RESPONDER_NETWORK_LOG. Nothing is blocked,
so the stack behaves as it does for a user; the test reads the file afterwards."""
import ipaddress
import os
import sys

_LOG = os.environ.get("RESPONDER_NETWORK_LOG")
_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}


def _is_local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host)
    if host in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _hook(event, args):
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and address and not _is_local(address[0]):
            _record(f"connect {address[0]}:{address[1] if len(address) > 1 else ''}")
    elif event == "socket.getaddrinfo" and not _is_local(args[0]):
        _record(f"lookup {args[0]!r}")


def _record(line: str) -> None:
    with open(_LOG, "a") as log:
        log.write(f"{os.getpid()} {' '.join(sys.argv[:3])}: {line}\n")


if _LOG:
    sys.addaudithook(_hook)
