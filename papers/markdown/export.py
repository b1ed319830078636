"""Writing a digest as a Markdown post in the legacy blog's layout (it reads back through the
importer)."""

import datetime as dt
import html

from django.conf import settings

from papers.markdown.parse import one_line
from papers.models import Digest, Figure, Language, Paper

LABELS = {
    Language.ENGLISH: {
        "title": "Title",
        "authors": "Authors",
        "affiliations": "Affiliation",
        "keywords": "Keywords",
        "links": "Urls",
        "summary": "Summary",
        "methods": "Methods",
        "conclusion": "Conclusion",
        "figures": "Figures from the paper",
        "colon": ": ",
        "separator": "; ",
    },
    Language.CHINESE: {
        "title": "标题",
        "authors": "作者",
        "affiliations": "所属机构",
        "keywords": "关键词",
        "links": "链接",
        "summary": "摘要",
        "methods": "方法",
        "conclusion": "结论",
        "figures": "论文图片",
        "colon": "：",
        "separator": "；",
    },
}


def absolute_url(url: str) -> str:
    return settings.SITE_URL + url if url.startswith("/") else url


def _indented(text: str, indent: str = "      ") -> str:
    """First line as is, the following lines indented (so they stay inside their item)."""
    lines = (text or "").strip().split("\n")
    return "\n".join([lines[0]] + [(indent + ln) if ln.strip() else "" for ln in lines[1:]])


def export_digest(digest: Digest) -> str:
    """The digest as a Markdown post in the legacy layout (round-trips through import_post)."""
    topic = digest.topic
    entries = digest.entries.select_related("paper").order_by("position", "id")
    papers = [entry.paper for entry in entries]
    language = topic.language if topic.language in LABELS else Language.ENGLISH
    cover = ""
    if digest.cover_id:
        cover = absolute_url(digest.cover.url)
    else:
        first = Figure.objects.filter(paper__in=papers, hidden=False).order_by("order").first()
        cover = absolute_url(first.url) if first else ""
    moment = digest.published_at if digest.published_at else None
    clock = moment.astimezone(dt.UTC).strftime("%H:%M:%S") if moment else "00:00:00"
    out = [
        "---",
        f"title: {one_line(digest.title or topic.name)}",
        f"date: {digest.date.isoformat()} {clock}",
        f"author: {one_line(settings.SITE_NAME)}",
        f"cover: {cover}",
        "categories: Paper",
        "tags:",
        f"    - {one_line(topic.name)}",
        f"description: {one_line(digest.intro)}",
        f"keywords: {one_line(topic.name)}",
        "---",
        "",
        f"# {digest.date.isoformat()}",
        "",
    ]
    for paper in papers:
        out += _export_paper(paper, language)
    return "\n".join(out).rstrip("\n") + "\n"


def _export_paper(paper: Paper, language: str) -> list[str]:
    labels = LABELS[language]
    out = [
        "",
        f"## {one_line(paper.title)}",
        "",
        f"**Authors:{', '.join(one_line(n) for n in paper.author_names)}**",
        "",
        (paper.abstract or "").strip(),
        "",
        f"[PDF](http://arxiv.org/abs/{paper.arxiv_id}v{paper.version}) {one_line(paper.comment)}".rstrip(),
        "",
    ]
    summary = paper.summaries.filter(language=language).first() or paper.summaries.first()
    if summary is not None:
        labels = LABELS.get(summary.language, labels)
        colon = labels["colon"]
        out += ["**Summary**", one_line(summary.tldr), "", "**Key Takeaways**"]
        out += [f"{n}. {one_line(t)}" for n, t in enumerate(summary.key_takeaways or [], 1)]
        out += ["", f"**[{settings.SITE_NAME}]({settings.SITE_URL})**", ""]
        links = ", ".join(
            f"[{one_line(link.get('label', ''))}]({link.get('url', '')})"
            for link in summary.links or []
            if link.get("url")
        )
        out += [
            f"1. {labels['title']}{colon}{one_line(summary.title_translation)}",
            "",
            f"2. {labels['authors']}{colon}{', '.join(paper.author_names)}",
            "",
            f"3. {labels['affiliations']}{colon}",
        ]
        out += [f"    - {one_line(a)}" for a in summary.affiliations or []]
        out += [
            "",
            f"4. {labels['keywords']}{colon}{labels['separator'].join(summary.keywords or [])}",
            "",
            f"5. {labels['links']}{colon}{links or 'None'}",
            "",
            f"6. {labels['summary']}{colon}",
            "",
        ]
        for number, name in enumerate(("background", "prior_work", "method", "results"), 1):
            value = getattr(summary, name)
            if value:
                out.append(f"    - ({number}) {_indented(value)}")
        out += ["", f"7. {labels['methods']}{colon}", ""]
        for number, step in enumerate(summary.method_steps or [], 1):
            out.append(f"    - ({number}) {_indented(step)}")
        out += ["", f"8. {labels['conclusion']}{colon}", ""]
        if summary.significance:
            out += [f"(1) {_indented(summary.significance, '    ')}", ""]
        if summary.assessment:
            out += [f"(2) {_indented(summary.assessment, '    ')}", ""]
    figures = [f for f in paper.figures.all() if not f.hidden]
    if figures:
        out += ["", "<details>", f"  <summary>{labels['figures']}</summary>"]
        for figure in figures:
            alt = f' alt="{html.escape(one_line(figure.caption))}"' if figure.caption else ""
            out.append(f'<img src="{html.escape(absolute_url(figure.url))}"{alt} align="middle">')
        out.append("</details>")
    out += ["", ""]
    return out


def digest_filename(digest: Digest) -> str:
    return f"{digest.topic.slug}-{digest.date.isoformat()}.md"
