"""A test consumer of the notifications a server sends to RabbitMQ.

The broker is named by GLANCE_TEST_RABBIT_URL (e.g.
rabbit://guest:guest@127.0.0.1:5672/). When it is unset or the broker
does not answer, the tests that need it are skipped, unless
GLANCE_TEST_REQUIRE_ALL_DBS=1, when they fail.

Each Consumer listens on a topic of its own: it declares the queues
oslo.messaging's rabbit driver publishes to (<topic>.info and
<topic>.error on the "glance" exchange, declared as the driver declares
them), and deletes them when it is closed.
"""

import json
import os
import time
import urllib.parse
import uuid

from glance.tests.functional import server as server_lib

RABBIT_URL_ENV = 'GLANCE_TEST_RABBIT_URL'
EXCHANGE = 'glance'
PRIORITIES = ('info', 'error')


def _amqp_url(url):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(('amqp',) + tuple(parts[1:]))


def url_or_skip():
    """The broker's transport URL, or pytest.skip (fail when required)."""
    import kombu
    import pytest

    url = os.environ.get(RABBIT_URL_ENV)
    problem = None
    if not url:
        problem = '%s is not set' % RABBIT_URL_ENV
    else:
        try:
            with kombu.Connection(_amqp_url(url), connect_timeout=5) as c:
                c.ensure_connection(max_retries=1)
        except Exception as e:
            problem = 'RabbitMQ at %s does not answer: %s' % (url, e)
    if problem:
        if server_lib.require_all_dbs():
            pytest.fail('RabbitMQ required but unavailable: %s' % problem)
        pytest.skip(problem)
    return url


def server_options(url, topic, url_in_default=False, **default):
    """glance-api.conf sections that send notifications to topic, the
    broker named in [oslo_messaging_notifications] or, with
    url_in_default, in [DEFAULT] transport_url (shared with RPC)."""
    notifications = {'driver': 'messagingv2', 'topics': topic}
    default = dict({'default_publisher_id': 'image.test'}, **default)
    if url_in_default:
        default['transport_url'] = url
    else:
        notifications['transport_url'] = url
    return {'oslo_messaging_notifications': notifications,
            'DEFAULT': default}


class Consumer:
    def __init__(self, url):
        import kombu

        self.topic = 'glance-test-%s' % uuid.uuid4().hex[:12]
        self.connection = kombu.Connection(_amqp_url(url))
        exchange = kombu.Exchange(EXCHANGE, type='topic', durable=False,
                                  auto_delete=False)
        self.queues = [kombu.Queue('%s.%s' % (self.topic, p),
                                   exchange=exchange,
                                   routing_key='%s.%s' % (self.topic, p),
                                   durable=False, auto_delete=False)
                       for p in PRIORITIES]
        self.channel = self.connection.channel()
        for queue in self.queues:
            queue(self.channel).declare()
        self.received = []

    def _drain(self):
        for queue in self.queues:
            bound = queue(self.channel)
            while True:
                message = bound.get(no_ack=True)
                if message is None:
                    break
                body = message.payload
                if isinstance(body, str):
                    body = json.loads(body)
                if 'oslo.message' in body:
                    body = json.loads(body['oslo.message'])
                self.received.append(body)

    def events(self):
        self._drain()
        return list(self.received)

    def wait_for(self, event_type, timeout=15, count=1, **payload_match):
        """The events of a type whose payload has the given values."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events()
                     if e['event_type'] == event_type and
                     isinstance(e['payload'], dict) and
                     all(e['payload'].get(k) == v
                         for k, v in payload_match.items())]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(e['event_type'], e['payload'])
                        for e in self.received]
                raise AssertionError('No %s event with %s in %ss; got %r'
                                     % (event_type, payload_match, timeout,
                                        seen))
            time.sleep(0.1)

    def close(self):
        try:
            for queue in self.queues:
                queue(self.channel).delete()
        finally:
            self.connection.release()
