"""Content quality measures for `make bench`: summary fields against hand-labelled sentence roles.

The labelled set (tests/fixtures/roles/) gives each sentence of the seed posts' abstracts the role a
reader gives it. A summary field is precise when the sentences it holds have that field's role.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLES_CSV = ROOT / "tests" / "fixtures" / "roles" / "abstract_roles.csv"
SEED = ROOT.parent / "shared" / "seed"

# The roles a sentence may have to belong in each field.
FIELD_ROLES = {
    "tldr": {"contribution"},
    "background": {"problem"},
    "prior_work": {"prior_work"},
    "method": {"contribution", "method"},
    "method_steps": {"method", "contribution"},
    "results": {"result"},
    "significance": {"significance"},
    "assessment": {"contribution", "method", "result"},
}
ASSESSMENT_ROLES = {
    "Innovation": {"contribution", "method"},
    "Performance": {"result"},
    "Workload": {"method", "result"},
}


# The same measure on the summarizer before sentences had roles (commit 3cfa068):
# field -> (precision, abstracts with the field filled); and abstracts with a sentence repeated.
ROLE_BASELINE = {
    "tldr": (55 / 73, 73),
    "background": (61 / 127, 73),
    "prior_work": (31 / 62, 54),
    "method": (102 / 110, 73),
    "method_steps": (223 / 284, 73),
    "results": (79 / 126, 73),
    "significance": (9 / 73, 73),
    "assessment": (161 / 219, 73),
}
REPEATED_BASELINE = 73


@dataclass
class LabelledAbstract:
    arxiv_id: str
    sentences: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def labelled_abstracts(path: Path = ROLES_CSV) -> list[LabelledAbstract]:
    found: dict[str, LabelledAbstract] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            item = found.setdefault(row["arxiv_id"], LabelledAbstract(row["arxiv_id"]))
            item.sentences.append(row["sentence"])
            item.roles.append(row["role"])
    return list(found.values())


@dataclass
class FieldScore:
    placed: int = 0  # sentences the summarizer put in the field
    right: int = 0  # of those, sentences with the field's role
    filled: int = 0  # papers whose field is not empty

    @property
    def precision(self) -> float:
        return self.right / self.placed if self.placed else 0.0


def field_sentences(name: str, value) -> list[tuple[str, set[str]]]:
    """(sentence, roles that fit) for each sentence a field holds."""
    from papers.summarizers.text import split_sentences

    if name == "assessment":
        pairs = []
        for line in value.split("\n"):
            label, _, text = line.partition(": ")
            roles = ASSESSMENT_ROLES.get(label, FIELD_ROLES["assessment"])
            pairs += [(s, roles) for s in split_sentences(text)]
        return pairs
    items = value if isinstance(value, list) else [value]
    return [(s, FIELD_ROLES[name]) for item in items for s in split_sentences(item)]


def role_precision(summarize) -> tuple[dict[str, FieldScore], int]:
    """Per field, how many placed sentences have the right role; and the number of abstracts.

    `summarize(abstract) -> fields` is the summarizer under test, run on each abstract alone.
    """
    scores = {name: FieldScore() for name in FIELD_ROLES}
    abstracts = labelled_abstracts()
    for item in abstracts:
        fields = summarize(item.text)
        role_of = dict(zip(item.sentences, item.roles, strict=True))
        for name in FIELD_ROLES:
            placed = field_sentences(name, fields[name])
            if placed:
                scores[name].filled += 1
            for sentence, roles in placed:
                scores[name].placed += 1
                scores[name].right += role_of.get(sentence) in roles
    return scores, len(abstracts)


PROSE_FIELDS = ("background", "prior_work", "method", "results", "significance", "assessment")


def repeated_sentences(summarize) -> int:
    """Abstracts whose summary puts one sentence in two prose fields."""
    repeated = 0
    for item in labelled_abstracts():
        fields = summarize(item.text)
        placed = [s for name in PROSE_FIELDS for s, _ in field_sentences(name, fields[name])]
        repeated += len(placed) != len(set(placed))
    return repeated


def extractive_fields(abstract: str) -> dict:
    from papers.summarizers import SummaryInput, summarize

    inp = SummaryInput(arxiv_id="x", title="", abstract=abstract)
    return summarize(inp, "extractive").fields


def role_rows() -> list[tuple[str, str, str]]:
    """Table rows (measure, now, before): per field, precision and papers with the field filled."""
    scores, total = role_precision(extractive_fields)
    rows = []
    for name, score in scores.items():
        before, filled = ROLE_BASELINE[name]
        rows.append(
            (
                f"role precision: {name}",
                f"{score.precision:.0%}, filled {score.filled}/{total}",
                f"{before:.0%}, filled {filled}/{total}",
            )
        )
    rows.append(
        (
            "abstracts with a sentence in two prose fields",
            f"{repeated_sentences(extractive_fields)}/{total}",
            f"{REPEATED_BASELINE}/{total}",
        )
    )
    return rows


def main() -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digest_site.settings")
    import django

    django.setup()
    for name, now, before in role_rows():
        print(f"{name:<48} {now:<20} {before}")


if __name__ == "__main__":
    main()


# ---------------------------------------------------------------- tags


def seed_posts() -> list[Path]:
    return [SEED / "talking-head-generation-2024-10-12.md", *sorted((SEED / "more").glob("*.md"))]


def seed_paper_tags() -> list[str]:
    """Import every seed post into the current database; the names of the tags on its papers."""
    from papers.markdown.importer import import_files
    from papers.models import DigestEntry, Tag

    reports = import_files(seed_posts())
    errors = [error for report in reports for error in report.errors]
    if errors:
        raise RuntimeError(f"the seed posts did not import: {errors[0]}")
    digests = [report.digest_id for report in reports]
    papers = DigestEntry.objects.filter(digest__in=digests).values("paper")
    return list(
        Tag.objects.filter(tagged_papers__content_object__in=papers)
        .distinct()
        .values_list("name", flat=True)
    )


TAG_VERDICTS = ROOT / "tests" / "fixtures" / "tags" / "editor_verdicts.csv"
# The same measure on the tags the code made before the vocabulary (commit 3cfa068).
TAG_BASELINE = (249, 321)


@dataclass
class TagScore:
    kept: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # with the reason
    unlabelled: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        total = len(self.kept) + len(self.rejected)
        return len(self.kept) / total if total else 0.0


def editor_verdicts(path: Path = TAG_VERDICTS) -> dict[str, bool]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["tag"].casefold(): row["keep"] == "yes" for row in csv.DictReader(handle)}


def tag_quality(names: list[str]) -> TagScore:
    """Which tags an editor keeps: by the hand-made verdicts, and never two spellings of one tag."""
    from papers.vocabulary import fold

    verdicts = editor_verdicts()
    score = TagScore()
    first_of_key: dict[str, str] = {}
    for name in sorted(names, key=str.casefold):
        key = fold(name)
        if key in first_of_key:
            score.rejected.append(f"{name} (the same tag as {first_of_key[key]})")
            continue
        first_of_key[key] = name
        verdict = verdicts.get(name.casefold())
        if verdict is None:
            score.unlabelled.append(name)
        elif verdict:
            score.kept.append(name)
        else:
            score.rejected.append(name)
    return score


def tag_rows(score: TagScore) -> list[tuple[str, str, str]]:
    kept, total = TAG_BASELINE
    now_total = len(score.kept) + len(score.rejected)
    return [
        (
            "seed papers' tags an editor keeps",
            f"{score.share:.0%} ({len(score.kept)}/{now_total})",
            f"{kept / total:.0%} ({kept}/{total})",
        )
    ]
