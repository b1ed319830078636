"""The offline summarizer: every field is chosen from the paper's own sentences.

Sentences are ranked with TextRank over TF-IDF cosine similarity, weighted by the section a
sentence is in, its position there and a few cue phrases. Each sentence gets a role (roles.py):
problem, prior work, contribution, method, result, limitation, significance. Each field takes the
best sentences of its own role, no sentence stands in two prose fields, and a field without a
sentence of its role stays empty with a warning. Deterministic, no network.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field

import numpy as np

from . import roles
from .base import MAX_TAKEAWAYS, MIN_TAKEAWAYS, SummaryInput, validate_fields
from .text import (
    Document,
    cjk_count,
    detect_language,
    find_affiliations,
    find_urls,
    is_code_or_page,
    link_label,
    normalize,
    split_document,
    split_sentences,
    url_key,
)

MODEL = "textrank-tfidf"
PROMPT_VERSION = "extractive-2"

STOPWORDS = set(
    """a about above after again against all also although am among an and any are as at be
    because been before being below between both but by can could did do does doing done down
    during each either few for from further had has have having he her here hers him his how
    however i if in into is it its itself just may me might more most much must my no nor not
    now of off on once only or other our ours out over own per same she should so some such
    than that the their theirs them then there these they this those through thus to too under
    until up upon us very via was we were what when where whether which while who whom whose
    why will with within without would yet you your paper work propose proposed present show
    shows use used using based new novel method methods approach approaches result results
    further well one two three first second also can e.g i.e et al""".split()
)

# Shortcomings: what makes a sentence about earlier work worth quoting as its problem.
PROBLEM = re.compile(
    r"\b(?:however\b|suffer|limited\b|limitations?\b|fail|struggle|unable\b|"
    r"challeng|difficult|lack\b|drawbacks?\b|neglect|overlook|rarely\b|"
    r"costly\b|expensive\b|remains? (?:an? )?(?:open|unsolved|unexplored))|然而|难以|不足|局限",
    re.IGNORECASE,
)
INNOVATION = re.compile(
    r"\b(?:novel\b|first\b|new\b|propos|introduc|unlike\b|unique\b|unif)|首次|新颖|创新",
    re.IGNORECASE,
)
WORKLOAD = re.compile(
    r"\b(?:datasets?\b|hours?\b|benchmarks?\b|extensive\b|collect|construct|annotat|"
    r"train(?:ed|ing)?\b|gpus?\b|parameters\b|experiments\b|participants\b|"
    r"implement|ablation|comprehensive\b|large-scale\b)|数据集|实验|训练",
    re.IGNORECASE,
)
STEP = re.compile(
    r"\b(?:first(?:ly)?\b|then\b|next\b|finally\b|subsequently\b|afterwards?\b|"
    r"stages?\b|steps?\b|modules?\b|branch|encoder|decoder|consists? of\b|"
    r"we (?:use|employ|adopt|leverage|design|introduce|apply|train|extract|integrate|"
    r"reconstruct|obtain|build|construct|feed|encode|decode|predict|compute|render))|"
    r"首先|然后|最后|模块",
    re.IGNORECASE,
)
FIGURE_OR_TABLE = re.compile(r"^(?:fig(?:ure)?|tab(?:le)?|algorithm)\.?\s*\d", re.IGNORECASE)

SECTION_PRIOR = {
    "abstract": 1.6,
    "intro": 1.0,
    "related": 0.5,
    "method": 0.9,
    "experiments": 0.9,
    "conclusion": 1.3,
    "other": 0.7,
}
RESULT_WORDS = roles.RESULT_CUE
# Fields of running text: no sentence of the paper appears in two of them.
PROSE_FIELDS = ("background", "prior_work", "method", "results", "significance", "assessment")
ASSESSMENT_LABELS = {
    "en": ("Innovation", "Performance", "Workload"),
    "zh": ("创新", "性能", "工作量"),
}

logging.getLogger("jieba").setLevel(logging.WARNING)


@dataclass
class Sentence:
    index: int
    text: str
    kind: str
    position: int  # within its section
    role: str = ""
    terms: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


# ---------------------------------------------------------------- ranking


def tokens(text: str) -> list[str]:
    """Content words: lower-case Latin words without stopwords, and jieba words for Chinese."""
    words = []
    for chunk in re.findall(r"[A-Za-z][A-Za-z0-9\-]+|[\u4e00-\u9fff]+", text):
        if cjk_count(chunk):
            import jieba

            words.extend(w for w in jieba.lcut(chunk) if len(w) > 1)
            continue
        word = chunk.lower().strip("-")
        if word in STOPWORDS or len(word) < 3:
            continue
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return words


def tfidf_vectors(sentences: list[Sentence]) -> None:
    documents = [tokens(s.text) for s in sentences]
    frequency: dict[str, int] = {}
    for words in documents:
        for word in set(words):
            frequency[word] = frequency.get(word, 0) + 1
    total = len(documents)
    for sentence, words in zip(sentences, documents, strict=True):
        counts: dict[str, int] = {}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        vector = {
            w: (1 + math.log(c)) * math.log(1 + total / frequency[w]) for w, c in counts.items()
        }
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        sentence.terms = {w: v / norm for w, v in vector.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """The dot product of two unit vectors, summed in the order of the shorter one's words."""
    if len(a) > len(b):
        a, b = b, a
    total = 0.0
    for word, value in a.items():
        if word in b:
            total += value * b[word]
    return total


def similarities(sentences: list[Sentence]) -> dict[tuple[int, int], float]:
    """The cosine of each pair of sentences (i < j) that share a word, found through an index of
    words: the same sums as `cosine`, as each pair is summed in its shorter vector's order."""
    postings: dict[str, list[int]] = {}
    for i, sentence in enumerate(sentences):
        for word in sentence.terms:
            postings.setdefault(word, []).append(i)
    shorter = [(len(s.terms), i) for i, s in enumerate(sentences)]  # the first of a pair is `a`
    found: dict[tuple[int, int], float] = {}
    for i, sentence in enumerate(sentences):
        dots: dict[int, float] = {}
        for word, value in sentence.terms.items():
            for j in postings[word]:
                if shorter[j] > shorter[i]:
                    dots[j] = dots.get(j, 0.0) + value * sentences[j].terms[word]
        for j, dot in dots.items():
            found[(i, j) if i < j else (j, i)] = dot
    return found


CONVERGED = 1e-6  # of the mean score: past this, further iterations change no order


def textrank(sentences: list[Sentence], damping: float = 0.85, iterations: int = 50) -> list[float]:
    """PageRank over the graph of sentences, edges weighted by their cosine similarity."""
    n = len(sentences)
    if n == 0:
        return []
    weights = np.zeros((n, n))
    for (i, j), weight in similarities(sentences).items():
        if weight > 0.01:
            weights[i, j] = weights[j, i] = weight
    # Column j divided by sentence j's total weight: the share of its rank each neighbour gets.
    out_weight = weights.sum(axis=0)
    shares = np.divide(weights, out_weight, out=np.zeros_like(weights), where=out_weight > 0)
    scores = np.full(n, 1.0 / n)
    for _ in range(iterations):
        new = (1 - damping) / n + damping * (shares @ scores)
        # Sentences without any neighbour leak their rank: spread it evenly, keep the sum at 1.
        new += (1.0 - new.sum()) / n
        settled = float(np.abs(new - scores).max()) < CONVERGED / n
        scores = new
        if settled:
            break
    return scores.tolist()


def cue_bonus(text: str) -> float:
    bonus = 1.0
    if roles.CLAIM_CUE.search(text):
        bonus *= 1.5
    if roles.RESULT_CUE.search(text):
        bonus *= 1.25
    if roles.SIGNIFICANCE_CUE.search(text):
        bonus *= 1.1
    return bonus


def rank(sentences: list[Sentence]) -> None:
    tfidf_vectors(sentences)
    scores = textrank(sentences)
    n = len(sentences)
    for sentence, score in zip(sentences, scores, strict=True):
        position_prior = 1.0 + 0.5 / (1 + sentence.position)
        sentence.score = (
            score
            * n
            * SECTION_PRIOR.get(sentence.kind, 0.7)
            * position_prior
            * cue_bonus(sentence.text)
        )


# ---------------------------------------------------------------- sentence choice


def usable(text: str, *, lenient: bool = False) -> bool:
    """A sentence a reader can take on its own: not a caption, not a formula, not a fragment."""
    if FIGURE_OR_TABLE.match(text):
        return False
    cjk = cjk_count(text)
    if cjk:
        return (6 if lenient else 10) <= len(text) <= 200
    words = text.split()
    if not (4 if lenient else 6) <= len(words) <= (150 if lenient else 70):
        return False
    letters = sum(map(str.isalpha, text))
    visible = len(text) - sum(map(str.isspace, text))
    return letters >= 0.65 * visible


def collect_sentences(abstract: str, doc: Document) -> list[Sentence]:
    found: list[Sentence] = []

    def add(text: str, kind: str, lenient: bool) -> None:
        position = 0
        for sentence in split_sentences(text):
            if usable(sentence, lenient=lenient):
                found.append(
                    Sentence(index=len(found), text=sentence, kind=kind, position=position)
                )
                position += 1

    add(abstract, "abstract", lenient=True)
    for section in doc.sections:
        if section.kind in ("references", "appendix"):
            continue
        add(section.text, section.kind, lenient=False)
    return found


def pick(
    candidates: list[Sentence],
    count: int,
    *,
    boost: re.Pattern | None = None,
    avoid: list[Sentence] = (),
    max_similarity: float = 0.6,
) -> list[Sentence]:
    """The `count` best distinct candidates, in document order."""

    def key(sentence: Sentence) -> tuple[float, int]:
        bonus = 1.5 if boost is not None and boost.search(sentence.text) else 1.0
        return (-sentence.score * bonus, sentence.index)

    chosen: list[Sentence] = []
    avoided = {s.index for s in avoid}
    for sentence in sorted(candidates, key=key):
        if len(chosen) >= count:
            break
        if sentence.index in avoided:
            continue
        if any(cosine(sentence.terms, other.terms) > max_similarity for other in chosen):
            continue
        chosen.append(sentence)
    if not chosen:
        chosen = [s for s in sorted(candidates, key=key) if s.index not in avoided][:count]
    return sorted(chosen, key=lambda s: s.index)


def join(sentences: list[Sentence]) -> str:
    return " ".join(s.text for s in sentences)


def in_kinds(sentences: list[Sentence], *kinds: str) -> list[Sentence]:
    return [s for s in sentences if s.kind in kinds]


def main_contribution(sentences: list[Sentence]) -> list[Sentence]:
    """The sentence that states the paper's claim, from the abstract, else the introduction."""
    for kind in ("abstract", "intro"):
        part = in_kinds(sentences, kind)
        found = roles.main_claim([s.text for s in part])
        if found is not None:
            return [part[found]]
    claims = [s for s in sentences if s.role == roles.CONTRIBUTION]
    return pick(claims, 1)


def takeaway_count(available: int, full_text: bool) -> int:
    if full_text:
        return min(MAX_TAKEAWAYS, available)
    return min(MAX_TAKEAWAYS, available, max(MIN_TAKEAWAYS, math.ceil(available * 0.6)))


# ---------------------------------------------------------------- facts


def find_links(inp: SummaryInput, doc: Document) -> list[dict]:
    """Code and project links from the abstract and comment, and the paper's own from its text."""
    links: list[dict] = []
    seen: set[str] = set()

    def add(url: str, context: str) -> None:
        key = url_key(url)
        if key not in seen:
            seen.add(key)
            links.append({"label": link_label(url, context), "url": url})

    for url, context in find_urls(inp.abstract) + find_urls(inp.comment):
        add(url, context)
    # The body cites other people's code too: keep code and project pages the paper offers.
    own = re.compile(
        r"\b(?:our|we|available|released?|code|project page|homepage|website)\b", re.IGNORECASE
    )
    body = [doc.header, doc.abstract] + [
        s.text for s in doc.sections if s.kind not in ("references", "appendix", "related")
    ]
    for part in body:
        for url, context in find_urls(normalize(part)):
            if is_code_or_page(url) and (part is doc.header or own.search(context)):
                add(url, context)
    return links


def sentence_case(title: str) -> str:
    """Title Case makes every title word look like a name to YAKE: keep only real names."""
    words = title.split()
    return " ".join(
        w if i == 0 or not re.fullmatch(r"[A-Z][a-z-]+", w) else w.lower()
        for i, w in enumerate(words)
    )


def overlaps(a: list[str], b: list[str]) -> bool:
    """Keywords sharing most of their words say the same thing."""
    common = len(set(a) & set(b))
    shorter = min(len(set(a)), len(set(b)))
    return common > 0 and (common >= 2 or common * 2 >= shorter)


def find_keywords(title: str, text: str, language: str, count: int = 6) -> list[str]:
    if language == "zh":
        import jieba.analyse

        candidates = jieba.analyse.extract_tags(f"{title}。{text}", topK=20)
    else:
        import yake

        extractor = yake.KeywordExtractor(lan="en", n=3, dedup_lim=0.7, top=25)
        candidates = [k for k, _ in extractor.extract_keywords(f"{sentence_case(title)}. {text}")]
    # A phrase of the title or one the paper repeats is a better keyword than a one-off
    # ("considerable attention due"); single common words ("dataset") come last.
    haystack = f"{title} {text}".lower()

    def weak(keyword: str) -> tuple[bool, bool]:
        repeated = keyword.lower() in title.lower() or haystack.count(keyword.lower()) >= 2
        return (not repeated, " " not in keyword.strip() and keyword.islower())

    candidates = sorted(candidates, key=weak)
    chosen: list[str] = []
    for keyword in candidates:
        keyword = keyword.strip(" .,;:-")
        words = keyword.lower().split()
        if not words or len(keyword) < 3 or any(w.isdigit() for w in words):
            continue
        if all(w in STOPWORDS for w in words) or words[0] in STOPWORDS or words[-1] in STOPWORDS:
            continue
        if any(overlaps(words, c.lower().split()) for c in chosen):
            continue
        # "Facial Animation" from a title reads better as the abstract writes it.
        lowered = re.escape(keyword.lower())
        if keyword.lower() != keyword and re.search(rf"(?<![\w/.-]){lowered}(?![\w/-])", text):
            keyword = keyword.lower()
        chosen.append(keyword)
        if len(chosen) >= count:
            break
    return chosen


# ---------------------------------------------------------------- the summary


def summarize(inp: SummaryInput) -> tuple[str, dict, list[str]]:
    """(language, fields, warnings) for one paper."""
    warnings: list[str] = []
    doc = split_document(inp.full_text) if inp.full_text.strip() else Document()
    abstract = inp.abstract.strip() or doc.abstract
    if not inp.full_text.strip():
        warnings.append("written from the abstract alone: the paper's full text was not available")
    elif not doc.sections:
        warnings.append("no section headings found in the full text")
    language = detect_language(f"{inp.title} {abstract}")
    if inp.language != language:
        warnings.append(
            f"written in the paper's language ({language}), not the topic's ({inp.language}): "
            "an LLM summary or an editor's translation is needed"
        )

    sentences = collect_sentences(abstract, doc)
    rank(sentences)
    for sentence, role in zip(
        sentences, roles.sentence_roles([(s.text, s.kind) for s in sentences]), strict=True
    ):
        sentence.role = role
    has_body = any(s.kind != "abstract" for s in sentences)
    readable = [s for s in sentences if s.role != roles.OTHER]

    count = takeaway_count(len(readable), has_body)
    takeaways = pick(readable, count, max_similarity=0.5)
    if len(takeaways) < count:
        takeaways = pick(readable, count, max_similarity=1.01)
    if len(takeaways) < MIN_TAKEAWAYS:
        warnings.append(
            f"only {len(takeaways)} key takeaway(s): the source has too few sentences for {MIN_TAKEAWAYS}"
        )

    # Each prose field takes sentences of its own role that no earlier field took.
    used: list[Sentence] = []

    def take(
        role_names: tuple[str, ...],
        count: int,
        kinds: tuple[str, ...] = (),
        boost: re.Pattern | None = None,
    ) -> list[Sentence]:
        pool = [s for s in sentences if s.role in role_names]
        preferred = [s for s in pool if s.kind in kinds]
        chosen = pick(preferred or pool, count, boost=boost, avoid=used)
        used.extend(chosen)
        return chosen

    tldr = main_contribution(sentences)
    background = take((roles.PROBLEM,), 2, kinds=("intro",))
    prior_work = take((roles.PRIOR_WORK,), 2, kinds=("related", "intro"), boost=PROBLEM)
    method = take((roles.CONTRIBUTION,), 1, kinds=("abstract",))
    method += take((roles.METHOD,), 2 - len(method), kinds=("abstract", "intro"), boost=STEP)
    method.sort(key=lambda s: s.index)
    # From an abstract alone, a third result is left for the assessment's performance line.
    results = take((roles.RESULT,), 3 if has_body else 2, kinds=("abstract", "experiments"))
    significance = take((roles.SIGNIFICANCE,), 2, kinds=("conclusion", "abstract"))

    labels = ASSESSMENT_LABELS.get(language, ASSESSMENT_LABELS["en"])
    assessment_lines = []
    for label, role_names, pattern in zip(
        labels,
        ((roles.CONTRIBUTION, roles.METHOD), (roles.RESULT,), (roles.METHOD, roles.RESULT)),
        (INNOVATION, RESULT_WORDS, WORKLOAD),
        strict=True,
    ):
        pool = [s for s in sentences if s.role in role_names and pattern.search(s.text)]
        chosen = pick(pool, 1, avoid=used)
        if chosen:
            used.extend(chosen)
            assessment_lines.append(f"{label}: {chosen[0].text}")

    # The steps: what is left of the method, from the method section when the paper has one.
    steps = take((roles.METHOD,), 5, kinds=("method",), boost=STEP)

    intro = in_kinds(sentences, "intro")
    conclusion = in_kinds(sentences, "conclusion")
    keyword_text = abstract
    if len(split_sentences(abstract)) < 4:
        keyword_text += " " + join(intro[:10] + conclusion[:5])
    affiliations = list(dict.fromkeys(a.strip() for a in inp.affiliations if a.strip()))
    if not affiliations:
        affiliations = find_affiliations(inp.first_page_text or doc.header, inp.authors)

    fields = {
        "tldr": join(tldr),
        "key_takeaways": [s.text for s in takeaways],
        "title_translation": normalize(inp.title),
        "affiliations": affiliations,
        "keywords": find_keywords(normalize(inp.title), keyword_text, language),
        "links": find_links(inp, doc),
        "background": join(background),
        "prior_work": join(prior_work),
        "method": join(method),
        "results": join(results),
        "method_steps": [s.text for s in steps],
        "significance": join(significance),
        "assessment": "\n".join(assessment_lines),
    }
    for name in ("tldr", *PROSE_FIELDS):
        if not fields[name]:
            warnings.append(f"no sentence of the paper fits '{name}'")
    fields = validate_fields(fields, min_takeaways=min(MIN_TAKEAWAYS, len(takeaways)))
    return language, fields, warnings
