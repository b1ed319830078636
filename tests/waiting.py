"""Waiting in browser tests under the site's Content-Security-Policy.

Playwright's `wait_for_function` compiles its predicate with eval, which the policy forbids
(script-src 'self'); `page.evaluate` is not subject to it, so conditions are polled from here.
"""

import time


def wait_until(page, expression: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)
