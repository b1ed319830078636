"""The types every summarizer shares, and the check of a summary's fields."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from papers.models import SUMMARY_FIELDS, SUMMARY_LIST_FIELDS, SUMMARY_TEXT_FIELDS
from papers.text import safe_url

MAX_TAKEAWAYS = 7
MIN_TAKEAWAYS = 3


@dataclass
class SummaryInput:
    arxiv_id: str
    title: str
    abstract: str
    comment: str = ""
    authors: list[str] = field(default_factory=list)
    full_text: str = ""
    first_page_text: str = ""
    affiliations: list[str] = field(default_factory=list)
    language: str = "en"


@dataclass
class SummaryResult:
    language: str
    fields: dict
    backend: str
    model: str
    prompt_version: str
    input_digest: str
    tokens: int | None
    duration_ms: int
    warnings: list[str]
    # What the summarizer was given, to show and to reproduce: for an LLM the exact request body.
    request: dict = field(default_factory=dict)


@dataclass
class LlmConfig:
    base_url: str
    api_key: str
    model: str
    timeout: float = 60
    max_input_tokens: int = 12000
    # Retries done by the openai client itself (time-outs, 429 honouring Retry-After, 5xx).
    max_retries: int = 2

    @classmethod
    def from_settings(cls) -> LlmConfig:
        from django.conf import settings

        return cls(
            base_url=settings.LLM_BASE_URL,
            api_key=settings.LLM_API_KEY,
            model=settings.LLM_MODEL,
            timeout=getattr(settings, "LLM_TIMEOUT", 60),
            max_input_tokens=getattr(settings, "LLM_MAX_INPUT_TOKENS", 12000),
        )


class SummarizerError(Exception):
    """A summary could not be written. `transient` errors are worth retrying later."""

    def __init__(self, message: str, *, transient: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


def input_digest(inp: SummaryInput, *, backend: str, model: str, prompt_version: str) -> str:
    """A sha256 over what changes a summary; authors and the arXiv id do not."""
    payload = {
        "backend": backend,
        "model": model,
        "prompt_version": prompt_version,
        "language": inp.language,
        "title": inp.title,
        "abstract": inp.abstract,
        "comment": inp.comment,
        "full_text": inp.full_text,
        "first_page_text": inp.first_page_text,
        "affiliations": list(inp.affiliations),
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def offline_request(inp: SummaryInput) -> dict:
    """The offline summarizer's input, the full text by its length and hash (it is the paper's)."""
    return {
        "input": {
            "title": inp.title,
            "abstract": inp.abstract,
            "comment": inp.comment,
            "language": inp.language,
            "affiliations": list(inp.affiliations),
            "first_page_text": inp.first_page_text,
            "full_text_chars": len(inp.full_text),
            "full_text_sha256": hashlib.sha256(inp.full_text.encode("utf-8")).hexdigest(),
        }
    }


def _check_text_list(name: str, value: object) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"field '{name}' must be a list of strings, got {type(value).__name__}")
    items = []
    for position, item in enumerate(value, 1):
        if not isinstance(item, str):
            raise ValueError(
                f"field '{name}' item {position} must be a string, got {type(item).__name__}"
            )
        item = item.strip()
        if item:
            items.append(item)
    return items


def _check_links(value: object) -> list[dict]:
    if not isinstance(value, list):
        raise ValueError(f"field 'links' must be a list of objects, got {type(value).__name__}")
    links = []
    for position, item in enumerate(value, 1):
        if not isinstance(item, dict) or set(item) != {"label", "url"}:
            raise ValueError(
                f"field 'links' item {position} must be an object with exactly 'label' and 'url'"
            )
        label, url = item["label"], item["url"]
        if not isinstance(label, str) or not isinstance(url, str):
            raise ValueError(f"field 'links' item {position}: 'label' and 'url' must be strings")
        url = url.strip()
        if not safe_url(url):
            raise ValueError(f"field 'links' item {position}: url {url!r} is not an http(s) URL")
        links.append({"label": label.strip() or "Link", "url": url})
    return links


def validate_fields(
    data: dict, *, min_takeaways: int = MIN_TAKEAWAYS, max_takeaways: int = MAX_TAKEAWAYS
) -> dict:
    """Return a cleaned copy of `data` with exactly the summary fields, or raise ValueError.

    Text fields are strings, list fields lists of strings, `links` a list of {"label", "url"}.
    Importers of older archives may widen the takeaway bounds.
    """
    if not isinstance(data, dict):
        raise ValueError(f"a summary must be a JSON object, got {type(data).__name__}")
    missing = [name for name in SUMMARY_FIELDS if name not in data]
    if missing:
        others = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise ValueError(f"missing field '{missing[0]}'{others}")
    unexpected = sorted(set(data) - set(SUMMARY_FIELDS))
    if unexpected:
        raise ValueError(f"unexpected field '{unexpected[0]}'")
    cleaned: dict = {}
    for name in SUMMARY_TEXT_FIELDS:
        value = data[name]
        if not isinstance(value, str):
            raise ValueError(f"field '{name}' must be a string, got {type(value).__name__}")
        cleaned[name] = value.strip()
    for name in SUMMARY_LIST_FIELDS:
        cleaned[name] = _check_text_list(name, data[name])
    cleaned["links"] = _check_links(data["links"])
    count = len(cleaned["key_takeaways"])
    if not min_takeaways <= count <= max_takeaways:
        raise ValueError(
            f"field 'key_takeaways' must have {min_takeaways} to {max_takeaways} items, got {count}"
        )
    return {name: cleaned[name] for name in SUMMARY_FIELDS}
