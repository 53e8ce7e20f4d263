"""Every quota of the service, in one module.

Per image, from the configuration: extra properties
(image_property_quota), tags (image_tag_quota), members
(image_member_quota) and locations (image_location_quota).

Per project, either the legacy ``user_storage_quota`` (bytes of stored
data), or, with ``[DEFAULT] use_keystone_limits``, the limits registered
in Keystone (unified limits), read through oslo.limit:

    image_size_total       MiB of image data, once per location
    image_stage_total      MiB in staging
    image_count_total      images
    image_count_uploading  images being uploaded, staged or imported

checked where the reference checks them: creating an image (count),
uploading (size, uploading count), staging (staging size, uploading
count) and importing or copying (size for glance-direct; staging size
and uploading count for the others). Going over answers 413 with
oslo.limit's message, which names the resource, its limit, the usage and
the amount asked for.

Uploads and stages are exact even when many run at once, in any number
of processes: the check, the status change that starts the work, and a
reservation of the bytes it will write are made in one transaction that
holds the project's lock (glance.db.quota). A body of unknown length
reserves more as it arrives and is stopped once the limit is reached.
Imports are checked when they are asked for, as the reference does.
"""

import contextlib
import threading

from oslo_config import cfg
from oslo_limit import exception as limit_exc
from oslo_limit import limit
from oslo_log import log as logging
from oslo_utils import strutils
from oslo_utils import units

from glance.common import exception
from glance.db import quota as db_quota

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# The [oslo_limit] options (endpoint, auth, session), as the reference
# registers them.
limit.opts.register_opts(CONF)

IMAGE_SIZE_TOTAL = 'image_size_total'
IMAGE_STAGE_TOTAL = 'image_stage_total'
IMAGE_COUNT_TOTAL = 'image_count_total'
IMAGE_COUNT_UPLOADING = 'image_count_uploading'
RESOURCES = (IMAGE_SIZE_TOTAL, IMAGE_STAGE_TOTAL, IMAGE_COUNT_TOTAL,
             IMAGE_COUNT_UPLOADING)
# Resources counted in bytes here and in MiB by the limits.
IN_MIB = frozenset((IMAGE_SIZE_TOTAL, IMAGE_STAGE_TOTAL))

# A body of unknown length reserves at least this much more at a time.
GROWTH_STEP = 16 * units.Mi


# -- per image -------------------------------------------------------------

def _over(quota, count):
    return quota >= 0 and count > quota


def check_properties(image):
    if _over(CONF.image_property_quota, len(image.extra_properties)):
        raise exception.LimitExceeded('Maximum number of extra properties '
                                      '(%d) exceeded.'
                                      % CONF.image_property_quota)


def check_tags(image):
    if _over(CONF.image_tag_quota, len(image.tags)):
        raise exception.LimitExceeded('Maximum number of tags (%d) '
                                      'exceeded.' % CONF.image_tag_quota)


def check_image(image):
    """The per-image quotas of an image about to be saved."""
    check_properties(image)
    check_tags(image)


def check_new_location(image):
    """Before one more location is added to image."""
    if _over(CONF.image_location_quota, len(image.active_locations) + 1):
        raise exception.LimitExceeded('Maximum number of locations (%d) '
                                      'exceeded.'
                                      % CONF.image_location_quota)


def check_member_count(count):
    """Before one more member joins an image that has count members
    (called inside the transaction that adds it)."""
    if _over(CONF.image_member_quota, count + 1):
        raise exception.LimitExceeded(
            'Maximum number of members per image (%d) exceeded.'
            % CONF.image_member_quota)


# -- per project: where the limits come from ----------------------------

def unified():
    return CONF.use_keystone_limits


def storage_quota():
    """user_storage_quota in bytes (0 = unlimited); 5GB, 5GiB or bytes."""
    value = (CONF.user_storage_quota or '0').strip()
    if value.isdigit():
        return int(value)
    try:
        return strutils.string_to_bytes(value, unit_system='mixed',
                                        return_int=True)
    except ValueError:
        raise RuntimeError('Invalid user_storage_quota %r: use a number of '
                           'bytes or a size such as 5GB or 5GiB.' % value)


def _to_limit_units(usage, deltas):
    """Usage and deltas as the limits count them (MiB for sizes).

    The delta is what takes the usage, rounded down as the reference
    reports it, to the new total rounded up: a claim fits only if every
    byte of it fits.
    """
    current, wanted = {}, {}
    for name, used in usage.items():
        if name in IN_MIB:
            current[name] = used // units.Mi
            after = used + deltas.get(name, 0)
            wanted[name] = -(-after // units.Mi) - current[name]
        else:
            current[name] = used
            wanted[name] = deltas.get(name, 0)
    return current, wanted


_READER = None
_READER_LOCK = threading.Lock()


def _limit_reader():
    """One oslo.limit Enforcer per process, used only to read limits.

    Making an Enforcer looks up the enforcement model and this service's
    endpoint in Keystone (four calls); those do not change while the
    service runs, so they are looked up once. It caches no limits
    (cache=False): every check reads the project's limits afresh, so a
    change in Keystone applies to the next request.
    """
    global _READER
    if _READER is None:
        with _READER_LOCK:
            if _READER is None:
                _READER = limit.Enforcer(lambda project_id, names: {},
                                         cache=False)
    return _READER


def reset():
    """Forget the Enforcer (tests, or after Keystone's catalog changed)."""
    global _READER
    _READER = None


class KeystoneLimits:
    """The project's unified limits on some resources, from Keystone.

    oslo.limit fetches them when this is made, before any lock is taken,
    and they are kept for the life of this object (one request or one
    upload): a check made under the project's lock then costs no call to
    Keystone, and reports going over with oslo.limit's own exception
    and message.
    """

    def __init__(self, project_id, resources):
        self.project_id = project_id
        try:
            self.limits = dict(_limit_reader().get_project_limits(
                project_id, list(resources)))
        except limit_exc.SessionInitError as e:
            # A configuration error of the service: a 500, logged.
            LOG.error('Failed to initialize oslo_limit, likely due to '
                      'incorrect or insufficient configuration: %s', e)
            raise

    def enforce(self, usage, deltas):
        """LimitExceeded (413) if usage plus deltas is over a limit
        (a limit of -1 is no limit, as in oslo.limit)."""
        current, wanted = _to_limit_units(usage, deltas)
        over = [limit_exc.OverLimitInfo(name, self.limits.get(name, 0),
                                        current[name], wanted[name])
                for name in sorted(wanted)
                if 0 <= self.limits.get(name, 0) <
                current[name] + wanted[name]]
        if over:
            raise exception.LimitExceeded(
                str(limit_exc.ProjectOverLimit(self.project_id, over)))

    def room(self, resource, used):
        """How much more of resource fits (bytes for sizes); None if
        unlimited."""
        value = self.limits.get(resource, 0)
        if value < 0:
            return None
        if resource in IN_MIB:
            value *= units.Mi
        return max(value - used, 0)


class LegacyLimits:
    """user_storage_quota: bytes of stored data per project."""

    def __init__(self, quota):
        self.quota = quota

    def enforce(self, usage, deltas):
        used = usage.get(IMAGE_SIZE_TOTAL)
        if used is None:
            return
        wanted = deltas.get(IMAGE_SIZE_TOTAL, 0)
        if used + wanted > self.quota:
            raise exception.LimitExceeded(
                'Denying attempt to upload image because it exceeds the '
                'quota: the size of the data %d will exceed the limit. '
                '%d bytes remaining.'
                % (wanted, max(self.quota - used, 0)))

    def room(self, resource, used):
        if resource != IMAGE_SIZE_TOTAL:
            return None
        return max(self.quota - used, 0)


def limits_for(project_id, resources):
    """The limits that apply to resources, or None when none do."""
    if unified():
        return KeystoneLimits(project_id, resources)
    quota = storage_quota()
    if quota > 0 and IMAGE_SIZE_TOTAL in resources:
        return LegacyLimits(quota)
    return None


# -- per project: usage --------------------------------------------------

def _usage(session, project_id, resources, except_image=None):
    """Usage in bytes or counts, in-flight reservations included."""
    measure = {
        IMAGE_SIZE_TOTAL: lambda: db_quota.size_bytes(
            session, project_id, except_image),
        IMAGE_STAGE_TOTAL: lambda: db_quota.staged_bytes(
            session, project_id, except_image),
        IMAGE_COUNT_TOTAL: lambda: db_quota.image_count(session,
                                                        project_id),
        IMAGE_COUNT_UPLOADING: lambda: db_quota.uploading_count(
            session, project_id),
    }
    return {name: measure[name]() for name in resources}


def get_usage(context):
    """{resource: oslo.limit ProjectUsage(limit, usage)} of the caller's
    project, usage as the reference reports it (whole MiB for sizes); {}
    without unified limits."""
    if not unified():
        return {}
    project_id = context.owner

    def callback(project_id, resource_names):
        with db_quota.reading() as session:
            usage = _usage(session, project_id, resource_names)
        return {name: (value // units.Mi if name in IN_MIB else value)
                for name, value in usage.items()}

    return limit.Enforcer(callback).calculate_usage(project_id,
                                                    list(RESOURCES))


# -- per project: the enforcement points ---------------------------------

@contextlib.contextmanager
def creating_image(context):
    """Around adding a new image of the caller's project: its count.

    The image must be added with context inside the block, so that it
    commits with the check.
    """
    limits = limits_for(context.owner, (IMAGE_COUNT_TOTAL,)) \
        if unified() else None
    if limits is None:
        yield
        return
    with db_quota.locked(context, context.owner) as session:
        limits.enforce(_usage(session, context.owner, (IMAGE_COUNT_TOTAL,)),
                       {IMAGE_COUNT_TOTAL: 1})
        yield


def storage_limit(project_id):
    """Most bytes the project may still store, and the message of the 413
    that going over answers (image_size_cap, then the quota): the bound of
    data an import fetches or unpacks."""
    cap = CONF.image_size_cap
    message = 'Image exceeds the image_size_cap of %d bytes.' % cap
    limits = limits_for(project_id, (IMAGE_SIZE_TOTAL,))
    if limits is None:
        return cap, message
    with db_quota.reading() as session:
        used = _usage(session, project_id,
                      (IMAGE_SIZE_TOTAL,))[IMAGE_SIZE_TOTAL]
    room = limits.room(IMAGE_SIZE_TOTAL, used)
    if room is None or room >= cap:
        return cap, message
    if isinstance(limits, LegacyLimits):
        return room, ('Denying attempt to upload image because it exceeds '
                      'the quota: the project may store %d more bytes.'
                      % room)
    return room, ('Image exceeds the image_size_total limit of %d MiB of '
                  'project %s: its usage is %d MiB; %d bytes remain.'
                  % (limits.limits.get(IMAGE_SIZE_TOTAL, 0), project_id,
                     used // units.Mi, room))


def staging_limit(project_id):
    """The bound of data one stage may write, and its 413 message.

    With unified limits, image_stage_total (a DataClaim) governs staging
    and only image_size_cap bounds it here, as in the reference; the
    legacy user_storage_quota bounds staging too.
    """
    if unified():
        cap = CONF.image_size_cap
        return cap, 'Image exceeds the image_size_cap of %d bytes.' % cap
    return storage_limit(project_id)


def check_import(context, method, image, staged_size=0):
    """Before an import of image is accepted (unified limits only)."""
    if not unified():
        return
    project_id = context.owner
    if method == 'glance-direct':
        deltas = {IMAGE_SIZE_TOTAL: staged_size or 0}
    else:
        # Fetching or copying goes through staging, and counts as an
        # upload from now on (a glance-direct image already did).
        deltas = {IMAGE_STAGE_TOTAL: image.size or 0,
                  IMAGE_COUNT_UPLOADING: 1}
    limits = KeystoneLimits(project_id, deltas)
    with db_quota.reading() as session:
        usage = _usage(session, project_id, deltas, except_image=image.id)
    limits.enforce(usage, deltas)


class DataClaim:
    """The room one stream of image data holds against its project's
    quotas: an upload (resource image_size_total, image saving) or a
    stage (image_stage_total, image uploading).

    ``start(expected, move_on)`` takes the project's lock, calls
    move_on() (which moves the image to saving or uploading, with
    txn_context, so in the same transaction), checks the limits with the
    expected size and reserves it; nothing is stored if that fails.
    ``meter(chunks)`` reserves more, a step at a time, if the body grows
    past what is reserved, and stops it with 413 at the limit.
    """

    def __init__(self, project_id, txn_context, image_id, resource):
        self.project_id = project_id
        self.txn_context = txn_context
        self.image_id = image_id
        self.resource = resource
        self.reserved = 0
        resources = (resource, IMAGE_COUNT_UPLOADING)
        self.limits = limits_for(project_id, resources)
        if isinstance(self.limits, LegacyLimits):
            resources = (resource,)
        self.resources = resources

    def _locked(self):
        return db_quota.locked(self.txn_context, self.project_id)

    def _usage(self, session):
        return _usage(session, self.project_id, self.resources,
                      except_image=self.image_id)

    def start(self, expected, move_on):
        if self.limits is None:
            move_on()
            return
        amount = expected or 0
        with self._locked() as session:
            move_on()
            # The image counts itself as uploading now: no delta, as in
            # the reference.
            self.limits.enforce(self._usage(session),
                                {self.resource: amount})
            db_quota.reserve(session, self.project_id, self.image_id,
                             self.resource, amount)
        self.reserved = amount

    def _grow(self, needed):
        wanted = needed + max(GROWTH_STEP, self.reserved)
        with self._locked() as session:
            usage = self._usage(session)
            room = self.limits.room(self.resource, usage[self.resource])
            if room is not None:
                wanted = max(min(wanted, room), needed)
            self.limits.enforce({self.resource: usage[self.resource]},
                                {self.resource: wanted})
            db_quota.set_reserved(session, self.image_id, self.resource,
                                  wanted)
        self.reserved = wanted

    def meter(self, chunks):
        """Pass chunks on, reserving what they add up to."""
        if self.limits is None:
            yield from chunks
            return
        seen = 0
        for chunk in chunks:
            seen += len(chunk)
            if seen > self.reserved:
                self._grow(seen)
            yield chunk

    def settle(self, size):
        """The work is done and used size bytes (a stage: what staging
        now holds)."""
        if self.limits is not None and size != self.reserved:
            db_quota.settle(self.image_id, self.resource, size)
            self.reserved = size
