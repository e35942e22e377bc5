"""The client's address, as the audit trail and the log-in lockout both see it.

Behind nginx every request comes from the proxy, so `REMOTE_ADDR` names the proxy. The proxy
appends the address it saw to `X-Forwarded-For`; but a client can send that header too, with any
address in it. So the header is read only when `REMOTE_ADDR` is a proxy listed in the
`TRUSTED_PROXIES` setting (addresses or networks), and it is read from the right: each hop that is
itself a trusted proxy is skipped, and the right-most address that is not trusted is the client
(anything left of it was written by the client and proves nothing). Axes uses the same function
(`AXES_CLIENT_IP_CALLABLE`, through `access.lockout.axes_client_ip`), so the trail and the lockout
name the same address.
"""

import ipaddress

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def trusted_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item, strict=False) for item in getattr(settings, "TRUSTED_PROXIES", ())]


def _parse(text: str | None) -> Address | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket (::ffff:10.0.0.1) is the IPv4 client.
    return getattr(address, "ipv4_mapped", None) or address


def client_ip(request) -> str | None:
    """The client's address for `request` (None if the server gave none)."""
    remote = _parse(request.META.get("REMOTE_ADDR"))
    if remote is None:
        return None
    networks = trusted_networks()

    def trusted(address: Address) -> bool:
        return any(address in network for network in networks)

    if not trusted(remote):
        return str(remote)
    client = remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:  # garbage from the client: the last proxy that handed it on is all we know
            break
        client = address
        if not trusted(address):
            break
    return str(client)
