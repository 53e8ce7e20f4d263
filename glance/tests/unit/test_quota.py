"""The quota module: per-image quotas, legacy and unified limits, usage,
and the claims of uploads and stages, on a temporary SQLite database with
oslo.limit's LimitFixture standing in for Keystone."""

import uuid

from oslo_limit import fixture as limit_fixture
import pytest

from glance.common import exception
from glance import context as glance_context
from glance.db import engine
from glance.db import images as db_images
from glance.db import models
from glance.db import quota as db_quota
from glance.domain import image as domain
from glance.domain import quota

MiB = 1024 * 1024
PROJECT = 'p-quota'


@pytest.fixture
def db(conf, tmp_path):
    conf.config(connection='sqlite:///%s' % (tmp_path / 'glance.sqlite'),
                group='database')
    engine.reset()
    models.Base.metadata.create_all(engine.get_engine())
    yield
    engine.reset()


@pytest.fixture
def ctx():
    return glance_context.RequestContext(project_id=PROJECT, user_id='u',
                                         roles=['member', 'reader'])


@pytest.fixture
def keystone_limits(conf):
    """use(project_limits, **registered): limits as Keystone would give."""
    fixtures = []

    def use(project_limits=None, **registered):
        conf.config(use_keystone_limits=True)
        conf.config(endpoint_service_type='image', group='oslo_limit')
        fixture = limit_fixture.LimitFixture(
            registered, {PROJECT: project_limits or {}})
        fixture.setUp()
        fixtures.append(fixture)
    quota.reset()
    yield use
    for fixture in fixtures:
        fixture.cleanUp()
    quota.reset()


def add_image(ctx, status='queued', size=None, locations=0, owner=PROJECT,
              **props):
    image = domain.ImageFactory().new_image(
        owner=owner, container_format='bare', disk_format='raw',
        extra_properties=props)
    db_images.add(ctx, image)
    image = db_images.get_any(image.id)
    if size is not None or locations or status != 'queued':
        image.size = size
        for i in range(locations):
            image.add_location('file:///tmp/%s-%d' % (image.id, i), {})
        image.status = status
        db_images.save(ctx, image)
    return image


def usage(*resources, except_image=None):
    with db_quota.reading() as session:
        return quota._usage(session, PROJECT, resources or quota.RESOURCES,
                            except_image)


# -- per image ---------------------------------------------------------

class FakeImage:
    def __init__(self, props=0, tags=0, locations=0):
        self.extra_properties = {'p%d' % i: 'v' for i in range(props)}
        self.tags = {'t%d' % i for i in range(tags)}
        self.active_locations = [{}] * locations


def test_property_and_tag_quotas(conf):
    conf.config(image_property_quota=2, image_tag_quota=1)
    quota.check_image(FakeImage(props=2, tags=1))
    with pytest.raises(exception.LimitExceeded, match='properties'):
        quota.check_image(FakeImage(props=3))
    with pytest.raises(exception.LimitExceeded, match='tags'):
        quota.check_tags(FakeImage(tags=2))
    conf.config(image_property_quota=-1, image_tag_quota=-1)
    quota.check_image(FakeImage(props=500, tags=500))


def test_location_quota(conf):
    conf.config(image_location_quota=2)
    quota.check_new_location(FakeImage(locations=1))
    with pytest.raises(exception.LimitExceeded, match=r'locations \(2\)'):
        quota.check_new_location(FakeImage(locations=2))
    conf.config(image_location_quota=-1)
    quota.check_new_location(FakeImage(locations=99))


def test_member_quota(conf):
    conf.config(image_member_quota=3)
    quota.check_member_count(2)
    with pytest.raises(exception.LimitExceeded, match=r'members.*\(3\)'):
        quota.check_member_count(3)
    conf.config(image_member_quota=0)
    with pytest.raises(exception.LimitExceeded):
        quota.check_member_count(0)


@pytest.mark.parametrize('value,expected', [
    ('0', 0), ('1024', 1024), ('5MiB', 5 * MiB), ('1GiB', 1024 * MiB),
    ('', 0)])
def test_storage_quota_parsing(conf, value, expected):
    conf.config(user_storage_quota=value)
    assert quota.storage_quota() == expected


def test_storage_quota_refuses_garbage(conf):
    conf.config(user_storage_quota='lots')
    with pytest.raises(RuntimeError, match='user_storage_quota'):
        quota.storage_quota()


# -- units -------------------------------------------------------------

def test_sizes_are_compared_byte_for_byte_in_mib():
    current, wanted = quota._to_limit_units(
        {'image_size_total': 5 * MiB, 'image_count_total': 3},
        {'image_size_total': 1, 'image_count_total': 1})
    # 5 MiB and one byte needs a sixth MiB.
    assert current == {'image_size_total': 5, 'image_count_total': 3}
    assert wanted == {'image_size_total': 1, 'image_count_total': 1}
    current, wanted = quota._to_limit_units(
        {'image_size_total': MiB + 10}, {'image_size_total': MiB - 10})
    assert (current, wanted) == ({'image_size_total': 1},
                                 {'image_size_total': 1})
    current, wanted = quota._to_limit_units({'image_stage_total': 0}, {})
    assert (current, wanted) == ({'image_stage_total': 0},
                                 {'image_stage_total': 0})


# -- Keystone limits ---------------------------------------------------

def test_keystone_limits_enforce_and_message(keystone_limits):
    keystone_limits({'image_count_total': 2}, image_count_total=10)
    limits = quota.KeystoneLimits(PROJECT, ['image_count_total'])
    limits.enforce({'image_count_total': 1}, {'image_count_total': 1})
    with pytest.raises(exception.LimitExceeded) as caught:
        limits.enforce({'image_count_total': 2}, {'image_count_total': 1})
    message = caught.value.message
    assert caught.value.code == 413
    assert 'image_count_total is over limit of 2' in message
    assert 'current usage 2 and delta 1' in message


def test_keystone_limits_room(keystone_limits):
    keystone_limits({'image_size_total': 3}, image_stage_total=-1)
    limits = quota.KeystoneLimits(PROJECT, ['image_size_total',
                                            'image_stage_total',
                                            'image_count_total'])
    assert limits.room('image_size_total', MiB) == 2 * MiB
    assert limits.room('image_size_total', 5 * MiB) == 0
    assert limits.room('image_stage_total', 10 ** 12) is None
    # No registered limit at all: zero, as oslo.limit reads it.
    assert limits.room('image_count_total', 0) == 0


def test_unregistered_limit_refuses_everything(keystone_limits):
    keystone_limits()
    limits = quota.KeystoneLimits(PROJECT, ['image_count_total'])
    with pytest.raises(exception.LimitExceeded, match='over limit of 0'):
        limits.enforce({'image_count_total': 0}, {'image_count_total': 1})


def test_limits_for_chooses_the_source(conf, keystone_limits):
    assert quota.limits_for(PROJECT, ('image_size_total',)) is None
    conf.config(user_storage_quota='10')
    legacy = quota.limits_for(PROJECT, ('image_size_total',))
    assert isinstance(legacy, quota.LegacyLimits)
    assert quota.limits_for(PROJECT, ('image_stage_total',)) is None
    keystone_limits(image_size_total=1)
    assert isinstance(quota.limits_for(PROJECT, ('image_size_total',)),
                      quota.KeystoneLimits)


def test_legacy_limits():
    limits = quota.LegacyLimits(100)
    limits.enforce({'image_size_total': 60}, {'image_size_total': 40})
    with pytest.raises(exception.LimitExceeded, match='40 bytes remaining'):
        limits.enforce({'image_size_total': 60}, {'image_size_total': 41})
    assert limits.room('image_size_total', 60) == 40
    assert limits.room('image_stage_total', 60) is None


# -- usage from the database -------------------------------------------

def test_usage_counts_data_once_per_location(db, ctx):
    add_image(ctx, 'active', size=3 * MiB, locations=2)
    add_image(ctx, 'active', size=MiB, locations=1)
    add_image(ctx, 'queued')
    add_image(ctx, 'active', size=MiB, locations=1, owner='someone-else')
    killed = add_image(ctx, 'killed', size=MiB, locations=1)
    assert killed.status == 'killed'
    assert usage('image_size_total') == {'image_size_total': 7 * MiB}
    assert usage('image_count_total') == {'image_count_total': 3}


def test_usage_of_uploads_stages_and_copies(db, ctx):
    add_image(ctx, 'saving')
    add_image(ctx, 'uploading')
    add_image(ctx, 'importing')
    add_image(ctx, 'active', size=2 * MiB, locations=1,
              os_glance_importing_to_stores='fast')
    add_image(ctx, 'active', size=MiB, locations=1,
              os_glance_importing_to_stores='')
    found = usage('image_count_uploading', 'image_stage_total')
    assert found == {'image_count_uploading': 4,
                     'image_stage_total': 2 * MiB}


def test_reservations_count_only_while_their_work_runs(db, ctx):
    saving = add_image(ctx, 'saving')
    staged = add_image(ctx, 'uploading')
    with db_quota.locked(ctx, PROJECT) as session:
        db_quota.reserve(session, PROJECT, saving.id, 'image_size_total',
                         3 * MiB)
        db_quota.reserve(session, PROJECT, staged.id, 'image_stage_total',
                         2 * MiB)
    assert usage('image_size_total', 'image_stage_total') == {
        'image_size_total': 3 * MiB, 'image_stage_total': 2 * MiB}
    assert usage('image_size_total', except_image=saving.id) == {
        'image_size_total': 0}
    # The upload failed: its image is queued again, the room is free.
    saving.status = 'queued'
    db_images.save(ctx, saving)
    assert usage('image_size_total')['image_size_total'] == 0
    # ... and the next check forgets the row.
    with db_quota.locked(ctx, PROJECT):
        pass
    with db_quota.reading() as session:
        rows = session.execute(models.quota_reservations.select()).all()
    assert [(r.image_id, r.resource) for r in rows] == [
        (staged.id, 'image_stage_total')]


# -- enforcement points ------------------------------------------------

def new_image():
    return domain.ImageFactory().new_image(owner=PROJECT)


def test_creating_image_counts(db, ctx, keystone_limits):
    keystone_limits({'image_count_total': 1})
    with quota.creating_image(ctx):
        db_images.add(ctx, new_image())
    with pytest.raises(exception.LimitExceeded, match='image_count_total'):
        with quota.creating_image(ctx):
            db_images.add(ctx, new_image())
    # Refused inside the lock: the second image was never added.
    assert usage('image_count_total') == {'image_count_total': 1}


def test_creating_image_without_unified_limits_is_free(db, ctx):
    for _ in range(3):
        with quota.creating_image(ctx):
            db_images.add(ctx, new_image())
    assert usage('image_count_total') == {'image_count_total': 3}


def start_upload(ctx, image, expected):
    claim = quota.DataClaim(PROJECT, ctx, image.id, 'image_size_total')

    def move_on():
        image.set_status('saving')
        db_images.save(ctx, image)
    claim.start(expected, move_on)
    return claim


def test_upload_claim_refuses_before_the_status_changes(db, ctx,
                                                        keystone_limits):
    keystone_limits(image_size_total=2, image_count_uploading=5)
    add_image(ctx, 'active', size=MiB, locations=1)
    image = add_image(ctx)
    with pytest.raises(exception.LimitExceeded, match='image_size_total'):
        start_upload(ctx, image, MiB + 1)
    # Rolled back with the check: still queued, nothing reserved.
    assert db_images.get_any(image.id).status == 'queued'
    assert usage('image_size_total')['image_size_total'] == MiB
    image = db_images.get_any(image.id)
    claim = start_upload(ctx, image, MiB)
    assert claim.reserved == MiB
    assert db_images.get_any(image.id).status == 'saving'
    assert usage('image_size_total')['image_size_total'] == 2 * MiB


def test_upload_claim_counts_uploads(db, ctx, keystone_limits):
    keystone_limits(image_size_total=100, image_count_uploading=1)
    add_image(ctx, 'uploading')
    image = add_image(ctx)
    with pytest.raises(exception.LimitExceeded,
                       match='image_count_uploading'):
        start_upload(ctx, image, 10)
    assert db_images.get_any(image.id).status == 'queued'


def test_metered_stream_grows_then_stops_at_the_limit(db, ctx,
                                                      keystone_limits,
                                                      monkeypatch):
    monkeypatch.setattr(quota, 'GROWTH_STEP', MiB)
    keystone_limits(image_size_total=3, image_count_uploading=5)
    image = add_image(ctx)
    claim = start_upload(ctx, image, None)
    assert claim.reserved == 0
    passed = []
    chunks = (b'x' * (MiB // 2) for _ in range(8))
    with pytest.raises(exception.LimitExceeded, match='image_size_total'):
        for chunk in claim.meter(chunks):
            passed.append(len(chunk))
    # Three MiB went through, reserved as they came; the seventh half
    # MiB would have crossed the limit.
    assert sum(passed) == 3 * MiB
    assert claim.reserved == 3 * MiB
    assert usage('image_size_total')['image_size_total'] == 3 * MiB


def test_metered_stream_without_limits_passes_through(db, ctx):
    image = add_image(ctx)
    claim = start_upload(ctx, image, None)
    assert claim.limits is None
    assert list(claim.meter([b'a', b'b'])) == [b'a', b'b']
    assert db_images.get_any(image.id).status == 'saving'


def test_legacy_claim(db, ctx, conf):
    conf.config(user_storage_quota=str(2 * MiB))
    add_image(ctx, 'active', size=MiB, locations=1)
    image = add_image(ctx)
    with pytest.raises(exception.LimitExceeded, match='bytes remaining'):
        start_upload(ctx, image, MiB + 1)
    image = db_images.get_any(image.id)
    claim = start_upload(ctx, image, None)
    with pytest.raises(exception.LimitExceeded):
        list(claim.meter(b'x' * 1024 for _ in range(1025)))


def test_stage_claim_settles_to_what_was_staged(db, ctx, keystone_limits):
    keystone_limits(image_stage_total=4, image_count_uploading=5)
    image = add_image(ctx)
    claim = quota.DataClaim(PROJECT, ctx, image.id, 'image_stage_total')

    def move_on():
        image.set_status('uploading')
        db_images.save(ctx, image)
    claim.start(3 * MiB, move_on)
    assert usage('image_stage_total')['image_stage_total'] == 3 * MiB
    claim.settle(MiB)
    assert usage('image_stage_total')['image_stage_total'] == MiB


def test_storage_limit(db, ctx, conf, keystone_limits):
    conf.config(image_size_cap=10 * MiB)
    assert quota.storage_limit(PROJECT)[0] == 10 * MiB
    conf.config(user_storage_quota=str(3 * MiB))
    add_image(ctx, 'active', size=MiB, locations=1)
    room, message = quota.storage_limit(PROJECT)
    assert room == 2 * MiB
    assert 'may store %d more bytes' % (2 * MiB) in message
    keystone_limits(image_size_total=2)
    room, message = quota.storage_limit(PROJECT)
    assert room == MiB
    assert 'image_size_total limit of 2 MiB' in message
    # Staging is bounded by the cap only under unified limits.
    assert quota.staging_limit(PROJECT)[0] == 10 * MiB


def test_check_import(db, ctx, keystone_limits):
    keystone_limits(image_size_total=2, image_stage_total=1,
                    image_count_uploading=1)
    add_image(ctx, 'active', size=MiB, locations=1)
    staged = add_image(ctx, 'uploading')
    quota.check_import(ctx, 'glance-direct', staged, MiB)
    with pytest.raises(exception.LimitExceeded, match='image_size_total'):
        quota.check_import(ctx, 'glance-direct', staged, MiB + 1)
    queued = add_image(ctx)
    # The staged image is uploading already: a web-download is one more.
    with pytest.raises(exception.LimitExceeded,
                       match='image_count_uploading'):
        quota.check_import(ctx, 'web-download', queued)


def test_check_import_without_unified_limits(db, ctx):
    image = add_image(ctx)
    quota.check_import(ctx, 'copy-image', image)


def test_get_usage(db, ctx, keystone_limits):
    assert quota.get_usage(ctx) == {}
    keystone_limits({'image_count_total': 3}, image_size_total=10,
                    image_stage_total=5, image_count_total=9,
                    image_count_uploading=2)
    add_image(ctx, 'active', size=MiB + 5, locations=1)
    add_image(ctx, 'saving')
    found = {name: (value.limit, value.usage)
             for name, value in quota.get_usage(ctx).items()}
    assert found == {'image_size_total': (10, 1),
                     'image_stage_total': (5, 0),
                     'image_count_total': (3, 2),
                     'image_count_uploading': (2, 1)}


def test_lock_row_is_made_once(db, ctx):
    project = 'p-%s' % uuid.uuid4().hex[:6]
    for _ in range(2):
        with db_quota.locked(ctx, project):
            pass
    with db_quota.reading() as session:
        rows = session.execute(models.quota_locks.select().where(
            models.quota_locks.c.project_id == project)).all()
    assert len(rows) == 1
