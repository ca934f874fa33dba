"""SQLAlchemy (Core and ORM) and Peewee on PostgreSQL through psycopg 3.

The workloads are the SQLite adapters' own methods (bench.libs.sa_core, sa_orm, peewee_lib):
only the engine or database object differs. SQLAlchemy uses its ``postgresql+psycopg``
dialect; Peewee's ``PostgresqlDatabase`` picks psycopg 3 (its psycopg2 driver is not
installed here, and ``prefer_psycopg3=True`` makes the choice explicit either way).
"""

from __future__ import annotations

from peewee import PostgresqlDatabase
from sqlalchemy import create_engine

from bench.libs.peewee_lib import Peewee
from bench.libs.sa_core import SACore
from bench.libs.sa_orm import SAOrm


def sa_engine(pg, database: str):
    p = pg.server
    return create_engine(
        f"postgresql+psycopg://{p.user}@127.0.0.1:{p.port}/{database}", pool_size=1
    )


class SACorePg(SACore):
    def __init__(self, pg, database: str) -> None:
        self.path = database
        self.engine = sa_engine(pg, database)


class SAOrmPg(SAOrm):
    def __init__(self, pg, database: str) -> None:
        self.path = database
        self.engine = sa_engine(pg, database)


class PeeweePg(Peewee):
    def __init__(self, pg, database: str) -> None:
        p = pg.server
        self.path = database
        self.db = PostgresqlDatabase(
            database, user=p.user, host="127.0.0.1", port=p.port, prefer_psycopg3=True
        )
        self.db.connect()
