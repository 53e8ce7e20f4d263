"""Sending notifications without ever holding up a request.

oslo.messaging does the sending, configured where operators expect it:
``[oslo_messaging_notifications] driver``, ``transport_url``, ``topics``
and ``retry``, and ``[DEFAULT] transport_url``. Its rabbit driver can
block for as long as the broker is away (forever with the default
``retry = -1``), so a request never calls it: it puts the event on a
bounded queue, and one daemon thread per process sends from there. When
the queue is full (the broker has been away for a while) new events are
dropped and the loss is logged; a request is never slowed down or failed
by the message bus.

With the default driver (noop) or an event type that is disabled,
nothing is queued and no payload is built.
"""

import atexit
import fnmatch
import os
import queue
import threading
import time
import warnings

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import config_types
from glance.i18n import _

with warnings.catch_warnings():
    # oslo.messaging imports oslo.service, whose eventlet back end warns
    # at import time that eventlet is deprecated; nothing here uses
    # eventlet, and the warning lands on every command's stderr.
    warnings.simplefilter('ignore')
    import oslo_messaging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Events waiting for the sender thread; beyond this they are dropped.
QUEUE_SIZE = 1000
# Seconds a stopping process waits for queued events to go out.
FLUSH_SECONDS = 2.0

notifier_opts = [
    cfg.StrOpt('default_publisher_id', default='image.localhost',
               help=_('Publisher id of the notifications this service '
                      'sends, usually "image." followed by the host '
                      'name, e.g. image.host1.')),
    config_types.ListOpt(
        'disabled_notifications', default=[],
        help=_('Notifications not to send. Each item is an event type '
               '(image.create), a group (image, image.member, task: every '
               'type that begins with it and a dot) or a pattern with * '
               '(image.*). The notification driver and message bus are '
               'set in [oslo_messaging_notifications].')),
]

NOOP_DRIVERS = ('noop', '')


def register_opts(conf=CONF):
    conf.register_opts(notifier_opts)


def list_opts():
    return notifier_opts


def _build_transport(conf=CONF):
    return oslo_messaging.get_notification_transport(conf)


def check_config(conf=CONF):
    """At start-up: register oslo.messaging's options (so the operator's
    [oslo_messaging_notifications] and transport_url are read) and fail
    early on a driver or transport URL that cannot be loaded. Nothing
    connects to the broker here."""
    register_opts(conf)
    oslo_messaging.set_transport_defaults('glance')
    transport = _build_transport(conf)
    try:
        if is_active(conf):
            oslo_messaging.Notifier(transport,
                                    publisher_id=conf.default_publisher_id)
    finally:
        transport.cleanup()


def is_active(conf=CONF):
    try:
        drivers = conf.oslo_messaging_notifications.driver
    except cfg.NoSuchOptError:
        return False
    return any(d not in NOOP_DRIVERS for d in drivers or ())


def _disabled_by(entry, event_type):
    entry = entry.strip()
    if not entry:
        return False
    if '*' in entry or '?' in entry:
        return fnmatch.fnmatchcase(event_type, entry)
    return event_type == entry or event_type.startswith(entry + '.')


def is_enabled(event_type, conf=CONF):
    """Whether an event of this type is sent at all."""
    if not is_active(conf):
        return False
    return not any(_disabled_by(entry, event_type)
                   for entry in conf.disabled_notifications)


class Sender:
    """The bounded queue and the thread that empties it, per process.

    Started on first use, in the process that uses it (gunicorn forks its
    workers after the application is built; a thread does not survive a
    fork, so a new process starts its own)."""

    def __init__(self, conf=CONF):
        self.conf = conf
        self.lock = threading.Lock()
        self.pid = None
        self.queue = None
        self.dropped = 0

    def _start(self):
        with self.lock:
            if self.pid == os.getpid():
                return
            self.queue = queue.Queue(maxsize=QUEUE_SIZE)
            self.dropped = 0
            thread = threading.Thread(target=self._loop, args=(self.queue,),
                                      name='glance-notifier', daemon=True)
            thread.start()
            self.pid = os.getpid()

    def put(self, priority, event_type, payload):
        """Queue an event; never blocks."""
        self._start()
        try:
            self.queue.put_nowait((priority, event_type, payload))
        except queue.Full:
            self.dropped += 1
            # The first loss, then one line per hundred: the broker is
            # away and the log must not drown.
            if self.dropped % 100 == 1:
                LOG.error('Notification %s dropped: %d notifications are '
                          'waiting for the message bus (%d dropped so '
                          'far).', event_type, QUEUE_SIZE, self.dropped)

    def _notifier(self):
        transport = _build_transport(self.conf)
        return oslo_messaging.Notifier(
            transport, publisher_id=self.conf.default_publisher_id)

    def _loop(self, events):
        notifier = None
        while True:
            priority, event_type, payload = events.get()
            try:
                if notifier is None:
                    notifier = self._notifier()
                # oslo.messaging logs (and swallows) what its driver
                # raises; this catches what it does not.
                getattr(notifier, priority)({}, event_type, payload)
            except Exception as e:
                LOG.error('Could not send notification %s: %s', event_type,
                          e)
            finally:
                events.task_done()

    def flush(self, timeout=FLUSH_SECONDS):
        """Wait (a bounded time) for queued events to go out."""
        if self.pid != os.getpid() or self.queue is None:
            return True
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


_SENDER = Sender()
atexit.register(_SENDER.flush)


def send(event_type, payload, priority='info'):
    """Queue an event for the message bus (the caller checked
    is_enabled before building the payload)."""
    _SENDER.put(priority, event_type, payload)


def flush(timeout=FLUSH_SECONDS):
    return _SENDER.flush(timeout)
