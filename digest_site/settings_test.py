"""The test suite's settings: the normal ones, with a secret key that is only ever used by tests."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only-key")

from digest_site.settings import *  # noqa: E402, F403
