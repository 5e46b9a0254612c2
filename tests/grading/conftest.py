"""Fixtures of the grading tests that need real services: a fresh PostgreSQL database.

PostgreSQL is expected at 127.0.0.1:5432 with trust authentication (override with
``AUTOGRADER_TEST_PG``, a libpq "host=... port=... user=..." string). Where none runs the
tests that need it skip with the reason; under ``CI=true`` they fail instead, since CI
must run them.
"""

from __future__ import annotations

import os
import uuid

import pytest
from grading_helpers import PG_SERVER


def _missing(problem: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem}; the PostgreSQL tests are required under CI=true", pytrace=False)
    pytest.skip(problem)


def _admin_connection():
    try:
        import psycopg
    except ImportError:
        _missing("psycopg (PostgreSQL driver) is not installed")
    try:
        return psycopg.connect(f"{PG_SERVER} dbname=postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        _missing(f"no PostgreSQL server at '{PG_SERVER}' ({str(exc).strip()[:200]})")


@pytest.fixture
def pg_url():
    """SQLAlchemy URL of a new, empty PostgreSQL database, dropped after the test."""
    admin = _admin_connection()
    name = f"autograder_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    params = dict(item.split("=", 1) for item in PG_SERVER.split())
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', '5432')}/{name}"
    )
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, tmp_path):
    """A gradebook URL of each kind: SQLite in a temporary folder, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gradebook.db'}"
    return request.getfixturevalue("pg_url")
