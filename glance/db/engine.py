"""Database sessions: oslo.db's enginefacade, tuned for SQLite writers.

SQLite refuses to upgrade a read transaction to a write one when another
connection committed in between ("database is locked" at once, whatever
the busy timeout). So every write transaction here takes the write lock up
front with BEGIN IMMEDIATE and waits for it (busy timeout), readers use a
plain deferred BEGIN and, in WAL mode, never wait; and a write that still
meets a lock or a deadlock is retried a bounded number of times.
"""

import contextlib
import functools
import threading

from oslo_config import cfg
from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa

from glance.common import exception

CONF = cfg.CONF

_WRITE_OPTION = {'glance_write': True}
_facade = None
_facade_lock = threading.Lock()


class _Holder:
    """Stands in for a request context when enginefacade needs one."""


def _pool_sqlite(engine):
    """Keep SQLite connections open between transactions.

    oslo.db gives file SQLite a NullPool, so every transaction would open
    the file and set its pragmas again, which costs more than the queries
    of a typical request. SQLAlchemy's own default for file databases is a
    QueuePool; this builds one the way Pool.recreate() does, so the
    listeners registered on the engine keep working.
    """
    old = engine.pool
    engine.pool = sa.pool.QueuePool(
        old._creator, pool_size=CONF.threads + 2, max_overflow=16,
        timeout=CONF.database.sqlite_busy_timeout, recycle=old._recycle,
        echo=old.echo, logging_name=old._orig_logging_name,
        reset_on_return=old._reset_on_return, _dispatch=old.dispatch,
        dialect=old._dialect)
    old.dispose()


def _sqlite_events(engine, busy_timeout):
    @sa.event.listens_for(engine, 'connect')
    def _connect(dbapi_con, record):
        dbapi_con.execute('PRAGMA busy_timeout = %d' % (busy_timeout * 1000))
        dbapi_con.execute('PRAGMA journal_mode = WAL')
        dbapi_con.execute('PRAGMA synchronous = NORMAL')

    # oslo.db emits a deferred BEGIN for every transaction; this one
    # replaces it so that writers can ask for the write lock up front.
    for listener in list(engine.dispatch.begin):
        if getattr(listener, '__name__', '') == '_sqlite_emit_begin':
            sa.event.remove(engine, 'begin', listener)

    @sa.event.listens_for(engine, 'begin')
    def _begin(conn):
        if 'in_transaction' in conn.info:
            return
        if conn.get_execution_options().get('glance_write'):
            conn.exec_driver_sql('BEGIN IMMEDIATE')
        else:
            conn.exec_driver_sql('BEGIN')
        conn.info['in_transaction'] = True


def _make_facade():
    facade = enginefacade.transaction_context()
    # thread_checkin makes every connection checkin sleep(0) to yield to
    # eventlet, which this service does not use.
    facade.configure(sqlite_fk=True, sqlite_synchronous=True,
                     thread_checkin=False)
    engine = facade.writer.get_engine()
    if engine.dialect.name == 'sqlite':
        _sqlite_events(engine, CONF.database.sqlite_busy_timeout)
        if engine.url.database not in (None, '', ':memory:'):
            _pool_sqlite(engine)
    return facade


def facade():
    global _facade
    if _facade is None:
        with _facade_lock:
            if _facade is None:
                _facade = _make_facade()
    return _facade


def reset():
    """Forget the engine (tests and forked workers)."""
    global _facade
    if _facade is not None:
        _facade.dispose_pool()
    _facade = None


def get_engine():
    return facade().writer.get_engine()


@contextlib.contextmanager
def reader(context=None):
    with facade().reader.using(context or _Holder()) as session:
        yield session


@contextlib.contextmanager
def read_connection(context=None):
    """A read transaction on a plain Connection: lighter than a Session
    for the hot read paths that only run prebuilt Core statements."""
    with facade().reader.connection.using(context or _Holder()) as conn:
        yield conn


@contextlib.contextmanager
def writer(context=None):
    with facade().writer.using(context or _Holder()) as session:
        # A block inside another with the same context joins its
        # transaction, whose connection has begun already.
        if not session.info.get('glance_write'):
            session.connection(execution_options=_WRITE_OPTION)
            session.info['glance_write'] = True
        yield session


def _retriable(error):
    return (isinstance(error, db_exc.DBError) and
            'database is locked' in str(error))


def retry_on_busy(func):
    """Retry a whole write when the database was busy or deadlocked."""
    retrying = oslo_db_api.wrap_db_retry(
        max_retries=8, retry_interval=0.02, inc_retry_interval=True,
        max_retry_interval=0.5, retry_on_deadlock=True,
        exception_checker=_retriable)(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return retrying(*args, **kwargs)
        except (db_exc.DBDeadlock, db_exc.RetryRequest) as e:
            raise exception.DBRetryExhausted() from e
        except db_exc.DBError as e:
            if _retriable(e):
                raise exception.DBRetryExhausted() from e
            raise
    return wrapper
