"""The body of each notification, in the fields the reference service
sends, so that Ceilometer, search indexers and audit pipelines written
for it read ours unchanged.

Never in a payload: image locations (they may hold store credentials),
a task's input (it may hold URLs with credentials), and any extra
property the reader of the event may not read under the operator's
property protections.
"""

import datetime

# Bookkeeping of the service that the API shows to nobody.
BOOKKEEPING = frozenset((
    'os_glance_stage_host', 'os_glance_hash_op_host',
    'os_glance_upload_host', 'os_glance_import_host'))

IMPORTING = 'os_glance_importing_to_stores'
FAILED = 'os_glance_failed_import'


def isotime(moment=None):
    if moment is None:
        moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def _maybe_isotime(moment):
    return isotime(moment) if moment else None


def readable_properties(image, can_read):
    return {name: value for name, value in image.extra_properties.items()
            if name not in BOOKKEEPING and can_read(name)}


def image(image, can_read):
    return {
        'id': image.id,
        'name': image.name,
        'status': image.status,
        'created_at': _maybe_isotime(image.created_at),
        'updated_at': _maybe_isotime(image.updated_at),
        'min_disk': image.min_disk,
        'min_ram': image.min_ram,
        'protected': bool(image.protected),
        'checksum': image.checksum,
        'owner': image.owner,
        'disk_format': image.disk_format,
        'container_format': image.container_format,
        'size': image.size,
        'virtual_size': image.virtual_size,
        'is_public': image.visibility == 'public',
        'visibility': image.visibility,
        'properties': readable_properties(image, can_read),
        'tags': sorted(image.tags),
        'deleted': False,
        'deleted_at': None,
    }


def deleted(payload):
    payload.update(deleted=True, deleted_at=isotime())
    return payload


def import_lists(image, can_read):
    """The stores an import still writes to and those it failed, as
    lists (multi-store; empty otherwise)."""
    props = readable_properties(image, can_read)
    return {name: [s for s in (props.get(name) or '').split(',') if s]
            for name in (IMPORTING, FAILED)}


def member(member):
    return {
        'image_id': member.image_id,
        'member_id': member.member_id,
        'status': member.status,
        'created_at': _maybe_isotime(member.created_at),
        'updated_at': _maybe_isotime(member.updated_at),
        'deleted': False,
        'deleted_at': None,
    }


def task(task):
    # Neither input nor result nor message: they may name URLs with
    # credentials, as in the reference.
    return {
        'id': task.id,
        'type': task.type,
        'status': task.status,
        'result': None,
        'owner': task.owner,
        'message': None,
        'expires_at': _maybe_isotime(task.expires_at),
        'created_at': _maybe_isotime(task.created_at),
        'updated_at': _maybe_isotime(task.updated_at),
        'deleted': False,
        'deleted_at': None,
    }


def image_send(image, context, bytes_sent):
    return {
        'bytes_sent': bytes_sent,
        'image_id': image.id,
        'owner_id': image.owner,
        'receiver_tenant_id': getattr(context, 'project_id', None),
        'receiver_user_id': getattr(context, 'user_id', None),
    }
