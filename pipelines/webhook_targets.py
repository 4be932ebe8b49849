"""Where signed webhook events may go (:mod:`calmline.pipelines.webhooks`).

Only ``http`` and ``https`` URLs, and only to public addresses. A host that is, or resolves
to, a loopback, private, link-local (169.254.0.0/16, fe80::/10), shared, unspecified,
multicast or reserved address is refused unless ``webhooks.allow_hosts`` names it. The host
name is resolved again before every attempt, every address it gives is checked, and the
request goes to the address that was checked (a name that changes its answer between the check
and the connection, DNS rebinding, gets nowhere). A refused attempt is a permanent failure in
the delivery log.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit


class WebhookRefused(ValueError):
    """A webhook URL that may not be used (scheme, or an internal address not allowed)."""


def _address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is refused as a webhook target, or ``None`` for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return name
    return None if ip.is_global else "not public"


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where an attempt connects: the URL with the checked address in place of the host name,
    the ``Host`` header and TLS server name of the original host."""

    url: str
    host_header: str
    server_name: str
    pinned: bool


def webhook_target(
    url: str, allow_hosts: list[str] | tuple[str, ...] = (), resolve=socket.getaddrinfo
) -> WebhookTarget:
    """Check ``url`` and resolve its host; the target to connect to.

    Raises:
        WebhookRefused: not http(s), or the host is (or resolves to) an internal address that
            ``allow_hosts`` does not name.
        OSError: the host name does not resolve (a transient failure: retried).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"{url!r} is not an http(s) URL with a host")
    host = parts.hostname.lower().rstrip(".")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    netloc_host = parts.netloc.rsplit("@", 1)[-1]
    allowed = {h.lower().strip("[]").rstrip(".") for h in allow_hosts}
    if host in allowed:
        return WebhookTarget(url, netloc_host, host, pinned=False)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses:
            raise OSError(f"{host} has no address")
    for ip in addresses:
        problem = _address_problem(ip)
        if problem is not None:
            via = "" if literal is not None else f" (resolved from {host})"
            raise WebhookRefused(
                f"{ip} is a {problem} address{via}; webhooks go to public addresses only, "
                f"unless webhooks.allow_hosts names {host!r}"
            )
    ip = addresses[0]
    ip_host = f"[{ip}]" if ip.version == 6 else str(ip)
    pinned = urlunsplit((parts.scheme, f"{ip_host}:{port}", parts.path or "/", parts.query, ""))
    return WebhookTarget(pinned, netloc_host, host, pinned=True)
