"""The notifier's pieces: which events are sent, the sender that never
blocks, the counted download body and the payloads."""

import datetime
import threading
import time

import oslo_messaging
import pytest

from glance.domain import image as domain_image
from glance.domain import member as domain_member
from glance.domain import task as domain_task
from glance.notifier import payloads
from glance.notifier import proxy
from glance.notifier import sender


@pytest.fixture
def messaging(conf):
    oslo_messaging.get_notification_transport(conf.conf).cleanup()
    conf.config(driver=['messagingv2'], group='oslo_messaging_notifications')
    return conf


def test_noop_by_default(conf):
    sender.check_config(conf.conf)
    assert conf.conf.oslo_messaging_notifications.driver == []
    assert not sender.is_active(conf.conf)
    assert not sender.is_enabled('image.create', conf.conf)


def test_noop_driver_named(messaging):
    messaging.config(driver=['noop'], group='oslo_messaging_notifications')
    assert not sender.is_enabled('image.create')


@pytest.mark.parametrize('disabled,event_type,enabled', [
    ([], 'image.create', True),
    (['image.create'], 'image.create', False),
    (['image.create'], 'image.created', True),
    (['image'], 'image.member.create', False),
    (['image'], 'images.create', True),
    (['image.member'], 'image.member.update', False),
    (['image.member'], 'image.update', True),
    (['image.*'], 'image.send', False),
    (['image.*'], 'task.run', True),
    (['task.*', 'image.send'], 'task.success', False),
    (['task.*', 'image.send'], 'image.send', False),
    (['task.*', 'image.send'], 'image.upload', True),
    ([' ', ''], 'image.upload', True),
])
def test_disabled_notifications(messaging, disabled, event_type, enabled):
    messaging.config(disabled_notifications=disabled)
    assert sender.is_enabled(event_type) is enabled


def test_bad_transport_url_fails_at_start(conf):
    sender.check_config(conf.conf)
    conf.config(driver=['messagingv2'], transport_url='nosuch://h/',
                group='oslo_messaging_notifications')
    with pytest.raises(oslo_messaging.DriverLoadFailure):
        sender.check_config(conf.conf)


class _Blocking:
    """A notifier whose sends hang until released (a broker away)."""

    def __init__(self):
        self.release = threading.Event()
        self.sent = []

    def info(self, ctxt, event_type, payload):
        self.release.wait(10)
        self.sent.append((event_type, payload))


def test_sender_never_blocks_and_drops_when_full(monkeypatch, caplog):
    blocking = _Blocking()
    monkeypatch.setattr(sender, 'QUEUE_SIZE', 5)
    one = sender.Sender()
    monkeypatch.setattr(one, '_notifier', lambda: blocking)
    started = time.monotonic()
    for i in range(50):
        one.put('info', 'image.create', {'i': i})
    assert time.monotonic() - started < 0.5
    assert one.dropped >= 50 - 5 - 1
    assert 'dropped' in caplog.text
    blocking.release.set()
    assert one.flush(5)
    assert blocking.sent[0] == ('image.create', {'i': 0})
    assert len(blocking.sent) == 50 - one.dropped


def test_sender_survives_a_failing_notifier(monkeypatch, caplog):
    calls = []

    class Failing:
        def info(self, ctxt, event_type, payload):
            calls.append(event_type)
            if len(calls) == 1:
                raise RuntimeError('broker exploded')

    one = sender.Sender()
    monkeypatch.setattr(one, '_notifier', Failing)
    one.put('info', 'image.create', {})
    one.put('info', 'image.update', {})
    assert one.flush(5)
    assert calls == ['image.create', 'image.update']
    assert 'broker exploded' in caplog.text


def _body(chunks, length, sent):
    return proxy.CountingBody(chunks, length, sent.append)


def test_counting_body_counts_what_the_server_took():
    sent = []
    body = _body([b'abc', b'defg', b'hi'], 9, sent)
    assert b''.join(body) == b'abcdefghi'
    body.close()
    body.close()
    assert sent == [9]


def test_counting_body_client_gone():
    sent = []
    body = _body([b'abc', b'defg', b'hi'], 9, sent)
    next(body)
    next(body)
    # The server failed writing the second chunk, and closes.
    body.close()
    assert sent == [3]


def test_counting_body_stops_at_length():
    sent = []
    closed = []

    class File:
        def __iter__(self):
            return iter([b'0123456789'] * 100)

        def close(self):
            closed.append(True)

    body = _body(File(), 15, sent)
    assert b''.join(body) == b'0123456789' + b'01234'
    body.close()
    assert sent == [15] and closed == [True]


def _image(**extra):
    now = datetime.datetime(2026, 1, 2, 3, 4, 5)
    return domain_image.Image(
        id='i1', name='n', status='active', visibility='public',
        protected=False, owner='p1', size=3, virtual_size=None,
        checksum='c', container_format='bare', disk_format='raw',
        min_disk=0, min_ram=0, created_at=now, updated_at=now,
        extra_properties=extra, tags={'b', 'a'},
        locations=[{'url': 'file:///secret', 'metadata': {},
                    'status': 'active'}])


def test_image_payload():
    payload = payloads.image(_image(x='1', secret='2',
                                    os_glance_upload_host='h'),
                             lambda name: name != 'secret')
    assert payload == {
        'id': 'i1', 'name': 'n', 'status': 'active',
        'created_at': '2026-01-02T03:04:05Z',
        'updated_at': '2026-01-02T03:04:05Z', 'min_disk': 0,
        'min_ram': 0, 'protected': False, 'checksum': 'c', 'owner': 'p1',
        'disk_format': 'raw', 'container_format': 'bare', 'size': 3,
        'virtual_size': None, 'is_public': True, 'visibility': 'public',
        'properties': {'x': '1'}, 'tags': ['a', 'b'], 'deleted': False,
        'deleted_at': None}


def test_import_lists():
    image = _image(os_glance_importing_to_stores='a,b',
                   os_glance_failed_import='')
    assert payloads.import_lists(image, lambda name: True) == {
        'os_glance_importing_to_stores': ['a', 'b'],
        'os_glance_failed_import': []}


def test_member_and_task_payloads():
    member = domain_member.Member('i1', 'p2', 'accepted')
    assert payloads.deleted(payloads.member(member))['deleted'] is True
    task = domain_task.new_task('api_image_import', 'p1',
                                task_input={'uri': 'http://u:p@h/'})
    payload = payloads.task(task)
    assert payload['type'] == 'api_image_import'
    assert 'input' not in payload and payload['message'] is None
    assert 'http://u:p@h/' not in repr(payload)


class _Repo:
    def __init__(self):
        self.context = None

    def add(self, image):
        return image

    def save(self, image):
        raise RuntimeError('database away')


def test_nothing_announced_that_was_not_saved(messaging, monkeypatch):
    sent = []
    monkeypatch.setattr(sender, 'send',
                        lambda t, p, priority='info': sent.append(t))
    repo = proxy.ImageRepoProxy(_Repo(), None, lambda name: True)
    repo.add(_image())
    with pytest.raises(RuntimeError):
        repo.save(_image())
    assert sent == ['image.create']


def test_a_failing_payload_never_fails_the_call(messaging, monkeypatch,
                                                caplog):
    monkeypatch.setattr(sender, 'send', lambda *a, **k: None)

    def broken(name):
        raise ValueError('rules broken')
    repo = proxy.ImageRepoProxy(_Repo(), None, broken)
    image = _image(x='1')
    assert repo.add(image) is image
    assert 'Could not send notification image.create' in caplog.text


class _Rules:
    def can_read(self, context, name):
        return 'admin' in context.roles or not name.startswith('x_secret')


def test_readers_of_events():
    from glance import context as glance_context
    from glance import gateway

    rules = _Rules()
    service = glance_context.admin_context()
    user = glance_context.RequestContext(project_id='p', roles=['member'])
    admin = glance_context.RequestContext(project_id='p', roles=['admin'])
    assert gateway._readable(None, service, None, True)('x_secret_a')
    # A caller reads what its roles let it read.
    assert not gateway._readable(rules, user, None, False)('x_secret_a')
    assert gateway._readable(rules, admin, None, False)('x_secret_a')
    # The service's own work: as the user it is done for, or as a
    # caller with no roles at all.
    assert not gateway._readable(rules, service, user, True)('x_secret_a')
    assert gateway._readable(rules, service, admin, True)('x_secret_a')
    assert not gateway._readable(rules, service, None, True)('x_secret_a')
    assert gateway._readable(rules, service, None, True)('x_plain')
