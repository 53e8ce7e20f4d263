"""SQL of the image cache's bookkeeping: which node caches which image.

One row of node_reference per API node (its URL), one row of
cached_images per image file a node holds, with its size, checksum, hit
count and times. The centralized_db cache driver keeps these tables in
the service database; the sqlite driver keeps the same tables in a
SQLite file of its own inside the cache directory.
"""

import contextlib
import datetime

from oslo_db import exception as db_exc
import sqlalchemy as sa

from glance.db import engine
from glance.db import models

nodes = models.node_reference
cached = models.cached_images


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _epoch(moment):
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


def _view(row):
    return {'image_id': row.image_id, 'hits': row.hits,
            'last_accessed': _epoch(row.last_accessed),
            'last_modified': _epoch(row.last_modified),
            'size': row.size}


class Records:
    """The cache records of one node.

    reader and writer are context-manager factories yielding something
    that executes Core statements in a transaction (a Session or a
    Connection); the writer commits on leaving.
    """

    def __init__(self, node_url, reader=None, writer=None):
        self.node_url = node_url
        self.reader = reader or engine.read_connection
        self.writer = writer or engine.writer
        self._node_id = None

    @engine.retry_on_busy
    def _ensure_node(self):
        with self.writer() as db:
            node_id = db.execute(sa.select(nodes.c.node_reference_id).where(
                nodes.c.node_reference_url == self.node_url)).scalar()
            if node_id is None:
                node_id = db.execute(nodes.insert().values(
                    node_reference_url=self.node_url)).inserted_primary_key[0]
        return node_id

    def node_id(self):
        if self._node_id is None:
            try:
                self._node_id = self._ensure_node()
            except db_exc.DBDuplicateEntry:
                # Another worker of this node recorded it first.
                self._node_id = self._ensure_node()
        return self._node_id

    def _mine(self):
        # The node id is looked up (or recorded) before any transaction
        # of the caller starts: a write inside another one would wait
        # for itself on SQLite.
        return cached.c.node_reference_id == self.node_id()

    @engine.retry_on_busy
    def add(self, image_id, size, checksum):
        now = _utcnow()
        node_id = self.node_id()
        mine = self._mine()
        with self.writer() as db:
            db.execute(cached.delete().where(
                mine, cached.c.image_id == image_id))
            db.execute(cached.insert().values(
                image_id=image_id, size=size, checksum=checksum, hits=0,
                last_accessed=now, last_modified=now,
                node_reference_id=node_id))

    @engine.retry_on_busy
    def hit(self, image_id):
        mine = self._mine()
        with self.writer() as db:
            db.execute(cached.update().where(
                mine, cached.c.image_id == image_id).values(
                    hits=cached.c.hits + 1, last_accessed=_utcnow()))

    @engine.retry_on_busy
    def remove(self, image_id):
        mine = self._mine()
        with self.writer() as db:
            db.execute(cached.delete().where(
                mine, cached.c.image_id == image_id))

    @engine.retry_on_busy
    def remove_all(self):
        mine = self._mine()
        with self.writer() as db:
            db.execute(cached.delete().where(mine))

    def get(self, image_id):
        mine = self._mine()
        with self.reader() as db:
            row = db.execute(sa.select(cached).where(
                mine, cached.c.image_id == image_id)).first()
        return None if row is None else dict(_view(row),
                                             checksum=row.checksum)

    def list(self):
        mine = self._mine()
        with self.reader() as db:
            rows = db.execute(sa.select(cached).where(mine)
                              .order_by(cached.c.image_id)).all()
        return [_view(row) for row in rows]

    def least_recently_accessed(self):
        """Image ids, the one accessed longest ago first."""
        mine = self._mine()
        with self.reader() as db:
            return list(db.execute(
                sa.select(cached.c.image_id).where(mine)
                .order_by(cached.c.last_accessed, cached.c.id)).scalars())

    def nodes_of(self, image_id):
        """URLs of every node that caches the image."""
        with self.reader() as db:
            return list(db.execute(
                sa.select(nodes.c.node_reference_url)
                .join(cached, cached.c.node_reference_id ==
                      nodes.c.node_reference_id)
                .where(cached.c.image_id == image_id)
                .order_by(nodes.c.node_reference_url)).scalars())


def active_image_ids(image_ids):
    """Those of the given image ids whose images are active."""
    found = set()
    image_ids = list(image_ids)
    for start in range(0, len(image_ids), 500):
        batch = image_ids[start:start + 500]
        with engine.read_connection() as db:
            found.update(db.execute(
                sa.select(models.images.c.id).where(
                    models.images.c.id.in_(batch),
                    models.images.c.status == 'active',
                    models.images.c.deleted == sa.false())).scalars())
    return found


def local_records(path, node_url):
    """Records in a SQLite file of their own (the sqlite driver)."""
    # No pool: the engine is made before gunicorn forks its workers.
    local = sa.create_engine('sqlite:///' + path,
                             connect_args={'timeout': 30},
                             poolclass=sa.pool.NullPool)
    models.Base.metadata.create_all(local, tables=[nodes, cached])

    @contextlib.contextmanager
    def begin():
        with local.begin() as connection:
            yield connection
    return Records(node_url, reader=begin, writer=begin)
