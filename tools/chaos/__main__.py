"""The fault and hostile-input campaign (`make chaos`), on loopback only.

`python -m tools.chaos [--quick]`: runs the campaign on a throw-away test database and prints the
table and the one-line summary; exits 1 unless every fault was survived.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from tools.chaos import ROOT
from tools.chaos.campaign import run_campaign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short form the tests run")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest_site.settings")
    import logging
    import warnings

    import django

    django.setup()
    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore", message="No directory at")
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    started = time.monotonic()
    try:
        tally = run_campaign(quick=args.quick)
    finally:
        teardown_databases(databases, verbosity=0)
    print()
    print(tally.table())
    print()
    print(tally.summary())
    print(f"({time.monotonic() - started:.0f} s)")
    return 0 if tally.clean else 1


if __name__ == "__main__":
    sys.exit(main())
