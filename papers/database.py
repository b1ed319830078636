"""The database out of reach for a while (a restart, a fail-over): what code that outlives one
request does about it.

Pages answer 503 meanwhile (digest_site/errors.py); tasks are retried later (papers/tasks.py); a
pipeline run records how it ended once the database is back (`when_reachable`).
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

# What Django raises when the database cannot be reached or the connection was cut.
DATABASE_ERRORS = (OperationalError, InterfaceError)
# How long `when_reachable` waits for the database to come back; a restart takes seconds.
REACHABLE_WAIT_SECONDS = 60.0

T = TypeVar("T")


def when_reachable(work: Callable[[], T], *, wait: float = REACHABLE_WAIT_SECONDS) -> T:
    """`work()`, done again on a new connection while the database cannot be reached, for up to
    `wait` seconds. Inside a transaction nothing can be done again: the error is raised."""
    deadline = time.monotonic() + wait
    pause = 0.5
    while True:
        try:
            return work()
        except DATABASE_ERRORS as exc:
            if connection.in_atomic_block or time.monotonic() + pause > deadline:
                raise
            logger.warning("The database cannot be reached (%s); trying again", exc)
        try:
            connection.close()
        except DATABASE_ERRORS:
            pass
        time.sleep(pause)
        pause = min(pause * 2, 5.0)
