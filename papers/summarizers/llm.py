"""The LLM summarizer: any OpenAI-compatible chat-completions endpoint, through the openai client.

Facts come from metadata, prose from the model: authors, dates, categories, DOI and journal
reference are never asked for. Affiliations and links the model names are kept only when they
occur in the paper's own text.
"""

from __future__ import annotations

import json
import re
import time

import openai

from papers.models import SUMMARY_TEXT_FIELDS

from .base import (
    SUMMARY_FIELDS,
    LlmConfig,
    SummarizerError,
    SummaryInput,
    SummaryResult,
    validate_fields,
)
from .base import input_digest as make_digest
from .text import (
    Document,
    cjk_count,
    estimate_tokens,
    find_urls,
    latin_count,
    normalize,
    split_document,
    split_sentences,
    squash,
    url_key,
)

PROMPT_VERSION = "llm-1"
BACKEND = "openai"

# How the text budget is shared between a paper's parts; references and appendix get nothing.
SECTION_SHARES = {
    "intro": 0.25,
    "method": 0.30,
    "experiments": 0.20,
    "conclusion": 0.15,
    "related": 0.05,
    "other": 0.05,
}
SECTION_NAMES = {
    "intro": "Introduction",
    "related": "Related work",
    "method": "Method",
    "experiments": "Experiments",
    "conclusion": "Conclusion",
    "other": "Other sections",
}
HEADER_CHARS = 1500
PROSE_FIELDS = SUMMARY_TEXT_FIELDS

SCHEMA = """{
  "tldr": "one sentence: what the paper does and achieves",
  "key_takeaways": ["3 to 7 short sentences, the most important points"],
  "title_translation": "the paper's title in the summary language",
  "affiliations": ["institutions exactly as written on the first page, untranslated"],
  "keywords": ["3 to 8 keywords"],
  "links": [{"label": "Code or Project page", "url": "an address written in the paper"}],
  "background": "the research background",
  "prior_work": "past methods and their problems",
  "method": "the proposed method",
  "results": "the tasks and the performance reached",
  "method_steps": ["the method's steps, in order"],
  "significance": "why the work matters",
  "assessment": "innovation, performance and workload, one sentence each"
}"""

LANGUAGE_RULES = {
    "en": "Write every text in English.",
    "zh": (
        "Write every text in Simplified Chinese (简体中文), including title_translation, "
        "key_takeaways, keywords and method_steps; keep names of models, datasets and metrics "
        "as the paper writes them. Copy affiliations and URLs exactly, untranslated."
    ),
}


def system_prompt(language: str) -> str:
    return (
        "You summarize research papers for a daily digest. Read the paper below and answer with "
        "ONE JSON object and nothing else, with exactly these fields and types:\n"
        f"{SCHEMA}\n"
        f"{LANGUAGE_RULES.get(language, LANGUAGE_RULES['en'])} "
        "Use only what the paper says. Leave affiliations or links empty ([]) when the text "
        "does not show them."
    )


# ---------------------------------------------------------------- the text sent


def sentence_cost(sentence: str) -> int:
    return estimate_tokens(sentence) + 1


def trim_to_tokens(text: str, budget: int) -> str:
    """The text's first sentences that fit the token budget."""
    if budget <= 0:
        return ""
    kept: list[str] = []
    used = 0
    for sentence in split_sentences(text):
        cost = sentence_cost(sentence)
        if used + cost > budget:
            break
        kept.append(sentence)
        used += cost
    return " ".join(kept)


def allocate(needs: dict[str, int], budget: int) -> dict[str, int]:
    """Share the budget by SECTION_SHARES; what a short part leaves over goes to the others."""
    grants = {kind: 0 for kind in needs}
    open_kinds = {kind for kind, need in needs.items() if need > 0}
    left = budget
    while open_kinds and left > 0:
        weight = sum(SECTION_SHARES.get(kind, 0.05) for kind in open_kinds)
        spent = 0
        for kind in sorted(open_kinds):
            offer = int(left * SECTION_SHARES.get(kind, 0.05) / weight)
            grant = min(offer, needs[kind] - grants[kind])
            grants[kind] += grant
            spent += grant
        open_kinds = {kind for kind in open_kinds if grants[kind] < needs[kind]}
        if spent == 0:
            break
        left -= spent
    return grants


def scrub_header(header: str, authors: list[str]) -> str:
    """The title page without author names and e-mail addresses."""
    text = "\n".join(line for line in header.split("\n") if "@" not in line)
    for name in sorted(authors, key=len, reverse=True):
        if name.strip():
            text = re.sub(re.escape(name.strip()), "", text, flags=re.IGNORECASE)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if len(line.strip(" ,*†‡0123456789")) > 2)[
        :HEADER_CHARS
    ]


def paper_text(inp: SummaryInput, max_tokens: int) -> str:
    """The paper as sent to the model: title, abstract, comment, title page, trimmed sections."""
    doc = split_document(inp.full_text) if inp.full_text.strip() else Document()
    abstract = normalize(inp.abstract or doc.abstract)
    parts = [f"Title: {normalize(inp.title)}", f"Abstract: {abstract}"]
    if inp.comment.strip():
        parts.append(f"Comment: {normalize(inp.comment)}")
    header = scrub_header(inp.first_page_text or doc.header, inp.authors)
    if header:
        parts.append(f"First page (title block):\n{header}")
    if inp.affiliations:
        parts.append("Affiliations known: " + "; ".join(inp.affiliations))
    head = "\n\n".join(parts)
    budget = max_tokens - estimate_tokens(system_prompt(inp.language)) - estimate_tokens(head)
    texts: dict[str, str] = {}
    for section in doc.sections:
        if section.kind in SECTION_SHARES:
            texts[section.kind] = (texts.get(section.kind, "") + "\n" + section.text).strip()
    needs = {kind: sum(map(sentence_cost, split_sentences(text))) for kind, text in texts.items()}
    grants = allocate(needs, max(budget, 0))
    body = []
    for kind in SECTION_SHARES:
        if kind in texts:
            trimmed = trim_to_tokens(texts[kind], grants[kind])
            if trimmed:
                body.append(f"## {SECTION_NAMES[kind]}\n{trimmed}")
    return "\n\n".join([head, *body])


# ---------------------------------------------------------------- the answer


def parse_answer(content: str | None) -> dict:
    if not content or not content.strip():
        raise ValueError("the answer is empty")
    text = content.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"the answer is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise ValueError("the answer must be one JSON object")
    return data


def check_language(fields: dict, language: str) -> None:
    """A zh summary must really be Chinese: mostly CJK in its prose, some in every prose field."""
    if language != "zh":
        return
    prose = (
        [fields[name] for name in PROSE_FIELDS] + fields["key_takeaways"] + fields["method_steps"]
    )
    for name in PROSE_FIELDS:
        if fields[name] and not cjk_count(fields[name]):
            raise ValueError(f"field '{name}' is not written in Simplified Chinese")
    joined = " ".join(prose)
    if cjk_count(joined) < latin_count(joined):
        raise ValueError("the summary is not written mostly in Simplified Chinese")


def check_answer(content: str | None, language: str) -> tuple[dict, list[str]]:
    data = parse_answer(content)
    extra = sorted(set(data) - set(SUMMARY_FIELDS))
    warnings = (
        [f"the model added fields that were not asked for: {', '.join(extra)}"] if extra else []
    )
    fields = validate_fields({k: v for k, v in data.items() if k in SUMMARY_FIELDS})
    check_language(fields, language)
    return fields, warnings


def check_facts(fields: dict, inp: SummaryInput) -> list[str]:
    """Keep only affiliations and links found in the paper; say what was dropped."""
    warnings = []
    first_page = squash(inp.first_page_text + " " + " ".join(inp.affiliations))
    if not inp.first_page_text and inp.full_text:
        first_page += squash(split_document(inp.full_text).header)
    kept = []
    for affiliation in fields["affiliations"]:
        if squash(affiliation) and squash(affiliation) in first_page:
            kept.append(affiliation)
        else:
            warnings.append(f"affiliation '{affiliation}' not found in the PDF's first page")
    for known in inp.affiliations:
        if known.strip() and squash(known) not in {squash(a) for a in kept}:
            kept.append(known.strip())
    fields["affiliations"] = kept

    source = " ".join([inp.abstract, inp.comment, inp.first_page_text, inp.full_text])
    known_urls = {url_key(url) for url, _ in find_urls(source)}
    links, seen = [], set()
    for link in fields["links"]:
        key = url_key(link["url"])
        if key not in known_urls:
            warnings.append(f"link '{link['url']}' not found in the paper's text")
        elif key not in seen:
            seen.add(key)
            links.append(link)
    fields["links"] = links
    return warnings


# ---------------------------------------------------------------- the call


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after") if error.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class _Chat:
    """One conversation with the endpoint; remembers whether it accepts response_format."""

    def __init__(self, config: LlmConfig):
        self.config = config
        self.client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "not-needed",
            timeout=config.timeout,
            max_retries=config.max_retries,
        )
        self.json_mode = True
        self.tokens: int | None = None
        # The body of the last request, exactly as sent (kept with the summary).
        self.sent: dict = {}

    def complete(self, messages: list[dict]) -> str | None:
        kwargs = {"model": self.config.model, "messages": messages}
        if self.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        self.sent = {**kwargs, "messages": [dict(m) for m in messages]}
        try:
            response = self.client.chat.completions.create(**kwargs)
        except openai.BadRequestError as error:
            if self.json_mode and "response_format" in str(error).lower():
                self.json_mode = False
                return self.complete(messages)
            raise SummarizerError(f"the LLM endpoint rejected the request: {error}") from error
        except openai.APITimeoutError as error:
            raise SummarizerError(
                f"the LLM did not answer within {self.config.timeout} s", transient=True
            ) from error
        except openai.APIConnectionError as error:
            raise SummarizerError(
                f"cannot reach the LLM endpoint: {error}", transient=True
            ) from error
        except openai.RateLimitError as error:
            raise SummarizerError(
                "the LLM endpoint keeps answering 429 (rate limited)",
                transient=True,
                retry_after=_retry_after(error),
            ) from error
        except openai.APIStatusError as error:
            transient = error.status_code >= 500 or error.status_code in (408, 409)
            raise SummarizerError(
                f"the LLM endpoint answered HTTP {error.status_code}: {error.message}",
                transient=transient,
                retry_after=_retry_after(error),
            ) from error
        if response.usage is not None and response.usage.total_tokens is not None:
            self.tokens = (self.tokens or 0) + response.usage.total_tokens
        if not response.choices:
            return None
        return response.choices[0].message.content


def summarize(inp: SummaryInput, config: LlmConfig) -> SummaryResult:
    started = time.monotonic()
    chat = _Chat(config)
    messages = [
        {"role": "system", "content": system_prompt(inp.language)},
        {"role": "user", "content": paper_text(inp, config.max_input_tokens)},
    ]
    content = chat.complete(messages)
    try:
        fields, warnings = check_answer(content, inp.language)
    except ValueError as error:
        messages += [
            {"role": "assistant", "content": content or ""},
            {
                "role": "user",
                "content": f"Your answer was invalid: {error}. Answer again with ONE JSON object "
                "with exactly the fields and types asked for.",
            },
        ]
        content = chat.complete(messages)
        try:
            fields, warnings = check_answer(content, inp.language)
        except ValueError as second:
            raise SummarizerError(f"the LLM's answer was invalid twice: {second}") from second
    warnings += check_facts(fields, inp)
    return SummaryResult(
        language=inp.language,
        fields=fields,
        backend=BACKEND,
        model=config.model,
        prompt_version=PROMPT_VERSION,
        input_digest=make_digest(
            inp, backend=BACKEND, model=config.model, prompt_version=PROMPT_VERSION
        ),
        tokens=chat.tokens,
        duration_ms=round((time.monotonic() - started) * 1000),
        warnings=warnings,
        request=chat.sent,
    )
