"""First-page affiliations for PDF extraction: the institutions named between a paper's title and
its abstract (PyMuPDF's text dict of the first page in, plain strings out).

Lines under the title are read up to the abstract or the introduction; a line whose spans start
with small or superscript marks ("¹MIT ²Stanford University") is split at each mark, any other
line counts when it names an institution. E-mail addresses and URLs are dropped.
"""

import re

from papers.sources.pdf_layout import EDGE, clean_text

_INSTITUTION = re.compile(
    r"Universit|Institut|\bLab\b|\bLabs\b|Laborator|College|School|\bInc\b|\bLtd\b|\bLLC\b|"
    r"\bCorp|Research|Google|Microsoft|\bMeta\b|DeepMind|OpenAI|NVIDIA|Adobe|Amazon|Apple|"
    r"Tencent|Alibaba|ByteDance|Baidu|Huawei|Samsung|Sony|Academ|Cent(?:er|re)|Department|"
    r"\bDept\b|Faculty|Hospital|Foundation|\bETH\b|\bMIT\b|CNRS|INRIA|Inria|Max Planck|"
    r"大学|研究院|研究所|实验室|学院|公司",
)
_EMAIL = re.compile(r"\{?[\w.+,\s-]*\}?@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MARK = re.compile(r"^[\d\s,*†‡§¶#♯∗⋆¹²³⁴⁵⁶⁷⁸⁹⁰]{1,6}$")


def affiliations(data: dict, page_height: float) -> list[str]:
    lines = []
    for b in data["blocks"]:
        if b.get("type") != 0:
            continue
        for line in b["lines"]:
            spans = list(line["spans"])
            while spans and not spans[0]["text"].strip():
                spans.pop(0)
            if spans:
                lines.append((tuple(line["bbox"]), spans))
    if not lines:
        return []
    lines.sort(key=lambda item: item[0][1])

    def text_of(spans) -> str:
        return "".join(s["text"] for s in spans).strip()

    stop = page_height * 0.6
    for rect, spans in lines:
        words = text_of(spans).lower()
        if re.match(r"^(abstract|a b s t r a c t)\b", words) or re.match(
            r"^(1|i)\.?\s+introduction\b", words
        ):
            stop = rect[1]
            break
    head = [(r, s) for r, s in lines if r[3] <= stop + 1 and r[1] > page_height * EDGE]
    if not head:
        return []
    # the title: the largest type among lines of some length (not a big letter in a picture)
    titled = [(r, s) for r, s in head if sum(ch.isalpha() for ch in text_of(s)) >= 8] or head
    biggest = max(max(s["size"] for s in spans) for _, spans in titled)
    title_bottom = max(
        (r[3] for r, spans in titled if max(s["size"] for s in spans) >= biggest - 0.5),
        default=0.0,
    )
    found: list[str] = []
    for rect, spans in head:
        if rect[1] < title_bottom - 1:
            continue
        size = max(s["size"] for s in spans)
        first = spans[0]["text"].strip()
        leading_mark = (
            _MARK.match(first) is not None
            and len(spans) > 1
            and (
                first[0] in "¹²³⁴⁵⁶⁷⁸⁹⁰" or spans[0]["size"] < 0.85 * size or spans[0]["flags"] & 1
            )
        )
        if leading_mark:
            # split "¹MIT ²Stanford University" at each mark
            parts, current = [], ""
            for span in spans[1:] if leading_mark else spans:
                small = span["size"] < 0.85 * size or span["flags"] & 1
                if small and _MARK.match(span["text"].strip()):
                    parts.append(current)
                    current = ""
                else:
                    current += span["text"]
            parts.append(current)
        elif _INSTITUTION.search(text_of(spans)):
            parts = [text_of(spans)]
        else:
            continue
        for part in parts:
            part = _URL.sub("", _EMAIL.sub("", part))
            part = clean_text(part).strip(" ,;:·")
            if sum(ch.isalpha() for ch in part) >= 3 and part not in found:
                found.append(part)
    return found[:20]
