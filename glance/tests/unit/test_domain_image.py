"""The Image entity, its state machine and the ImageFactory."""

import datetime
import uuid

import pytest

from glance.common import exception
from glance.domain import image as domain

STATUSES = domain.STATUSES

# Image API v2 §1.5, written out again so that a change to the table in
# the code has to be a deliberate change here too.
EXPECTED = {
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

ALLOWED = sorted((a, b) for a in EXPECTED for b in EXPECTED[a])
REFUSED = sorted((a, b) for a in STATUSES for b in STATUSES
                 if a != b and b not in EXPECTED[a])


def make(status='active', **values):
    values.setdefault('id', str(uuid.uuid4()))
    return domain.Image(status=status, **values)


def test_table_is_the_documented_one():
    assert domain.TRANSITIONS == EXPECTED
    assert set(domain.TRANSITIONS) == set(STATUSES)
    for targets in domain.TRANSITIONS.values():
        assert targets <= set(STATUSES)


@pytest.mark.parametrize('old,new', ALLOWED)
def test_allowed_transition(old, new):
    image = make(old)
    image.set_status(new)
    assert image.status == new
    # What was loaded is still known, so that the save can guard on it.
    assert image.loaded_status == old


@pytest.mark.parametrize('old,new', REFUSED)
def test_refused_transition(old, new):
    image = make(old)
    with pytest.raises(exception.InvalidImageStatusTransition) as info:
        image.set_status(new)
    assert info.value.code == 409
    assert old in info.value.message and new in info.value.message
    assert image.status == old


@pytest.mark.parametrize('status', STATUSES)
def test_same_status_is_a_no_op(status):
    image = make(status)
    image.set_status(status)
    assert image.status == status


def test_unknown_status_is_refused():
    with pytest.raises(exception.InvalidImageStatusTransition):
        make('queued').set_status('bogus')
    with pytest.raises(exception.InvalidImageStatusTransition):
        make('bogus').set_status('active')


def test_deleted_is_final():
    image = make('deleted')
    for status in STATUSES:
        if status != 'deleted':
            with pytest.raises(exception.InvalidImageStatusTransition):
                image.set_status(status)


# -- delete ---------------------------------------------------------------

@pytest.mark.parametrize('status', [s for s in STATUSES if s != 'deleted'])
def test_delete_from_every_live_status(status):
    image = make(status)
    image.delete()
    assert image.status == 'deleted'


@pytest.mark.parametrize('delayed', [False, True])
def test_delete_protected_is_forbidden(delayed):
    image = make('active', protected=True)
    with pytest.raises(exception.Forbidden) as info:
        image.delete(delayed=delayed)
    assert info.value.code == 403
    assert image.status == 'active'


@pytest.mark.parametrize('status', ['active', 'deactivated'])
def test_delayed_delete_goes_to_pending_delete(status):
    image = make(status)
    image.delete(delayed=True)
    assert image.status == 'pending_delete'


@pytest.mark.parametrize('status', ['queued', 'saving', 'uploading',
                                    'importing', 'killed',
                                    'pending_delete'])
def test_delayed_delete_without_data_is_a_real_delete(status):
    # Only images that have data wait for the scrubber.
    image = make(status)
    image.delete(delayed=True)
    assert image.status == 'deleted'


def test_delete_unprotected_false_or_none():
    for protected in (False, None):
        image = make('queued', protected=protected)
        image.delete()
        assert image.status == 'deleted'


# -- deactivate / reactivate ---------------------------------------------

def test_deactivate_and_reactivate():
    image = make('active')
    image.deactivate()
    assert image.status == 'deactivated'
    image.reactivate()
    assert image.status == 'active'


def test_deactivate_is_idempotent():
    image = make('deactivated')
    image.deactivate()
    assert image.status == 'deactivated'


def test_reactivate_is_idempotent():
    image = make('active')
    image.reactivate()
    assert image.status == 'active'


@pytest.mark.parametrize('status', [s for s in STATUSES
                                    if s not in ('active', 'deactivated')])
def test_deactivate_refused(status):
    image = make(status)
    with pytest.raises(exception.Forbidden) as info:
        image.deactivate()
    assert info.value.code == 403
    assert image.status == status


@pytest.mark.parametrize('status', [s for s in STATUSES
                                    if s not in ('active', 'deactivated')])
def test_reactivate_refused(status):
    image = make(status)
    with pytest.raises(exception.Forbidden) as info:
        image.reactivate()
    assert info.value.code == 403
    assert image.status == status


# -- data mutability ------------------------------------------------------

@pytest.mark.parametrize('status', ['queued', 'saving', 'uploading',
                                    'importing'])
def test_data_mutable_before_activation(status):
    make(status).check_mutable_data()


@pytest.mark.parametrize('status', ['active', 'killed', 'pending_delete',
                                    'deleted', 'deactivated'])
def test_data_immutable_after_activation(status):
    with pytest.raises(exception.Conflict):
        make(status).check_mutable_data()


# -- change tracking ------------------------------------------------------

def test_new_image_has_no_changes():
    image = make(extra_properties={'a': '1'}, tags={'x'})
    assert image.property_changes() == ({}, [])
    assert image.tag_changes() == (set(), set())


def test_property_changes():
    image = make(extra_properties={'keep': '1', 'change': '2', 'drop': '3'})
    image.extra_properties['change'] = '22'
    image.extra_properties['new'] = '4'
    del image.extra_properties['drop']
    changed, removed = image.property_changes()
    assert changed == {'change': '22', 'new': '4'}
    assert removed == ['drop']


def test_property_set_to_same_value_is_no_change():
    image = make(extra_properties={'a': '1'})
    image.extra_properties['a'] = '1'
    assert image.property_changes() == ({}, [])


def test_property_removed_and_added_back_is_no_change():
    image = make(extra_properties={'a': '1'})
    del image.extra_properties['a']
    image.extra_properties['a'] = '1'
    assert image.property_changes() == ({}, [])


def test_property_to_empty_string_is_a_change():
    image = make(extra_properties={'a': '1'})
    image.extra_properties['a'] = ''
    assert image.property_changes() == ({'a': ''}, [])


def test_tag_changes():
    image = make(tags=['a', 'b'])
    image.tags.add('c')
    image.tags.discard('a')
    assert image.tag_changes() == ({'c'}, {'a'})


def test_mark_clean_forgets_changes():
    image = make('queued', extra_properties={'a': '1'}, tags={'t'})
    image.extra_properties['b'] = '2'
    image.tags.add('u')
    image.set_status('saving')
    image.mark_clean()
    assert image.property_changes() == ({}, [])
    assert image.tag_changes() == (set(), set())
    assert image.loaded_status == 'saving'


def test_loaded_state_is_a_copy():
    props = {'a': '1'}
    tags = {'t'}
    image = make(extra_properties=props, tags=tags)
    props['b'] = '2'
    tags.add('u')
    assert image.extra_properties == {'a': '1'}
    assert image.tags == {'t'}


def test_image_defaults():
    image = domain.Image()
    for name in domain.BASE_ATTRIBUTES:
        assert getattr(image, name) is None
    assert image.extra_properties == {}
    assert image.tags == set()
    assert image.locations == []
    assert image.member_status is None


def test_image_has_no_dict():
    # __slots__: a misspelt attribute is an error, not a silent no-op.
    image = make()
    with pytest.raises(AttributeError):
        image.nmae = 'typo'


# -- names ----------------------------------------------------------------

@pytest.mark.parametrize('name', ['os_glance_import_task',
                                  'os_glance_failed_import', 'os_glance',
                                  'location', 'deleted', 'deleted_at'])
def test_reserved_names(name):
    assert domain.is_reserved_name(name)


@pytest.mark.parametrize('name', ['os_distro', 'os_hidden', 'locations',
                                  'glance_x', 'hw_disk_bus'])
def test_not_reserved_names(name):
    assert not domain.is_reserved_name(name)


def test_user_base_attributes_are_base_and_writable():
    assert domain.USER_BASE <= set(domain.BASE_ATTRIBUTES)
    assert not domain.USER_BASE & domain.READONLY


# -- factory --------------------------------------------------------------

def test_factory_defaults():
    before = domain.utcnow()
    image = domain.ImageFactory().new_image(owner='p1')
    after = domain.utcnow()
    uuid.UUID(image.id)
    assert image.status == 'queued'
    assert image.loaded_status == 'queued'
    assert image.visibility == 'shared'
    assert image.protected is False
    assert image.os_hidden is False
    assert image.owner == 'p1'
    assert image.name is None
    assert image.container_format is None
    assert image.disk_format is None
    assert image.min_disk == 0
    assert image.min_ram == 0
    for name in ('size', 'virtual_size', 'checksum', 'os_hash_algo',
                 'os_hash_value'):
        assert getattr(image, name) is None
    assert image.extra_properties == {}
    assert image.tags == set()
    assert image.locations == []
    assert image._is_new is True
    assert before <= image.created_at <= after
    assert image.created_at == image.updated_at
    # Naive UTC, as the database stores it.
    assert image.created_at.tzinfo is None
    utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs(utc - image.created_at) < datetime.timedelta(seconds=60)


def test_factory_ids_are_unique():
    factory = domain.ImageFactory()
    ids = {factory.new_image(owner='p').id for _ in range(50)}
    assert len(ids) == 50


def test_factory_takes_values():
    image_id = str(uuid.uuid4())
    image = domain.ImageFactory().new_image(
        owner='p1', image_id=image_id,
        extra_properties={'os_distro': 'debian'}, tags={'a', 'b'},
        name='n', visibility='private', protected=True, os_hidden=True,
        container_format='bare', disk_format='raw', min_disk=2,
        min_ram=512)
    assert image.id == image_id
    assert image.name == 'n'
    assert image.visibility == 'private'
    assert image.protected is True
    assert image.os_hidden is True
    assert image.container_format == 'bare'
    assert image.disk_format == 'raw'
    assert image.min_disk == 2
    assert image.min_ram == 512
    assert image.extra_properties == {'os_distro': 'debian'}
    assert image.tags == {'a', 'b'}
    # A new image has no changes yet: add() writes everything.
    assert image.property_changes() == ({}, [])


def test_factory_owner():
    image = domain.ImageFactory().new_image(owner='other')
    assert image.owner == 'other'


def test_factory_none_values_take_defaults():
    image = domain.ImageFactory().new_image(
        owner='p1', visibility=None, min_disk=None, min_ram=None)
    assert image.visibility == 'shared'
    assert image.min_disk == 0
    assert image.min_ram == 0
