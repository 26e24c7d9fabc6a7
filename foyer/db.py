"""Database engines. The app and activities use an async engine; Alembic uses a sync one.

`FOYER_DATABASE_URL` is written the ordinary way (`sqlite:///path`, `postgresql://user@host/db`);
the drivers (aiosqlite, psycopg 3) are chosen here so nobody has to spell them.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url, URL
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer import tracing
from foyer.settings import get_settings


def _driver_url(url: str, *, asynchronous: bool) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite" if asynchronous else "sqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database backend {backend!r}: use sqlite or postgresql")


def async_url(url: str) -> URL:
    return _driver_url(url, asynchronous=True)


def sync_url(url: str) -> URL:
    return _driver_url(url, asynchronous=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the API read while the worker writes; busy_timeout turns lock contention into a
    # short wait instead of "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    # Traced when tracing is on (now or once foyer.tracing.setup runs); nothing otherwise.
    # create_async_engine is looked up on its module at each call, so that the tracing
    # instrumentation's wrapper of it applies.
    engine = _make_engine(url)
    tracing.instrument_engine(engine)
    return engine


def _make_engine(url: str) -> AsyncEngine:
    target = async_url(url)
    if target.get_backend_name() == "sqlite" and target.database:
        Path(target.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sqlalchemy_asyncio.create_async_engine(target, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    settings = get_settings()
    return sqlalchemy_asyncio.create_async_engine(target, pool_size=settings.database_pool_size,
                                                 max_overflow=settings.database_max_overflow,
                                                 pool_timeout=settings.database_pool_timeout_seconds, pool_pre_ping=True)


@lru_cache
def get_engine() -> AsyncEngine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(), class_=AsyncSession, expire_on_commit=False)


_sqlite_writers: dict[int, asyncio.Lock] = {}


def _writer_lock() -> asyncio.Lock | None:
    """On SQLite, one write transaction at a time per process, queued in order. SQLite admits one
    writer anyway; without this, concurrent activities find the database busy and sleep in its
    busy handler (back-off up to 100 ms a try), which under load costs seconds per transaction."""
    if not is_sqlite(get_settings().database_url):
        return None
    loop = id(asyncio.get_running_loop())
    if loop not in _sqlite_writers:
        _sqlite_writers[loop] = asyncio.Lock()
    return _sqlite_writers[loop]


@asynccontextmanager
async def writing() -> AsyncIterator[None]:
    """Hold this process's SQLite writer lock (nothing on PostgreSQL) around a request that writes
    through a session of its own: the OpenID Provider's authorize and token endpoints, so that
    under load their transactions queue here in order instead of sleeping in SQLite's busy handler
    (which ran 50 concurrent token requests into the pool's 30 s timeout)."""
    lock = _writer_lock()
    async with lock if lock is not None else contextlib.nullcontext():
        yield


@asynccontextmanager
async def session_scope() -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back if it raises.
    Never nest one in another (on SQLite the writer lock is not re-entrant)."""
    async with writing():
        async with get_sessionmaker()() as session:
            async with session.begin():
                yield session


@asynccontextmanager
async def reading() -> AsyncIterator[AsyncSession]:
    """A session for reads only: it takes no writer lock (SQLite reads never wait for writers in
    WAL mode). Anything written through it is rolled back."""
    async with get_sessionmaker()() as session:
        try:
            yield session
        finally:
            await session.rollback()
