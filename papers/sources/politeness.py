"""One arXiv request at a time across every worker and process, at least ARXIV_DELAY_SECONDS apart.

arXiv counts requests over a whole deployment, so the turn is taken through Redis when REDIS_URL is
set (a lock plus the time of the last request), and through a lock file under data/ otherwise.
Every request to arXiv (API, PDFs, OAI-PMH) goes through `arxiv_turn()`.
"""

import contextlib
import email.utils
import fcntl
import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_KEY = "digest:arxiv:lock"
LAST_KEY = "digest:arxiv:last"


def user_agent() -> str:
    contact = f"; {settings.ARXIV_CONTACT}" if settings.ARXIV_CONTACT else ""
    return f"digest-site/0.1 (daily paper digests{contact})"


def _wait(last: float, delay: float) -> None:
    remaining = last + delay - time.time()
    if remaining > 0:
        time.sleep(remaining)


class _Refresher(threading.Thread):
    """Keeps a Redis lock alive while its owner lives: its time-out is short, so a killed owner's
    turn frees itself within seconds instead of blocking every worker."""

    def __init__(self, lock) -> None:
        super().__init__(name="arxiv-turn-refresh", daemon=True)
        self.lock = lock
        self.stopped = threading.Event()

    def run(self) -> None:
        import redis

        while not self.stopped.wait(self.lock.timeout / 3):
            try:
                self.lock.reacquire()
            except (redis.exceptions.RedisError, redis.exceptions.LockError) as exc:
                logger.warning("Could not keep the arXiv turn: %s", exc)
                return


@contextlib.contextmanager
def _redis_turn(delay: float) -> Iterator[None]:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    # Not thread-local: the refresher thread renews the turn this thread took.
    lock = client.lock(LOCK_KEY, timeout=settings.ARXIV_LOCK_TIMEOUT_SECONDS, thread_local=False)
    lock.acquire()
    refresher = _Refresher(lock)
    refresher.start()
    try:
        _wait(float(client.get(LAST_KEY) or 0), delay)
        yield
    finally:
        refresher.stopped.set()
        refresher.join()
        client.set(LAST_KEY, time.time())
        try:
            lock.release()
        except redis.exceptions.LockError:
            logger.warning("The arXiv turn outlived its lock time-out")


@contextlib.contextmanager
def _last_request_file() -> Iterator[tuple]:
    """The file that holds the last arXiv request's time, locked against other processes:
    yields (handle, that time or 0)."""
    path = Path(settings.DATA_DIR) / "arxiv.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            text = handle.read().strip()
            yield handle, float(text) if text else 0.0
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_time(handle, moment: float) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(str(moment))
    handle.flush()
    os.fsync(handle.fileno())


@contextlib.contextmanager
def _file_turn(delay: float) -> Iterator[None]:
    with _last_request_file() as (handle, last):
        _wait(last, delay)
        try:
            yield
        finally:
            _write_time(handle, time.time())


@contextlib.contextmanager
def arxiv_turn() -> Iterator[None]:
    """Hold the deployment-wide arXiv turn for one request."""
    delay = float(settings.ARXIV_DELAY_SECONDS)
    turn = _redis_turn if settings.REDIS_URL else _file_turn
    with turn(delay):
        yield


# arXiv's Retry-After is honoured up to this long; a longer one fails the request after the wait.
MAX_RETRY_AFTER_SECONDS = 120.0


def retry_after_seconds(value: str | None) -> float | None:
    """The wait a Retry-After header asks for (seconds or an HTTP date), bounded; else None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def hold_off(seconds: float) -> None:
    """Make every worker's next arXiv turn wait `seconds` from now (arXiv asked us to)."""
    delay = float(settings.ARXIV_DELAY_SECONDS)
    last = time.time() + seconds - delay
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        if float(client.get(LAST_KEY) or 0) < last:
            client.set(LAST_KEY, last)
        return
    with _last_request_file() as (handle, stored):
        if stored < last:
            _write_time(handle, last)


def backoff_seconds(attempt: int) -> float:
    """Exponential back-off with jitter: about base, 2*base, 4*base ... (each 50-150%)."""
    base = float(settings.ARXIV_BACKOFF_SECONDS) * (2**attempt)
    return base * random.uniform(0.5, 1.5)


class PoliteSession(requests.Session):
    """A requests session for arXiv: our User-Agent, a default time-out, one request per turn.

    5xx and 429 answers, time-outs and connection errors are retried with back-off, or after the
    wait a Retry-After header asks for (bounded); every attempt waits for its own turn, so retries
    keep the global spacing too.
    """

    def __init__(self, timeout: float | None = None, retries: int | None = None) -> None:
        super().__init__()
        self.timeout = timeout if timeout is not None else settings.ARXIV_TIMEOUT_SECONDS
        self.retries = retries if retries is not None else settings.ARXIV_RETRIES
        self.last_response: requests.Response | None = None
        self.headers["User-Agent"] = user_agent()

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        # The arxiv client sends its own User-Agent with each request; ours names this site.
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "User-Agent": user_agent()}
        attempt = 0
        while True:
            try:
                with arxiv_turn():
                    response = super().request(method, url, **kwargs)
            except (requests.Timeout, requests.ConnectionError) as exc:
                if attempt + 1 >= self.retries:
                    raise
                logger.warning("arXiv request failed (%s), retrying: %s", exc, url)
            else:
                self.last_response = response
                retryable = response.status_code >= 500 or response.status_code == 429
                if not retryable or attempt + 1 >= self.retries:
                    return response
                logger.warning("arXiv answered %s, retrying: %s", response.status_code, url)
                response.close()
                wait = (
                    retry_after_seconds(response.headers.get("Retry-After"))
                    if response.status_code in (429, 503)
                    else None
                )
                if wait is not None:
                    # The next turn, ours or another worker's, waits as long as arXiv asked.
                    hold_off(wait)
                    attempt += 1
                    continue
            time.sleep(backoff_seconds(attempt))
            attempt += 1
