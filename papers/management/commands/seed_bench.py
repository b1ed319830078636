"""Fill PostgreSQL with N realistic papers for `make bench`, fast (COPY, not the ORM).

Tags follow a Zipf law (a few on half the papers, most on a handful), papers carry abstracts,
summaries in one or two languages, figure rows (no files) and full text, and ten topics have a
daily digest for every day the papers cover. Rows are written with explicit ids through
psycopg's COPY, then the search vectors are computed in SQL and the tables analysed.
"""

import datetime as dt
import itertools
import json
import random
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction

from papers import vocabulary
from papers.content import bump_content_version
from papers.models import Paper, Status, Tag, Topic

TOPICS = [
    "Talking Head Generation",
    "Diffusion Models",
    "Neural Radiance Fields",
    "Large Language Models",
    "Speech Synthesis",
    "Robot Learning",
    "Graph Neural Networks",
    "Medical Image Segmentation",
    "Reinforcement Learning",
    "Federated Learning",
]
CATEGORIES = [
    "cs.CV", "cs.LG", "cs.CL", "cs.AI", "cs.GR", "cs.RO", "cs.SD", "eess.AS", "eess.IV",
    "stat.ML", "cs.NE", "cs.IR", "cs.MM", "cs.HC", "cs.CR", "math.OC", "q-bio.QM", "physics.comp-ph",
]  # fmt: skip
WORDS = (
    "model learning network neural data training method performance image video generation "
    "diffusion attention transformer dataset results approach framework task tasks propose "
    "proposed novel state art benchmark evaluation synthesis face head talking audio speech "
    "motion render rendering radiance field fields gaussian splatting avatar lip sync "
    "expression identity latent space encoder decoder representation representations feature "
    "features loss function optimization gradient stochastic policy reward agent robot control "
    "graph node edge message passing convolution segmentation medical clinical patient scan "
    "language large instruction tuning alignment reasoning chain thought retrieval augmented "
    "federated privacy client server communication efficient scalable robust adversarial "
    "uncertainty calibration inference sampling denoising score matching flow consistency "
    "temporal spatial multi modal vision text token tokens prompt prompts zero shot few "
    "supervised unsupervised self contrastive pretraining fine downstream accuracy quality "
    "realistic photorealistic high resolution fidelity real time fast lightweight memory "
    "compute cost experiments demonstrate outperforms existing methods significantly "
    "improves achieves code available project page study analysis theoretical empirical"
).split()
SURNAMES = (
    "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Smith Johnson Garcia Müller Rossi Dubois "
    "Kim Park Tanaka Suzuki Nguyen Kumar Singh Ivanov Novak Silva Costa Cohen Levi Hansen"
).split()
GIVEN = (
    "Wei Jing Hao Yu Lei Min Anna Maria John David Sara Paul Yuki Jae Ivan Lucas Emma Omar"
).split()
INSTITUTIONS = [
    "Tsinghua University",
    "Peking University",
    "Stanford University",
    "MIT",
    "ETH Zürich",
    "University of Tokyo",
    "Max Planck Institute for Informatics",
    "Google DeepMind",
    "Microsoft Research",
    "KAIST",
]
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
ARXIV_ONLY = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


def zipf_weights(count: int, exponent: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1 / (rank**exponent) for rank in range(1, count + 1)))


class Text:
    """Word soup with a Zipf law over a fixed vocabulary: searchable like real abstracts.

    Sentences come from a pool made once, so a hundred thousand papers take seconds, not minutes.
    """

    POOL = 20_000

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.weights = zipf_weights(len(WORDS), 0.9)
        self.pool = [self.words(rng.randint(8, 22)).capitalize() + "." for _ in range(self.POOL)]

    def words(self, count: int) -> str:
        return " ".join(self.rng.choices(WORDS, cum_weights=self.weights, k=count))

    def sentence(self, count: int = 0) -> str:
        return self.pool[int(self.rng.random() * self.POOL)]

    def sentences(self, count: int, length: int = 0) -> str:
        return " ".join(self.rng.choices(self.pool, k=count))


class BodyText(Text):
    """A PDF's body: the abstracts' words mixed with a long tail of rarer ones (symbols, names,
    terms of the field), so that a body's search vector is as varied as a real paper's."""

    RARE_WORDS = 20_000

    def __init__(self, rng: random.Random) -> None:
        syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
        self.rare = [
            "".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(self.RARE_WORDS)
        ]
        self.rare_weights = zipf_weights(len(self.rare), 1.0)
        super().__init__(rng)

    def words(self, count: int) -> str:
        common = self.rng.choices(WORDS, cum_weights=self.weights, k=count)
        rare = self.rng.choices(self.rare, cum_weights=self.rare_weights, k=count)
        return " ".join(
            r if self.rng.random() < 0.4 else c for c, r in zip(common, rare, strict=True)
        )


def column_defaults(table: str, columns: list[str]) -> tuple[list[str], list]:
    """The NOT NULL columns of `table` that `columns` leaves out, with their model defaults:
    COPY fills no Django default, and the models gain fields the generator need not know."""
    model = next(m for m in apps.get_app_config("papers").get_models() if m._meta.db_table == table)
    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in columns or field.null or field.primary_key:
            continue
        value = field.get_default()  # "" for text fields without a default of their own
        if value is None:
            continue
        names.append(field.column)
        values.append(json.dumps(value) if isinstance(field, models.JSONField) else value)
    return names, values


class Command(BaseCommand):
    help = "Fill PostgreSQL with N realistic papers, tags, summaries, figures and digests (bench)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--papers", type=int, default=1000)
        parser.add_argument("--tags", type=int, default=0, help="default: papers / 20, >= 50")
        parser.add_argument("--tags-per-paper", type=int, default=10)
        parser.add_argument("--days", type=int, default=730, help="how many days the papers cover")
        parser.add_argument("--full-text-chars", type=int, default=8000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--reset", action="store_true", help="empty the papers' tables first (bench databases)"
        )

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("seed_bench needs PostgreSQL: set DATABASE_URL")
        if options["papers"] < 1:
            raise CommandError("--papers must be at least 1")
        if Paper.objects.exists() or Tag.objects.exists() or Topic.objects.exists():
            if not options["reset"]:
                raise CommandError("the database has papers; use --reset to empty it first")
            self.reset()
        started = time.perf_counter()
        with transaction.atomic():
            counts = Seeder(options, self.stdout).run()
        self.step("search vectors", self.search_vectors)
        self.step("analyse", self.analyse)
        bump_content_version()
        total = time.perf_counter() - started
        summary = ", ".join(f"{count:,} {name}" for name, count in counts.items())
        self.stdout.write(f"seeded {summary} in {total:.1f} s")

    def step(self, name: str, work) -> None:
        start = time.perf_counter()
        work()
        self.stdout.write(f"  {name}: {time.perf_counter() - start:.1f} s")

    def reset(self) -> None:
        tables = [
            "papers_digestentry",
            "papers_digest",
            "papers_figure",
            "papers_summary",
            "papers_taggedpaper",
            "papers_topicpaper",
            "papers_paper",
            "papers_tag",
        ]
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        for topic in Topic.objects.all():
            topic.delete()

    def search_vectors(self) -> None:
        """What papers.search.write_index() writes, for every paper in one statement (without
        jieba's segmentation: the seeded text is English).

        The GIN indexes are dropped meanwhile and built again after: much faster than updating
        them row by row.
        """
        from papers.search import BODY_CHARS, BODY_FIELD, HEAD_FIELDS, vector_sql

        head = vector_sql(
            HEAD_FIELDS,
            {
                "title": "p.title",
                "authors": "p.authors_text",
                "abstract": "p.abstract",
                "summaries": (
                    "(SELECT string_agg(concat_ws(' ', tldr, title_translation, background,"
                    " method, results, (SELECT string_agg(k, ' ')"
                    " FROM jsonb_array_elements_text(keywords) k)), ' ')"
                    " FROM papers_summary s WHERE s.paper_id = p.id)"
                ),
            },
        )
        body = vector_sql([BODY_FIELD], {"body": f"left(p.full_text, {BODY_CHARS})"})
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'papers_paper' "
                "AND indexdef ILIKE '%%USING gin%%'"
            )
            indexes = cursor.fetchall()
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            # One pass: each row (and its large body) is rewritten once.
            cursor.execute(
                "UPDATE papers_paper p SET (head_vector, search_vector) ="
                f" (SELECT v.head, v.head || v.body FROM (SELECT {head} AS head, {body} AS body) v)"
            )
            for _name, definition in indexes:
                cursor.execute(definition)

    def analyse(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")


class Seeder:
    def __init__(self, options: dict, stdout) -> None:
        self.options = options
        self.stdout = stdout
        self.rng = random.Random(options["seed"])
        self.text = Text(self.rng)
        self.body = BodyText(self.rng)
        self.papers = options["papers"]
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.counts: dict[str, int] = {}

    def run(self) -> dict[str, int]:
        topics = [
            Topic.objects.create(
                name=name, query=f'abs:"{name.lower()}"', auto_publish=True, language=language
            )
            for name, language in zip(TOPICS, ["en"] * 8 + ["zh"] * 2, strict=True)
        ]
        self.counts["topics"] = len(topics)
        tags = self.tags(topics)
        papers = self.paper_rows(topics)
        self.copy_papers(papers)
        self.copy_tags(papers, tags)
        self.copy_summaries(papers, topics)
        self.copy_figures(papers)
        self.copy_digests(papers, topics)
        with connection.cursor() as cursor:
            for table in ("paper", "tag", "taggedpaper", "summary", "figure", "digest"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('papers_{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM papers_{table}))"
                )
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('papers_digestentry', 'id'), "
                "(SELECT coalesce(max(id), 1) FROM papers_digestentry))"
            )
        return self.counts

    def copy(self, table: str, columns: list[str], rows) -> int:
        count = 0
        start = time.perf_counter()
        extra_columns, extra_values = column_defaults(table, columns)
        with connection.cursor() as cursor:
            raw = cursor.cursor
            names = ", ".join(f'"{column}"' for column in columns + extra_columns)
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *extra_values))
                    count += 1
        self.stdout.write(f"  {table}: {count:,} rows in {time.perf_counter() - start:.1f} s")
        return count

    def tags(self, topics: list[Topic]) -> list[tuple[int, str, str, str]]:
        """(id, name, slug, kind): topic names first, then categories, then keywords."""
        wanted = self.options["tags"] or max(50, self.papers // 20)
        names = [(topic.name, Tag.Kind.TOPIC) for topic in topics]
        names += [(category, Tag.Kind.CATEGORY) for category in CATEGORIES]
        seen = {name for name, _kind in names}
        while len(names) < wanted:
            name = " ".join(self.rng.sample(WORDS, self.rng.choice([1, 2, 2, 3])))
            if name not in seen:
                seen.add(name)
                names.append((name, Tag.Kind.KEYWORD))
        rows = []
        slugs: set[str] = set()
        for number, (name, kind) in enumerate(names[:wanted], start=1):
            slug = Tag().slugify(name)
            while slug in slugs:
                slug += "-x"
            slugs.add(slug)
            rows.append((number, name, slug, kind))
        self.counts["tags"] = self.copy(
            "papers_tag",
            ["id", "name", "slug", "kind", "key", "blocked"],
            [(*row, vocabulary.fold(row[1]), False) for row in rows],
        )
        return rows

    def paper_rows(self, topics: list[Topic]) -> list[dict]:
        """Papers newest first: paper 1 is the newest; dates spread over the covered days."""
        days = self.options["days"]
        papers = []
        per_month: dict[str, int] = {}
        for number in range(1, self.papers + 1):
            age = dt.timedelta(seconds=int((number - 1) / self.papers * days * 86400))
            published = self.now - age - dt.timedelta(hours=2)
            status = Status.PUBLISHED if self.rng.random() < 0.97 else Status.REVIEW
            month = f"{published:%y%m}"
            per_month[month] = per_month.get(month, 0) + 1
            papers.append(
                {
                    "id": number,
                    "arxiv_id": f"{month}.{per_month[month]:05d}",
                    "published": published,
                    "status": status,
                    "topic": self.rng.choice(topics),
                    "license": CC_BY if self.rng.random() < 0.4 else ARXIV_ONLY,
                }
            )
        return papers

    def copy_papers(self, papers: list[dict]) -> None:
        columns = [
            "id", "arxiv_id", "version", "versions_seen", "title", "title_raw", "authors",
            "authors_text", "abstract", "comment", "journal_ref", "doi", "primary_category",
            "categories", "published", "updated", "abs_url", "pdf_url", "license",
            "content_permission", "pdf_file", "page_count", "full_text", "first_page_text",
            "affiliations", "status", "published_at", "state", "last_error", "attempts",
            "created_at", "updated_at",
        ]  # fmt: skip
        text, body, rng = self.text, self.body, self.rng
        full_chars = self.options["full_text_chars"]

        def rows():
            for paper in papers:
                authors = [
                    {
                        "name": f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}",
                        "affiliation": rng.choice(INSTITUTIONS),
                    }
                    for _ in range(rng.randint(1, 8))
                ]
                categories = rng.sample(CATEGORIES[:10], rng.randint(1, 3))
                abstract = text.sentences(rng.randint(6, 10))
                full_text = (abstract + " " + body.sentences(full_chars // 100 + 1))[:full_chars]
                title = text.words(rng.randint(6, 12)).title()
                arxiv_id = paper["arxiv_id"]
                published = paper["published"]
                yield (
                    paper["id"], arxiv_id, 1, "[1]", title, title, json.dumps(authors),
                    ", ".join(a["name"] for a in authors), abstract,
                    "12 pages, 6 figures" if rng.random() < 0.5 else "", "", "", categories[0],
                    json.dumps(categories), published, published,
                    f"https://arxiv.org/abs/{arxiv_id}", f"https://arxiv.org/pdf/{arxiv_id}",
                    paper["license"], False, "", rng.randint(6, 30), full_text,
                    full_text[:1500], "[]", paper["status"],
                    published if paper["status"] == Status.PUBLISHED else None,
                    "done", "", 1, published, published,
                )  # fmt: skip

        self.counts["papers"] = self.copy("papers_paper", columns, rows())
        self.counts["topic links"] = self.copy(
            "papers_topicpaper",
            ["matched_terms", "first_seen", "paper_id", "topic_id"],
            (("[]", p["published"], p["id"], p["topic"].pk) for p in papers),
        )

    def copy_tags(self, papers: list[dict], tags: list[tuple]) -> None:
        topic_tag = {name: number for number, name, _slug, kind in tags if kind == Tag.Kind.TOPIC}
        keyword_ids = [number for number, _n, _s, kind in tags if kind != Tag.Kind.TOPIC]
        weights = zipf_weights(len(keyword_ids), 1.0)
        per_paper = self.options["tags_per_paper"]

        def rows():
            number = itertools.count(1)
            for paper in papers:
                chosen = {topic_tag[paper["topic"].name]}
                chosen.update(self.rng.choices(keyword_ids, cum_weights=weights, k=per_paper - 1))
                for tag_id in chosen:
                    yield (next(number), paper["id"], tag_id)

        self.counts["tag links"] = self.copy(
            "papers_taggedpaper", ["id", "content_object_id", "tag_id"], rows()
        )

    def copy_summaries(self, papers: list[dict], topics: list[Topic]) -> None:
        columns = [
            "id", "paper_id", "language", "tldr", "key_takeaways", "title_translation",
            "affiliations", "keywords", "links", "background", "prior_work", "method", "results",
            "method_steps", "significance", "assessment", "backend", "model", "prompt_version",
            "generated_at", "input_digest", "source", "warnings", "stale", "locked",
            "created_at", "updated_at",
        ]  # fmt: skip
        text, rng = self.text, self.rng

        def summary(number: int, paper: dict, language: str) -> tuple:
            steps = [text.sentence(10) for _ in range(rng.randint(3, 5))]
            return (
                number, paper["id"], language, text.sentence(18),
                json.dumps([text.sentence(12) for _ in range(rng.randint(3, 5))]),
                text.words(8), json.dumps([rng.choice(INSTITUTIONS)]),
                json.dumps([text.words(2) for _ in range(4)]), "[]", text.sentences(3),
                text.sentences(3), text.sentences(4), text.sentences(3), json.dumps(steps),
                text.sentences(2), text.sentences(2), "extractive", "", "1",
                paper["published"], "", "", "[]", False, False,
                paper["published"], paper["published"],
            )  # fmt: skip

        def rows():
            number = itertools.count(1)
            for paper in papers:
                if rng.random() < 0.9:
                    yield summary(next(number), paper, "en")
                if rng.random() < 0.37:
                    yield summary(next(number), paper, "zh")

        self.counts["summaries"] = self.copy("papers_summary", columns, rows())

    def copy_figures(self, papers: list[dict]) -> None:
        columns = [
            "id", "paper_id", "image", "thumbnail", "source_url", "page", "order", "caption",
            "width", "height", "hidden", "created_at",
        ]  # fmt: skip
        rng, text = self.rng, self.text

        def rows():
            number = itertools.count(1)
            for paper in papers:
                folder = paper["arxiv_id"].replace("/", "_")
                for order in range(rng.choice([0, 1, 2, 3, 4, 5, 6])):
                    yield (
                        next(number), paper["id"], f"figures/{folder}/figure-{order}.png",
                        f"figures/{folder}/thumb-{order}.jpg", "", order + 1, order,
                        f"Figure {order + 1}: {text.sentence(12)}", 1200, 800,
                        rng.random() < 0.03, paper["published"],
                    )  # fmt: skip

        self.counts["figures"] = self.copy("papers_figure", columns, rows())

    def copy_digests(self, papers: list[dict], topics: list[Topic]) -> None:
        """One digest per topic and day, holding that day's papers of the topic."""
        by_digest: dict[tuple[int, dt.date], list[int]] = {}
        for paper in papers:
            key = (paper["topic"].pk, paper["published"].date())
            by_digest.setdefault(key, []).append(paper["id"])
        digests = []
        for number, ((topic_id, date), paper_ids) in enumerate(sorted(by_digest.items()), 1):
            created = dt.datetime.combine(date, dt.time(23), tzinfo=dt.UTC)
            status = Status.PUBLISHED if self.rng.random() < 0.98 else Status.REVIEW
            digests.append((number, topic_id, date, status, created, paper_ids))
        self.counts["digests"] = self.copy(
            "papers_digest",
            [
                "id",
                "topic_id",
                "date",
                "title",
                "intro",
                "status",
                "published_at",
                "created_at",
                "updated_at",
            ],  # fmt: skip
            (
                (
                    number,
                    topic_id,
                    date,
                    "",
                    self.text.sentence(20) if number % 3 == 0 else "",
                    status,
                    created if status == Status.PUBLISHED else None,
                    created,
                    created,
                )  # fmt: skip
                for number, topic_id, date, status, created, _ids in digests
            ),
        )

        def entries():
            number = itertools.count(1)
            for digest_id, _topic, _date, _status, _created, paper_ids in digests:
                for position, paper_id in enumerate(paper_ids):
                    yield (next(number), digest_id, paper_id, position)

        self.counts["digest entries"] = self.copy(
            "papers_digestentry", ["id", "digest_id", "paper_id", "position"], entries()
        )
