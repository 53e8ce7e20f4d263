"""SQL statements per API call do not grow with the number of images.

The real paste pipeline runs in-process against a temporary SQLite file,
driven with webob, and a SQLAlchemy ``before_cursor_execute`` listener
counts the statements of each call. Parsing the configuration and
building the app changes global state (oslo.config's CONF, the engine,
logging), so that part runs in a child Python process and reports the
statements as JSON; the tests here only read that report.
"""

import fcntl
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

PROJECT = 'p-sqlcount'
HEADERS = {'X-Project-Id': PROJECT, 'X-User-Id': 'u-sqlcount',
           'X-Roles': 'member,reader'}
IMAGES = 1000
PATCH_21 = 'application/openstack-images-v2.1-json-patch'


# -- the child process ----------------------------------------------------

def _child(workdir):
    """Build the app, run the calls, write workdir/report.json."""
    import uuid

    import sqlalchemy as sa
    import webob

    from glance.api import app as glance_app
    from glance.common import config
    from glance import context as glance_context
    from glance.db import engine as db_engine
    from glance.db import images as db_images
    from glance.db import models
    from glance.domain import image as domain

    conf_file = os.path.join(workdir, 'glance-api.conf')
    with open(conf_file, 'w') as f:
        f.write(textwrap.dedent("""\
            [DEFAULT]
            state_path = %(dir)s
            node_staging_uri = file://%(dir)s/staging
            log_file = %(dir)s/glance-api.log
            [database]
            connection = sqlite:///%(dir)s/glance.sqlite
            """ % {'dir': workdir}))
    config.parse_args([], default_config_files=[conf_file])
    app = glance_app.build()

    # Many images straight through the data layer (faster than HTTP): a
    # few through the repository's add(), the rest in one transaction.
    ctx = glance_context.RequestContext(project_id=PROJECT,
                                        user_id='u-sqlcount',
                                        roles=['member', 'reader'])
    factory = domain.ImageFactory()
    started = time.monotonic()
    new_images = []
    for i in range(IMAGES):
        new_images.append(factory.new_image(
            owner=PROJECT, name='image-%04d' % i,
            visibility=('private', 'shared', 'public', 'community')[i % 4],
            container_format='bare', disk_format='raw',
            extra_properties={'os_distro': 'debian', 'os_version': str(i),
                              'hw_disk_bus': 'virtio'},
            tags={'t%d' % (i % 3), 'all', 'x-%d' % i}))
    ids = [image.id for image in new_images]
    for image in new_images[:10]:
        db_images.add(ctx, image)
    rest = new_images[10:]
    with db_engine.writer() as session:
        session.execute(models.images.insert(), [
            dict({name: getattr(image, name)
                  for name in domain.BASE_ATTRIBUTES}, deleted=False)
            for image in rest])
        session.execute(models.image_properties.insert(), [
            {'image_id': image.id, 'name': name, 'value': value}
            for image in rest
            for name, value in image.extra_properties.items()])
        session.execute(models.image_tags.insert(), [
            {'image_id': image.id, 'value': tag}
            for image in rest for tag in image.tags])
    seed_seconds = time.monotonic() - started

    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(' '.join(statement.split()))

    engine = db_engine.get_engine()
    sa.event.listen(engine, 'before_cursor_execute', count)

    report = {'seed_seconds': seed_seconds, 'calls': {}}

    def run(name, method, path, body=None, headers=None, content_type=None):
        request = webob.Request.blank(path, method=method)
        for key, value in (HEADERS if headers is None else headers).items():
            request.headers[key] = value
        if body is not None:
            request.body = json.dumps(body).encode()
            request.content_type = content_type or 'application/json'
        del statements[:]
        response = request.get_response(app)
        try:
            document = response.json
        except ValueError:
            document = None
        report['calls'][name] = {
            'status': response.status_int,
            'statements': list(statements),
            'images': (len(document['images'])
                       if isinstance(document, dict) and 'images' in document
                       else None),
            'body': response.text[:500] if response.status_int >= 400
            else None,
        }
        return document

    # Warm up (first use of the app loads policies, schemas...).
    run('warm-up', 'GET', '/v2/images?limit=1')

    run('list-25', 'GET', '/v2/images')
    run('list-1000', 'GET', '/v2/images?limit=1000')
    run('list-1000-hidden-too', 'GET', '/v2/images?limit=1000&os_hidden=true')
    run('list-filtered', 'GET',
        '/v2/images?limit=1000&tag=all&tag=t1&os_distro=debian'
        '&hw_disk_bus=virtio&name=in:image-0001,image-0004,image-0007'
        '&visibility=all&min_ram_max=0&created_at=gte:2000-01-01'
        '&sort=name:asc,status')
    run('list-marker', 'GET', '/v2/images?limit=25&marker=%s' % ids[500])
    run('list-admin-25', 'GET', '/v2/images', headers={})
    run('list-admin-1000', 'GET', '/v2/images?limit=1000', headers={})
    run('show', 'GET', '/v2/images/%s' % ids[0])
    run('show-admin', 'GET', '/v2/images/%s' % ids[0], headers={})
    run('show-other-project', 'GET', '/v2/images/%s' % ids[2],
        headers=dict(HEADERS, **{'X-Project-Id': 'p-other'}))
    run('create-small', 'POST', '/v2/images',
        {'name': 'small', 'os_distro': 'x', 'tags': ['a']})
    run('create-large', 'POST', '/v2/images',
        dict({'name': 'large', 'tags': ['tag-%d' % i for i in range(40)],
              'container_format': 'bare', 'disk_format': 'qcow2',
              'min_ram': 512, 'id': str(uuid.uuid4())},
             **{'prop_%d' % i: 'v%d' % i for i in range(40)}))
    run('create-bare', 'POST', '/v2/images', {})
    run('create-owner', 'POST', '/v2/images',
        {'name': 'owned', 'owner': PROJECT})
    run('patch-one', 'PATCH', '/v2/images/%s' % ids[1],
        [{'op': 'replace', 'path': '/name', 'value': 'renamed'}],
        content_type=PATCH_21)
    run('patch-many', 'PATCH', '/v2/images/%s' % ids[2],
        [{'op': 'replace', 'path': '/name', 'value': 'renamed'},
         {'op': 'replace', 'path': '/os_distro', 'value': 'ubuntu'},
         {'op': 'remove', 'path': '/os_version'},
         {'op': 'add', 'path': '/tags', 'value': ['n1', 'n2', 'n3']}] +
        [{'op': 'add', 'path': '/new_%d' % i, 'value': str(i)}
         for i in range(30)],
        content_type=PATCH_21)

    sa.event.remove(engine, 'before_cursor_execute', count)
    with open(os.path.join(workdir, 'report.json'), 'w') as f:
        json.dump(report, f)


# -- the tests ------------------------------------------------------------

def _workdir(tmp_path_factory):
    """A directory for the child, shared by the xdist workers of a run."""
    run = os.environ.get('PYTEST_XDIST_TESTRUNUID')
    if run is None:
        return str(tmp_path_factory.mktemp('sqlcount'))
    # Each worker's base temp is <run temp>/popen-gwN.
    path = tmp_path_factory.getbasetemp().parent / ('sqlcount-' + run)
    path.mkdir(exist_ok=True)
    return str(path)


def _run_child(workdir):
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
    env = dict(os.environ)
    env['PYTHONPATH'] = root + os.pathsep + env.get('PYTHONPATH', '')
    code = ('import sys; '
            'from glance.tests.unit.test_sql_statement_count import _child; '
            '_child(sys.argv[1])')
    result = subprocess.run([sys.executable, '-c', code, workdir], cwd=root,
                            env=env, capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        log = os.path.join(workdir, 'glance-api.log')
        tail = open(log).read()[-3000:] if os.path.exists(log) else ''
        pytest.fail('child failed (%d):\n%s\n%s\n%s' % (
            result.returncode, result.stdout[-3000:], result.stderr[-5000:],
            tail))


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    """The child's report; the child runs once per test run.

    The tests of this module may be spread over several xdist workers:
    the first to take the lock runs the child, the others read its
    report.
    """
    workdir = _workdir(tmp_path_factory)
    path = os.path.join(workdir, 'report.json')
    with open(os.path.join(workdir, 'lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(path):
            _run_child(workdir)
    with open(path) as f:
        return json.load(f)


def _call(report, name, status=200):
    call = report['calls'][name]
    assert call['status'] == status, (name, call)
    return call


def _show(call):
    return '\n'.join('  %s' % s[:300] for s in call['statements'])


def _kinds(call):
    """Statement kinds: BEGIN, or the verb and the (first) table named."""
    kinds = []
    for statement in call['statements']:
        words = statement.split()
        upper = [word.upper() for word in words]
        verb = upper[0]
        if verb == 'BEGIN':
            kinds.append('BEGIN')
            continue
        if verb == 'UPDATE':
            table = words[1]
        else:
            keyword = 'INTO' if verb == 'INSERT' else 'FROM'
            table = words[upper.index(keyword) + 1]
        kinds.append('%s %s' % (verb, table.strip('"`')))
    return kinds


def test_list_25_and_1000_cost_the_same(report):
    small = _call(report, 'list-25')
    large = _call(report, 'list-1000')
    assert small['images'] == 25
    # Every image of the project is listed: hidden ones are not seeded,
    # community ones are the caller's own.
    assert large['images'] == 1000
    assert len(small['statements']) == len(large['statements']), (
        'list 25:\n%s\nlist 1000:\n%s' % (_show(small), _show(large)))


def test_list_statements(report):
    call = _call(report, 'list-1000')
    # BEGIN, then the image rows, then properties, tags and locations of
    # all of them at once, in one statement.
    assert _kinds(call) == ['BEGIN', 'SELECT images',
                            'SELECT image_properties'], _show(call)
    assert 'image_tags' in call['statements'][2]
    assert 'image_locations' in call['statements'][2]


@pytest.mark.parametrize('name', ['list-1000-hidden-too', 'list-filtered',
                                  'list-admin-25', 'list-admin-1000'])
def test_other_lists_cost_the_same(report, name):
    base = len(_call(report, 'list-1000')['statements'])
    call = _call(report, name)
    assert len(call['statements']) <= base, _show(call)


def test_admin_lists(report):
    assert _call(report, 'list-admin-25')['images'] == 25
    # Not other projects' community images (reference item 3).
    assert _call(report, 'list-admin-1000')['images'] == 750
    assert len(_call(report, 'list-admin-25')['statements']) == \
        len(_call(report, 'list-admin-1000')['statements'])


def test_filtered_list_finds_its_images(report):
    # image-0001, image-0004 and image-0007 all have the tag t1.
    assert _call(report, 'list-filtered')['images'] == 3


def test_marker_costs_one_more(report):
    base = len(_call(report, 'list-25')['statements'])
    call = _call(report, 'list-marker')
    assert call['images'] == 25
    assert len(call['statements']) <= base + 1, _show(call)


def test_show_own_image(report):
    call = _call(report, 'show')
    assert _kinds(call) == ['BEGIN', 'SELECT images',
                            'SELECT image_properties'], _show(call)


@pytest.mark.parametrize('name', ['show-admin', 'show-other-project'])
def test_show_other_image(report, name):
    # The image, then (another transaction) whether the caller's project
    # is a member of it, for the policy target.
    call = _call(report, name)
    assert len(call['statements']) <= 5, _show(call)


def test_create_costs_a_constant(report):
    small = _call(report, 'create-small', 201)
    large = _call(report, 'create-large', 201)
    bare = _call(report, 'create-bare', 201)
    # 40 properties and 40 tags cost what one of each does.
    assert len(large['statements']) == len(small['statements']), (
        'small:\n%s\nlarge:\n%s' % (_show(small), _show(large)))
    assert len(bare['statements']) <= len(small['statements'])
    assert _kinds(large) == ['BEGIN', 'INSERT images',
                             'INSERT image_properties',
                             'INSERT image_tags'], _show(large)


def test_create_with_own_owner(report):
    # POST with "owner" used to fail with a 500 (TypeError).
    _call(report, 'create-owner', 201)


def test_patch_costs_a_constant(report):
    one = _call(report, 'patch-one')
    many = _call(report, 'patch-many')
    # A read (as show) and a write: BEGIN IMMEDIATE, UPDATE, and at most
    # a delete and an insert each for properties and tags.
    assert len(one['statements']) <= 11, _show(one)
    assert len(many['statements']) <= 11, _show(many)
