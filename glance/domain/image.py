"""The Image entity and its state machine.

Whether a change is allowed because of the image's state (an active
image's data cannot change, a deleted image cannot move) is decided here,
not by a proxy or a controller.
"""

import datetime
import uuid

from glance.common import exception

STATUSES = ('queued', 'saving', 'uploading', 'importing', 'active',
            'killed', 'pending_delete', 'deleted', 'deactivated')

TRANSITIONS = {
    'queued': {'saving', 'uploading', 'importing', 'active', 'deleted'},
    'saving': {'active', 'killed', 'deleted', 'queued'},
    'uploading': {'importing', 'queued', 'deleted'},
    'importing': {'active', 'deleted', 'queued'},
    'active': {'pending_delete', 'deleted', 'deactivated'},
    'killed': {'deleted'},
    'pending_delete': {'deleted', 'active'},
    'deactivated': {'active', 'deleted'},
    'deleted': set(),
}

VISIBILITIES = ('public', 'private', 'shared', 'community')

# Attributes stored in columns of their own; everything else a user sets
# is an extra (string) property.
BASE_ATTRIBUTES = (
    'id', 'name', 'status', 'visibility', 'protected', 'os_hidden',
    'checksum', 'os_hash_algo', 'os_hash_value', 'owner', 'size',
    'virtual_size', 'container_format', 'disk_format', 'min_disk',
    'min_ram', 'created_at', 'updated_at',
)

# Attributes only the service sets.
READONLY = frozenset((
    'created_at', 'updated_at', 'status', 'checksum', 'size',
    'virtual_size', 'direct_url', 'self', 'file', 'schema', 'id',
    'os_hash_algo', 'os_hash_value', 'stores',
))
RESERVED = frozenset(('location', 'deleted', 'deleted_at'))
RESERVED_PREFIX = 'os_glance'

# Attributes a user may set through the API, with base columns.
USER_BASE = frozenset((
    'name', 'visibility', 'protected', 'os_hidden', 'owner',
    'container_format', 'disk_format', 'min_disk', 'min_ram',
))


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def is_reserved_name(name):
    return name.startswith(RESERVED_PREFIX) or name in RESERVED


class Image:
    """An image record: base attributes, extra properties, tags."""

    __slots__ = BASE_ATTRIBUTES + (
        'extra_properties', 'tags', 'locations', 'member_status',
        '_loaded_status', '_loaded_props', '_loaded_tags',
        '_loaded_location_ids', '_is_new')

    def __init__(self, **values):
        for name in BASE_ATTRIBUTES:
            setattr(self, name, values.get(name))
        self.extra_properties = dict(values.get('extra_properties') or {})
        self.tags = set(values.get('tags') or ())
        self.locations = list(values.get('locations') or ())
        self.member_status = values.get('member_status')
        self._is_new = values.get('_is_new', False)
        self.mark_clean()

    def mark_clean(self):
        """Remember the stored state, so a save writes only changes."""
        self._loaded_status = self.status
        self._loaded_props = dict(self.extra_properties)
        self._loaded_tags = set(self.tags)
        self._loaded_location_ids = {loc['id'] for loc in self.locations
                                     if 'id' in loc}

    @property
    def loaded_status(self):
        return self._loaded_status

    def property_changes(self):
        """(set or changed, removed) extra properties since loading."""
        old = self._loaded_props
        new = self.extra_properties
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        removed = [k for k in old if k not in new]
        return changed, removed

    def tag_changes(self):
        return self.tags - self._loaded_tags, self._loaded_tags - self.tags

    def location_changes(self):
        """(new location dicts, ids of removed ones) since loading."""
        added = [loc for loc in self.locations if 'id' not in loc]
        kept = {loc['id'] for loc in self.locations if 'id' in loc}
        return added, self._loaded_location_ids - kept

    def add_location(self, url, metadata=None, status='active'):
        self.locations.append({'url': url, 'metadata': metadata or {},
                               'status': status})

    @property
    def active_locations(self):
        return [loc for loc in self.locations if loc['status'] == 'active']

    @property
    def stores(self):
        """Stores holding the data (multi-store), in location order."""
        ids = []
        for loc in self.active_locations:
            store = loc['metadata'].get('store')
            if store and store not in ids:
                ids.append(store)
        return ids

    # -- state machine -------------------------------------------------

    def set_status(self, new_status):
        if new_status == self.status:
            return
        if new_status not in TRANSITIONS.get(self.status, ()):
            raise exception.InvalidImageStatusTransition(self.status,
                                                         new_status)
        self.status = new_status

    def delete(self, delayed=False):
        if self.protected:
            raise exception.Forbidden('Image %s is protected and cannot be '
                                      'deleted.' % self.id)
        if delayed and self.status in ('active', 'deactivated'):
            target = 'pending_delete'
            if self.status == 'deactivated':
                # pending_delete is reached from active only.
                self.status = 'active'
        else:
            target = 'deleted'
        self.set_status(target)

    def deactivate(self):
        if self.status == 'deactivated':
            return
        if self.status != 'active':
            raise exception.Forbidden('Only active images can be '
                                      'deactivated (image is %s).'
                                      % self.status)
        self.set_status('deactivated')

    def reactivate(self):
        if self.status == 'active':
            return
        if self.status != 'deactivated':
            raise exception.Forbidden('Only deactivated images can be '
                                      'reactivated (image is %s).'
                                      % self.status)
        self.set_status('active')

    def check_mutable_data(self):
        """Data (size, hashes) may only be written before activation."""
        if self.status not in ('queued', 'saving', 'uploading', 'importing'):
            raise exception.Conflict('Image status is %s; its data cannot '
                                     'change.' % self.status)


class ImageFactory:
    """Builds new images with the service's defaults."""

    def new_image(self, owner, image_id=None, extra_properties=None,
                  tags=None, **attrs):
        now = utcnow()
        return Image(
            id=image_id or str(uuid.uuid4()),
            name=attrs.get('name'),
            status='queued',
            visibility=attrs.get('visibility') or 'shared',
            protected=bool(attrs.get('protected', False)),
            os_hidden=bool(attrs.get('os_hidden', False)),
            owner=owner,
            container_format=attrs.get('container_format'),
            disk_format=attrs.get('disk_format'),
            min_disk=attrs.get('min_disk') or 0,
            min_ram=attrs.get('min_ram') or 0,
            created_at=now, updated_at=now,
            extra_properties=extra_properties, tags=tags, _is_new=True)
