"""The public pages at scale (part of `make bench`).

For each size in BENCH_PAPERS (default `1000,100000`) a PostgreSQL database
`<BENCH_DATABASE name>_<size>` is created, migrated and filled by `seed_bench` (kept for the next
run while it holds that many papers). Then, per page:

- uncached: query count, p50 and p99 of varied requests through Django's test client with
  DEBUG off, the page cache bypassed (a session cookie, as for a signed-in reader);
- cached: throughput under gunicorn with `wrk`, a cache hit beside a bare Django view answering
  the same bytes, a feed's 304 beside its full answer, and, when nginx is installed, the
  shipped nginx config beside nginx serving the same bytes as a static file.

Set BENCH_DATABASE_URL (a PostgreSQL URL; its database name is the prefix) and BENCH_REDIS_URL
(a Redis database of its own). Without them this part is skipped with a message.
"""

import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
REQUESTS_PER_PAGE = int(os.environ.get("BENCH_REQUESTS", "30"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "5"))
ROUNDS = 5


def database_url(base: str, size: int) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{size}"))


def ensure_database(url: str, size: int) -> str:
    """Create, migrate and seed the database unless it already holds `size` papers."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(url) as conn:
        count = conn.execute("SELECT count(*) FROM papers_paper").fetchone()[0]
    if count == size:
        return f"kept ({size:,} papers)"
    start = time.perf_counter()
    subprocess.run(
        [PYTHON, "manage.py", "seed_bench", "--papers", str(size), "--reset"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return f"seeded in {time.perf_counter() - start:.0f} s"


def pages_main() -> None:
    base = os.environ.get("BENCH_DATABASE_URL", "")
    redis_url = os.environ.get("BENCH_REDIS_URL", "")
    if not base.startswith("postgres") or not redis_url:
        print(
            "\npages at scale: skipped (set BENCH_DATABASE_URL=postgres://.../prefix and "
            "BENCH_REDIS_URL=redis://.../N)"
        )
        return
    sizes = [int(n) for n in os.environ.get("BENCH_PAPERS", "1000,100000").split(",")]
    results: dict[int, dict] = {}
    for size in sizes:
        url = database_url(base, size)
        note = ensure_database(url, size)
        print(f"\n{size:,} papers: database {note}")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECURE_SSL": "false",
        }
        output = subprocess.run(
            [PYTHON, "-m", "tools.bench", "pages-child"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if output.returncode:
            print(output.stderr[-3000:])
            raise SystemExit(f"the page bench failed at {size:,} papers")
        results[size] = json.loads(output.stdout.strip().splitlines()[-1])
    print_uncached(sizes, results)
    served_main(database_url(base, sizes[-1]), redis_url)


def print_uncached(sizes: list[int], results: dict[int, dict]) -> None:
    pages = list(results[sizes[0]])
    width = max(len(page) for page in pages)
    head = "  ".join(f"{f'{size:,}: queries  p50  p99  cpu ms':>33}" for size in sizes)
    print(f"\nuncached pages (DEBUG off, page cache bypassed, {REQUESTS_PER_PAGE} requests each)")
    print("cpu: the site's Python time per request (p50); the rest of p50 is the database and")
    print(f"waiting for a core. Load average when measured: {os.getloadavg()[0]:.1f}")
    print(f"{'page':<{width}}  {head}")
    for page in pages:
        cells = []
        for size in sizes:
            row = results[size].get(page)
            cells.append(
                f"{row['queries']:>18} {row['p50']:>4.0f} {row['p99']:>4.0f} {row.get('cpu', 0):>4.0f}"
            )
        print(f"{page:<{width}}  {'  '.join(cells)}")


# In the child process: Django is set up on the size's database.


def child_main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest_site.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from papers.content import bump_content_version

    settings.ALLOWED_HOSTS = ["testserver"]
    # The sizes share one Redis: what was kept for the other database is stale here.
    bump_content_version()
    client = Client()
    # A session cookie bypasses the page cache, as for a signed-in reader.
    client.cookies[settings.SESSION_COOKIE_NAME] = "bench"
    results = {}
    for name, urls in page_urls().items():
        results[name] = measure(client, urls)
    print(json.dumps(results))


def page_urls() -> dict[str, list[str]]:
    """Varied addresses per page, drawn from the data (popular tags weigh more, as in use)."""
    from django.db.models import Count

    from papers.models import Digest, Paper, Status, Tag, Topic

    rng = random.Random(7)
    n = REQUESTS_PER_PAGE
    tags = list(
        Tag.objects.annotate(n=Count("tagged_papers")).order_by("-n").values_list("slug", flat=True)
    )
    popular = tags[:50]
    topics = list(Topic.objects.values_list("slug", flat=True))
    papers = list(
        Paper.objects.filter(status=Status.PUBLISHED)
        .order_by("?")
        .values_list("arxiv_id", flat=True)[:n]
    )
    digests = [
        digest.get_absolute_url()
        for digest in Digest.objects.filter(status=Status.PUBLISHED)
        .select_related("topic")
        .order_by("?")[:n]
    ]
    published = Paper.objects.filter(status=Status.PUBLISHED).count()
    last_page = max(1, (published + 19) // 20)
    words = ["talking head", "diffusion", "gaussian avatar", "model", "lip sync", "robot policy"]

    def pick(values: list[str]) -> str:
        return values[int(rng.paretovariate(1.2) - 1) % len(values)]

    def two_tags() -> str:
        """Two different popular tags in the canonical order (any other order is a redirect)."""
        first = pick(popular)
        second = first
        while second == first:
            second = pick(popular)
        return "tag={}&tag={}".format(*sorted([first, second]))

    return {
        "/": [f"/?page={1 + i % 3}" for i in range(n)],
        "/papers/": [f"/papers/?page={1 + i % 5}" for i in range(n)],
        "/papers/?page=<deep>": [f"/papers/?page={last_page - i}" for i in range(n)],
        "/papers/?tag=a&tag=b": [f"/papers/?{two_tags()}" for _ in range(n)],
        "/papers/?q=word": [f"/papers/?q={words[i % len(words)]}" for i in range(n)],
        "/papers/<id>/": [f"/papers/{arxiv_id}/" for arxiv_id in papers],
        "/tags/": [f"/tags/?page={1 + i % max(1, len(tags) // 300)}" for i in range(n)],
        "/tags/<slug>/": [f"/tags/{pick(tags)}/" for _ in range(n)],
        "/tags/<slug>/feed/": [f"/tags/{pick(tags)}/feed/" for _ in range(n)],
        "/topics/<slug>/": [f"/topics/{topics[i % len(topics)]}/" for i in range(n)],
        "/topics/<slug>/feed/": [f"/topics/{topics[i % len(topics)]}/feed/" for i in range(n)],
        "/topics/<slug>/<date>/": digests,
        "/feed/": ["/feed/"] * n,
    }


def measure(client, urls: list[str]) -> dict:
    from django.db import connection

    for url in urls[:2]:
        client.get(url)
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(urls[0])
    assert response.status_code == 200, (urls[0], response.status_code)
    times, cpu = [], []
    for url in urls:
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return {
        "queries": len(queries),
        "p50": statistics.median(times),
        "p99": times[min(len(times) - 1, round(len(times) * 0.99) - 1)],
        # The site's own CPU time (Python); the rest of p50 is the database and waiting.
        "cpu": statistics.median(cpu),
        "bytes": len(response.content),
    }


# Served: gunicorn, wrk and nginx.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


def wrk(url: str, headers: dict[str, str] | None = None) -> float:
    command = ["wrk", "-t2", "-c32", f"-d{WRK_SECONDS}s", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        if line.startswith("Requests/sec:"):
            return max(float(line.split()[1]), 0.01)
    raise RuntimeError(output)


def medians(pairs: list[tuple[float, float]]) -> tuple[float, float, float]:
    """The median of each measure, and of their ratio (second / first) taken round by round."""
    return (
        statistics.median(first for first, _ in pairs),
        statistics.median(second for _, second in pairs),
        statistics.median(second / first for first, second in pairs),
    )


def fetch(url: str, headers: dict[str, str] | None = None):
    import urllib.request

    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request) as response:
        return response.read(), response.headers


def served_main(db_url: str, redis_url: str) -> None:
    if not shutil.which("wrk"):
        print("\ncached pages: skipped (install wrk: apt-get install wrk)")
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        # nginx's workers run as another user when started by root: let them in.
        folder.chmod(0o755)
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECURE_SSL": "false",
            "DJANGO_SETTINGS_MODULE": "tools.bench_settings",
            "BENCH_BARE_FOLDER": str(folder),
        }
        gunicorn = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "-c",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "3",
                "--access-logfile",
                "-" if os.environ.get("BENCH_VERBOSE") else "/dev/null",
                "digest_site.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port)
            served_table(folder, port)
        finally:
            gunicorn.send_signal(signal.SIGTERM)
            gunicorn.wait(timeout=30)


def served_table(folder: Path, port: int) -> None:
    from tools.bench_settings import topic_for_bench

    site = f"http://127.0.0.1:{port}"
    digest_url, topic_feed_url = topic_for_bench(site)
    rows = []
    for label, path in [("digest page", digest_url), ("/feed/", "/feed/")]:
        body, headers = fetch(site + path)
        body, headers = fetch(site + path)
        (folder / "bare.bin").write_bytes(body)
        (folder / "bare.type").write_text(headers["Content-Type"])
        # Rounds of one each, side by side: on a shared machine one measure alone varies by half.
        pairs = [(wrk(site + "/bench/bare/"), wrk(site + path)) for _ in range(ROUNDS)]
        rows.append((f"{label}, {len(body) // 1024} KB", *medians(pairs)))
    print(
        f"\ncached pages under gunicorn (3 sync workers), wrk -t2 -c32 -d{WRK_SECONDS}s, "
        f"median of {ROUNDS} rounds"
    )
    print(f"{'page':<24}  {'bare Django view':>16}  {'cache hit':>9}  {'hit / bare':>10}")
    for label, bare, hit, ratio in rows:
        print(f"{label:<24}  {bare:>12.0f} r/s  {hit:>9.0f}  {ratio:>10.2f}")

    body, headers = fetch(site + topic_feed_url)
    body, headers = fetch(site + topic_feed_url)
    etag = headers.get("ETag", "")
    conditional = {"If-None-Match": etag}
    pairs = [
        (wrk(site + topic_feed_url), wrk(site + topic_feed_url, conditional)) for _ in range(ROUNDS)
    ]
    full, not_modified, _ratio = medians(pairs)
    # Last: slow answers leave a queue behind that would slow the next measurement.
    rendered = wrk(site + topic_feed_url, {"Cookie": "sessionid=bench"})
    # The cost of an answer is the inverse of throughput.
    print(
        f"topic feed, {len(body) // 1024} KB: rendered {rendered:.0f} r/s, cache hit {full:.0f}, "
        f"304 {not_modified:.0f}; a 304 costs {rendered / not_modified:.3f} of a rendered "
        f"answer and {full / not_modified:.2f} of a cache hit"
    )
    nginx_table(folder, site, port, digest_url)


def nginx_table(folder: Path, site: str, port: int, digest_url: str) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not nginx:
        print("nginx: skipped (not installed; apt-get install nginx)")
        return
    from tools.bench_settings import nginx_config

    listen = free_port()
    body, _headers = fetch(site + digest_url)
    static_root = folder / "static"
    static_root.mkdir()
    (static_root / "page.html").write_bytes(body)
    config = folder / "nginx.conf"
    config.write_text(nginx_config(folder, listen, port, static_root))
    process = subprocess.Popen(
        [nginx, "-p", str(folder), "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(listen)
        front = f"http://127.0.0.1:{listen}"
        fetch(front + digest_url)
        pairs = [
            (wrk(front + "/bench-static/page.html"), wrk(front + digest_url)) for _ in range(ROUNDS)
        ]
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=30)
    static, proxied, ratio = medians(pairs)
    print(
        f"behind nginx (shipped config), digest page {len(body) // 1024} KB, median of "
        f"{ROUNDS} rounds: static file {static:.0f} r/s, site {proxied:.0f} r/s, "
        f"site / static {ratio:.2f}"
    )
