"""A wrong PostgreSQL password is refused by the real server and reported in one line.

The machine's cluster trusts every login, so ``.ci/run`` makes the server check
passwords for one role (``l0_password_check``, scram-sha-256). The test first
proves that the right password connects and then that a wrong one is refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest

from l0core import StoreConnectionError, create_event_store
from tests.services import _unavailable, postgres_dsn, unique_name

ROLE = "l0_password_check"
RIGHT = "right-horse-battery"


async def test_wrong_password_is_one_clear_line() -> None:
    dsn = postgres_dsn()
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as admin:
        exists = await (await admin.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,))).fetchone()
        verb = "ALTER" if exists else "CREATE"
        await admin.execute(f"{verb} ROLE {ROLE} LOGIN PASSWORD '{RIGHT}'")
    parts = urlsplit(dsn)
    host = f"{parts.hostname}:{parts.port or 5432}"
    try:
        wrong = await psycopg.AsyncConnection.connect(
            f"postgresql://{ROLE}:not-the-password@{host}/postgres")
    except psycopg.OperationalError:
        pass
    else:
        await wrong.close()
        _unavailable(f"the server at {host} does not check passwords for {ROLE} "
                     "(.ci/run adds a scram-sha-256 line for it to pg_hba.conf)")

    # A schema of its own: what the shared database already holds (tables of other
    # roles under the default prefix) must not decide this test.
    good = await create_event_store(
        f"postgresql://{ROLE}:{RIGHT}@{host}/postgres?schema={unique_name('pw')}",
        read_only=True)
    await good.close()

    with pytest.raises(StoreConnectionError) as err:
        await create_event_store(f"postgresql://{ROLE}:not-the-password@{host}/postgres")
    message = str(err.value)
    assert message.startswith(f"cannot connect to PostgreSQL at postgresql://{ROLE}:***@")
    assert "password authentication failed" in message
    assert "not-the-password" not in message and "\n" not in message
    assert err.value.__cause__ is None and err.value.__suppress_context__
