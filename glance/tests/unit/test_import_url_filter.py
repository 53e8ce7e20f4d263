"""web-download URI filtering: the reference's lists and our safer
defaults (special-purpose addresses refused however they are spelled)."""

import ipaddress
import socket

import pytest

from glance.common import url_filter


@pytest.fixture
def resolver(monkeypatch):
    """Names resolve through this table, never through real DNS."""
    table = {'public.example': ['203.0.113.80', '8.8.8.8'],
             'www.example.org': ['93.184.216.34'],
             'internal.example': ['10.1.2.3'],
             'mixed.example': ['93.184.216.34', '127.0.0.1'],
             'v6.example': ['2606:4700::1111'],
             'localhost': ['127.0.0.1', '::1']}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, 'unknown')
        return [(socket.AF_INET6 if ':' in a else socket.AF_INET,
                 socket.SOCK_STREAM, 6, '', (a, port)) for a in table[host]]
    monkeypatch.setattr(socket, 'getaddrinfo', getaddrinfo)
    return table


REFUSED_BY_DEFAULT = [
    'http://127.0.0.1/img',
    'http://127.1/img',
    'http://2130706433/img',            # decimal
    'http://0x7f000001/img',            # hex
    'http://0x7f.1/img',                # hex, short form
    'http://0177.0.0.1/img',            # octal
    'http://017700000001/img',          # octal, one number
    'http://localhost/img',
    'http://[::1]/img',
    'http://[::ffff:127.0.0.1]/img',    # IPv4-mapped
    'http://[::ffff:7f00:1]/img',
    'http://[0:0:0:0:0:ffff:7f00:1]/img',
    'http://[2002:7f00:1::]/img',       # 6to4 of 127.0.0.1
    'http://[64:ff9b::a00:1]/img',      # NAT64 of 10.0.0.1
    'http://[fe80::1]/img',             # link-local
    'http://[fc00::1]/img',             # unique local
    'http://0.0.0.0/img',
    'http://0/img',
    'http://10.0.0.1/img',
    'http://10.1/img',
    'http://172.16.5.4/img',
    'http://192.168.1.1/img',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/img',            # shared (CGNAT)
    'http://192.0.2.10/img',            # documentation
    'http://198.18.0.1/img',            # benchmarking
    'http://224.0.0.1/img',             # multicast
    'http://240.0.0.1/img',             # reserved
    'http://255.255.255.255/img',
    'http://internal.example/img',      # a name that resolves privately
    'http://mixed.example/img',         # one bad address is enough
    'ftp://93.184.216.34/img',
    'file:///etc/passwd',
    'gopher://93.184.216.34/',
    'http://93.184.216.34:8080/img',    # port not in allowed_ports
    'http://user:secret@93.184.216.34/img',
    'http:///img',
    'http://nonexistent.invalid/img',
    '',
]


@pytest.mark.parametrize('uri', REFUSED_BY_DEFAULT)
def test_refused_with_default_config(resolver, uri):
    with pytest.raises(url_filter.Refused):
        url_filter.check(uri)


@pytest.mark.parametrize('uri', [
    'http://93.184.216.34/img',
    'https://93.184.216.34/img',
    'http://www.example.org/img.qcow2?x=1',
    'https://www.example.org:443/img',
    'http://[2606:4700::1111]/img',
    'http://v6.example/img',
])
def test_allowed_with_default_config(resolver, uri):
    target = url_filter.check(uri)
    assert target.addresses
    assert not any(url_filter.is_special(a) for a in target.addresses)


def test_target_pins_checked_addresses(resolver):
    target = url_filter.check('http://www.example.org/a/b?c=d')
    assert target.host == 'www.example.org'
    assert target.port == 80
    assert target.path == '/a/b?c=d'
    assert target.addresses == [ipaddress.ip_address('93.184.216.34')]


def test_allowed_hosts_exempts_special_addresses(conf, resolver):
    conf.config(allowed_hosts=['127.0.0.1'], allowed_ports=[],
                group='import_filtering_opts')
    for uri in ('http://127.0.0.1:8000/x', 'http://2130706433:8000/x',
                'http://0x7f.1/x', 'http://127.1:8000/x'):
        assert url_filter.check(uri).addresses == [
            ipaddress.ip_address('127.0.0.1')]
    # Not in the allowlist: refused, whatever it is ("localhost" also
    # resolves to ::1, which is not listed).
    for uri in ('http://127.0.0.2/x', 'http://93.184.216.34/x',
                'http://[::1]/x', 'http://localhost/x'):
        with pytest.raises(url_filter.Refused):
            url_filter.check(uri)


def test_allowed_hosts_cidr(conf, resolver):
    conf.config(allowed_hosts=['10.1.0.0/16', 'www.example.org'],
                group='import_filtering_opts')
    assert url_filter.check('http://10.1.2.3/x')
    assert url_filter.check('http://internal.example/x')
    assert url_filter.check('http://www.example.org/x')
    with pytest.raises(url_filter.Refused):
        url_filter.check('http://10.2.0.1/x')


def test_disallowed_hosts_any_spelling(conf, resolver):
    conf.config(disallowed_hosts=['93.184.216.34', 'evil.example'],
                group='import_filtering_opts')
    for uri in ('http://93.184.216.34/x', 'http://1572395042/x',
                'http://www.example.org/x', 'http://EVIL.example./x'):
        with pytest.raises(url_filter.Refused):
            url_filter.check(uri)
    assert url_filter.check('http://8.8.8.8/x')


def test_schemes_allowlist_wins(conf, resolver):
    conf.config(allowed_schemes=['https'], disallowed_schemes=['https'],
                group='import_filtering_opts')
    assert url_filter.check('https://8.8.8.8/x')
    with pytest.raises(url_filter.Refused):
        url_filter.check('http://8.8.8.8/x')
    conf.config(allowed_schemes=[], disallowed_schemes=['http'],
                group='import_filtering_opts')
    with pytest.raises(url_filter.Refused):
        url_filter.check('http://8.8.8.8/x')
    assert url_filter.check('https://8.8.8.8/x')


def test_ports(conf, resolver):
    conf.config(allowed_ports=[], disallowed_ports=[8080],
                group='import_filtering_opts')
    assert url_filter.check('http://8.8.8.8:8000/x')
    with pytest.raises(url_filter.Refused):
        url_filter.check('http://8.8.8.8:8080/x')
    # A port only counts when the URI names it.
    conf.config(allowed_ports=[8000], group='import_filtering_opts')
    assert url_filter.check('http://8.8.8.8/x')


def test_special_address_check_can_be_turned_off(conf, resolver):
    conf.config(disallow_special_addresses=False, allowed_ports=[],
                group='import_filtering_opts')
    assert url_filter.check('http://127.0.0.1:9/x')


def test_message_says_what_and_why(resolver):
    with pytest.raises(url_filter.Refused) as info:
        url_filter.check('http://2130706433/x')
    assert 'does not pass filtering' in info.value.message
    assert '127.0.0.1' in info.value.message
    assert info.value.code == 400
