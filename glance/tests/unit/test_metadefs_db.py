"""The metadef data module on a temporary SQLite database: visibility,
all-or-nothing writes, keyset pages, and statement counts that do not
grow with the catalog."""

import contextlib

import pytest
import sqlalchemy as sa

from glance.common import exception
from glance import context as glance_context
from glance.db import engine
from glance.db import metadefs as db
from glance.db import migration


@pytest.fixture
def database(conf, tmp_path):
    conf.config(connection='sqlite:///%s' % (tmp_path / 'glance.sqlite'),
                group='database')
    engine.reset()
    migration.upgrade()
    yield
    engine.reset()


def ctx(project='p1', admin=False):
    roles = ['admin', 'member', 'reader'] if admin else ['member', 'reader']
    return glance_context.RequestContext(project_id=project, roles=roles)


def make(name, owner='p1', visibility='private', **contents):
    return db.create_namespace({'namespace': name, 'owner': owner,
                                'visibility': visibility}, **contents)


@contextlib.contextmanager
def counted():
    statements = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(('BEGIN', 'PRAGMA')):
            statements.append(statement)

    sa.event.listen(engine.get_engine(), 'before_cursor_execute', count)
    try:
        yield statements
    finally:
        sa.event.remove(engine.get_engine(), 'before_cursor_execute', count)


def test_visibility(database):
    make('mine', owner='p1')
    make('theirs', owner='p2')
    make('open', owner='p2', visibility='public')
    assert db.get_namespace(ctx('p1'), 'mine')['owner'] == 'p1'
    with pytest.raises(db.NamespaceNotFound):
        db.get_namespace(ctx('p1'), 'theirs')
    assert db.get_namespace(ctx('p1', admin=True), 'theirs')
    names = {n['namespace'] for n in db.list_namespaces(ctx('p1'))}
    assert names == {'mine', 'open'}


def test_create_is_all_or_nothing(database):
    with pytest.raises(exception.Conflict):
        make('half', objects_=[{'name': 'a'}, {'name': 'a'}])
    with pytest.raises(exception.Conflict):
        make('half', resource_type_associations=[
            {'name': 'OS::New::Type'}, {'name': 'OS::New::Type'}])
    with pytest.raises(db.NamespaceNotFound):
        db.get_namespace(ctx(admin=True), 'half')
    types = {t['name'] for t in db.list_resource_types()}
    assert 'OS::New::Type' not in types


def test_create_with_contents_and_delete_cascades(database):
    ns = make('full', resource_type_associations=[
        {'name': 'OS::Glance::Image', 'prefix': 'x_'},
        {'name': 'OS::Brand::New'}],
        objects_=[{'name': 'o', 'required': ['p'],
                   'properties': {'p': {'title': 'P', 'type': 'string'}}}],
        properties_={'q': {'title': 'Q', 'type': 'integer'}},
        tags_=['t1', 't2'])
    contents = db.namespace_contents(ns)
    assert [o['json_schema'] for o in contents['objects']] == \
        [{'p': {'title': 'P', 'type': 'string'}}]
    assert contents['objects'][0]['required'] == ['p']
    assert [t['name'] for t in contents['tags']] == ['t1', 't2']
    assert {a['name'] for a in contents['resource_type_associations']} == \
        {'OS::Glance::Image', 'OS::Brand::New'}
    # A type first seen in an association joins the catalog unprotected.
    types = {t['name']: t['protected'] for t in db.list_resource_types()}
    assert types['OS::Brand::New'] is False
    assert types['OS::Glance::Image'] is True
    db.delete_namespace(ns)
    with db.engine.read_connection() as conn:
        for table in (db.objects, db.properties, db.tags, db.associations):
            assert conn.execute(sa.select(sa.func.count()).select_from(
                table)).scalar() == 0


def test_protected_namespace_keeps_its_contents(database):
    ns = db.create_namespace({'namespace': 'locked', 'owner': 'p1',
                              'protected': True}, tags_=['t'])
    repo = db.MetadefRepo(ctx(admin=True))
    with pytest.raises(exception.Forbidden):
        repo.delete_namespace(ns)
    with pytest.raises(exception.Forbidden):
        repo.delete_children(ns, 'tags')
    with pytest.raises(exception.Forbidden):
        repo.delete_child(ns, 'tags', 't')
    with pytest.raises(exception.NotFound):
        repo.delete_child(ns, 'tags', 'missing')
    assert [t['name'] for t in db.list_children(ns, 'tags')] == ['t']


def test_bulk_tags_all_or_nothing(database):
    ns = make('tagged', tags_=['a'])
    with pytest.raises(exception.Conflict):
        db.add_tags(ns, ['b', 'a'], append=True)
    with pytest.raises(exception.Conflict):
        db.add_tags(ns, ['c', 'c'], append=False)
    assert [t['name'] for t in db.list_children(ns, 'tags')] == ['a']
    db.add_tags(ns, ['b'], append=True)
    db.add_tags(ns, ['c', 'd'], append=False)
    assert sorted(t['name'] for t in db.list_children(ns, 'tags')) == \
        ['c', 'd']


@pytest.mark.parametrize('sort_key', ['namespace', 'display_name',
                                      'created_at', 'protected'])
@pytest.mark.parametrize('sort_dir', ['asc', 'desc'])
def test_pages_cover_the_list_once(database, sort_key, sort_dir):
    for i in range(7):
        db.create_namespace({'namespace': 'ns%d' % i, 'owner': 'p1',
                             # Some NULLs and ties to order through.
                             'display_name': (None if i % 3 == 0
                                              else 'd%d' % (i % 2)),
                             'protected': bool(i % 2)})
    context = ctx('p1')
    whole = [n['namespace'] for n in db.list_namespaces(
        context, sort_key=sort_key, sort_dir=sort_dir)]
    seen, marker = [], None
    while True:
        page = db.list_namespaces(context, sort_key=sort_key,
                                  sort_dir=sort_dir, marker=marker, limit=2)
        if not page:
            break
        seen += [n['namespace'] for n in page]
        marker = page[-1]['namespace']
    assert seen == whole
    assert sorted(whole) == ['ns%d' % i for i in range(7)]


def test_list_statements_do_not_grow(database):
    def statements_of_a_page():
        with counted() as statements:
            page = db.list_namespaces(ctx('p1'), marker='ns0', limit=20,
                                      sort_key='namespace', sort_dir='asc')
        assert page
        return len(statements)

    for i in range(3):
        make('ns%d' % i, resource_type_associations=[
            {'name': 'OS::Glance::Image'}, {'name': 'OS::Nova::Flavor'}])
    few = statements_of_a_page()
    for i in range(3, 40):
        make('ns%d' % i, resource_type_associations=[
            {'name': 'OS::Glance::Image'}, {'name': 'OS::Nova::Flavor'}])
    assert statements_of_a_page() == few <= 3
    with counted() as statements:
        db.namespace_contents(db.get_namespace(ctx('p1'), 'ns1'))
    assert len(statements) == 5
