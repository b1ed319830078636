"""The site's settings with the bench's URLs (tools/bench_urls.py), and helpers of the served
part of the page bench (no Django needed)."""

from pathlib import Path

from digest_site.settings import *  # noqa: F403

ROOT_URLCONF = "tools.bench_urls"
ROOT = Path(__file__).resolve().parent.parent


def topic_for_bench(site: str) -> tuple[str, str]:
    """A digest page with many papers and its topic's feed, found through the site's own links."""
    import re
    import urllib.request

    with urllib.request.urlopen(site + "/") as response:
        home = response.read().decode()
    digest_url = re.search(r'href="(/topics/[^/"]+/\d{4}-\d{2}-\d{2}/)"', home).group(1)
    topic_url = digest_url.rsplit("/", 2)[0] + "/"
    return digest_url, topic_url + "feed/"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_config(folder: Path, listen: int, upstream: int, static_root: Path) -> str:
    """The shipped site config, pointed at this run's ports and folders, in a throw-away nginx."""
    site = (ROOT / "deploy" / "nginx-site.conf").read_text()
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{listen};")
    site = site.replace("listen [::]:443 ssl http2;", "")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    site = site.replace("listen [::]:80;", "")
    site = site.replace("127.0.0.1:8000", f"127.0.0.1:{upstream}")
    site = site.replace("/srv/digest/staticfiles/", f"{ROOT / 'staticfiles'}/")
    site = site.replace("/var/cache/nginx/digest", str(folder / "cache"))
    site = "\n".join(
        line
        for line in site.splitlines()
        if not line.strip().startswith(("ssl_", "include snippets", "return 301"))
    )
    bench_static = f"    location /bench-static/ {{ alias {static_root}/; }}\n"
    site = site.replace("    # bench-static\n", bench_static)
    return f"""
worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{site}
}}
"""
