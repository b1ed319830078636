"""The fault and hostile-input campaign (`make chaos`), on loopback only.

A local arXiv (API, OAI-PMH, PDFs), a local LLM and local mail servers misbehave in every way seen
in the wild, a Redis of the campaign's own is stopped and restarted while pages are served, real
workers die in the middle of a paper and of a digest, a PostgreSQL of the campaign's own restarts
in the middle of a run, and generated hostile input goes to every public URL and form while hostile
titles, authors, abstracts, captions and LLM text travel through the pipeline to the pages, the
feeds and the admin. The campaign prints a table (fault, expected, observed) and one line:

    faults survived N/N, 500s 0/M, unescaped 0/K, lost 0, duplicated 0, stuck 0

It runs on a throw-away test database (PostgreSQL when DATABASE_URL names one, else SQLite) with
tasks in-process, except the real-process faults, which run on a cluster of their own.
`run_campaign(quick=True)` is the short form the test suite runs.

The package, by purpose:

- `campaign`: the Campaign itself (bookkeeping, the environment it runs in, the final checks,
  the order of the stages) and `run_campaign`;
- `faults`: the faults: arXiv, PDFs, the LLM, mail, dead workers, a stopped Redis;
- `workers`: the faults with real processes: a Celery worker killed mid-paper and mid-digest, a
  PostgreSQL restarted mid-run while gunicorn serves pages;
- `hostile`: the hostile input: generated strings, hostile data through the pipeline to the
  pages, feeds and admin, hostile requests to every public URL and form;
- `own_redis`, `own_postgres`, `own_worker`, `own_site`: the campaign's own redis-server,
  PostgreSQL cluster, Celery worker and gunicorn;
- `report`: what the campaign counts and prints (the table and the one-line summary);
- `__main__`: `python -m tools.chaos`.
"""

import datetime as dt
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
