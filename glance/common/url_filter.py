"""Which URLs web-download may fetch from ([import_filtering_opts]).

The reference service's checks come first: the scheme, the host and the
port (only when the URI names one) against the allowed_* lists, or, when
an allowed_* list is empty, against the matching disallowed_* list.

Then, unless disallow_special_addresses is off, the host is resolved and
every address it resolves to must be globally routable: loopback,
private, shared (CGNAT), link-local, multicast, reserved, unspecified,
documentation and benchmarking ranges, and IPv6 addresses that embed one
of those (IPv4-mapped, 6to4, Teredo, NAT64) are refused, however the
address is spelled (decimal 2130706433, octal 0177.0.0.1, hex 0x7f.1,
short 127.1 or [::ffff:7f00:1] all mean 127.0.0.1). A host or address
named in allowed_hosts (CIDRs too) is exempt, so configurations that
allow 127.0.0.1 for tests keep working.

check() returns the addresses that passed; the fetcher connects to those
and no others, so a DNS answer that changes between the check and the
connection cannot take the request elsewhere.
"""

import ipaddress
import socket
import urllib.parse

from oslo_config import cfg

from glance.common import exception

CONF = cfg.CONF

DEFAULT_PORTS = {'http': 80, 'https': 443}


class Refused(exception.BadRequest):
    """The URI does not pass the operator's filtering."""


def _ipv4_any_spelling(host):
    """An IPv4 address written any way inet_aton accepts, else None."""
    if not host or not all(c in '0123456789abcdefxABCDEFX.' for c in host):
        return None
    try:
        packed = socket.inet_aton(host)
    except (OSError, ValueError):
        return None
    return ipaddress.IPv4Address(packed)


def parse_ip(host):
    """The address a host string denotes literally, or None for a name."""
    if host is None:
        return None
    text = host.strip('[]')
    try:
        return ipaddress.ip_address(text.split('%')[0])
    except ValueError:
        pass
    return _ipv4_any_spelling(text)


def canonical_host(host):
    """Lower case, no trailing dot, addresses in their one standard form."""
    host = (host or '').strip().lower().rstrip('.')
    address = parse_ip(host)
    return str(address) if address is not None else host


def _embedded_ipv4(address):
    """IPv4 addresses an IPv6 address carries, whichever way."""
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in ipaddress.ip_network('64:ff9b::/96'):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_special(address):
    """True unless the address is an ordinary globally routable one."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(is_special(v4) for v4 in _embedded_ipv4(address)):
            return True
        if address.ipv4_mapped is not None:
            return False
    return (not address.is_global or address.is_multicast or
            address.is_reserved or address.is_unspecified or
            address.is_loopback or address.is_link_local or
            address.is_private)


class _HostList:
    """allowed_hosts / disallowed_hosts: names, addresses and CIDRs."""

    def __init__(self, entries):
        self.names = set()
        self.networks = []
        for entry in entries or ():
            entry = entry.strip()
            if not entry:
                continue
            if '/' in entry:
                try:
                    self.networks.append(ipaddress.ip_network(
                        entry.strip('[]'), strict=False))
                    continue
                except ValueError:
                    pass
            self.names.add(canonical_host(entry))

    def __bool__(self):
        return bool(self.names or self.networks)

    def matches_name(self, host):
        return canonical_host(host) in self.names

    def matches_address(self, address):
        if str(address) in self.names:
            return True
        return any(address.version == net.version and address in net
                   for net in self.networks)

    def matches(self, host, addresses=()):
        if self.matches_name(host):
            return True
        address = parse_ip(host)
        if address is not None and self.matches_address(address):
            return True
        return bool(addresses) and all(self.matches_address(a)
                                       for a in addresses)


def _resolve(host, port):
    address = parse_ip(host)
    if address is not None:
        return [address]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise Refused('The host %s of the URI cannot be resolved: %s'
                      % (host, e))
    addresses = []
    for info in infos:
        candidate = ipaddress.ip_address(info[4][0].split('%')[0])
        if candidate not in addresses:
            addresses.append(candidate)
    return addresses


class Target:
    """What check() found: where to connect, and what to call it."""

    def __init__(self, scheme, host, port, addresses, path):
        self.scheme = scheme
        self.host = host
        self.port = port
        self.addresses = addresses
        self.path = path


def _refuse(uri, why):
    raise Refused('URI for web-download does not pass filtering: %s (%s)'
                  % (uri, why))


def check(uri):
    """The Target of a URI web-download may fetch; Refused otherwise."""
    opts = CONF.import_filtering_opts
    if not isinstance(uri, str) or not uri:
        raise Refused('A URI is required.')
    try:
        parts = urllib.parse.urlsplit(uri)
        port = parts.port
    except ValueError:
        _refuse(uri, 'malformed URI')
    scheme = (parts.scheme or '').lower()
    host = parts.hostname
    if not scheme:
        _refuse(uri, 'no scheme')
    allowed_schemes = [s.lower() for s in opts.allowed_schemes]
    if allowed_schemes:
        if scheme not in allowed_schemes:
            _refuse(uri, 'scheme %s is not allowed' % scheme)
    elif scheme in [s.lower() for s in opts.disallowed_schemes]:
        _refuse(uri, 'scheme %s is disallowed' % scheme)
    if scheme not in DEFAULT_PORTS:
        _refuse(uri, 'web-download can only use http and https')
    if not host:
        _refuse(uri, 'no host')
    if parts.username is not None or parts.password is not None:
        _refuse(uri, 'credentials in the URI are not accepted')
    if port is not None:
        if opts.allowed_ports:
            if port not in opts.allowed_ports:
                _refuse(uri, 'port %d is not allowed' % port)
        elif port in opts.disallowed_ports:
            _refuse(uri, 'port %d is disallowed' % port)
    effective_port = port or DEFAULT_PORTS[scheme]
    allowed = _HostList(opts.allowed_hosts)
    disallowed = _HostList(opts.disallowed_hosts)
    addresses = _resolve(host, effective_port)
    if allowed:
        if not allowed.matches(host, addresses):
            _refuse(uri, 'host %s is not allowed' % host)
        exempt = True
    else:
        if disallowed and (disallowed.matches_name(host) or any(
                disallowed.matches_address(a) for a in addresses)):
            _refuse(uri, 'host %s is disallowed' % host)
        exempt = False
    if opts.disallow_special_addresses and not exempt:
        for address in addresses:
            if is_special(address):
                _refuse(uri, 'host %s is a special-purpose address (%s)'
                        % (host, address))
    path = parts.path or '/'
    if parts.query:
        path += '?' + parts.query
    return Target(scheme, host, effective_port, addresses, path)
