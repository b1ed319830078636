"""The role of each sentence of a paper: what it does for the reader.

A role comes from the section a sentence is in, where it stands relative to the paper's first
claim ("We propose ..."), and cue phrases. Abstracts and introductions read in order: what comes
before the claim sets the scene (problem) or reports earlier work (prior work); what follows is
method, result or significance. The extractive summarizer fills each summary field from the
sentences of its own role only.
"""

from __future__ import annotations

import re

PROBLEM = "problem"
PRIOR_WORK = "prior_work"
CONTRIBUTION = "contribution"
METHOD = "method"
RESULT = "result"
LIMITATION = "limitation"
SIGNIFICANCE = "significance"
OTHER = "other"

ROLES = (PROBLEM, PRIOR_WORK, CONTRIBUTION, METHOD, RESULT, LIMITATION, SIGNIFICANCE, OTHER)

# Each cue's English words share one leading \b: the engine then tests a position once, not
# once per word (three times faster on a paper's sentences, the same matches).
CLAIM_CUE = re.compile(
    r"\b(?:we (?:first |then |also |further |mainly |hereby )?(?:propose|present|introduce|"
    r"develop|design|devise|build|construct|contribute|formulate|establish|unveil|explore|"
    r"investigate|address|tackle|study|hypothesi[sz]e|review|describe|offer)|"
    r"(?:this|the|our|present) (?:position |review )?(?:paper|work|study|letter|review|article)"
    r" (?:\w+ )?(?:proposes|presents|introduces|develops|offers|describes|investigates|tackles|"
    r"focuses|explores|examines|provides|reports)|"
    r"in this (?:position )?(?:paper|work|study|letter|article)\b|is proposed\b|"
    r"to the best of our knowledge\b)|本文|本研究|我们提出|提出了",
    re.IGNORECASE,
)
# The strongest way a paper states its claim; "we study ..." may only set up the question.
MAIN_CLAIM_CUE = re.compile(
    r"\b(?:we (?:first |then |also |further |mainly |hereby )?(?:propose|present|introduce|"
    r"develop|design|devise|unveil)|(?:this|the|our) (?:paper|work|study|letter|article) "
    r"(?:\w+ )?(?:proposes|presents|introduces|develops)|is proposed\b)|我们提出|提出了",
    re.IGNORECASE,
)
OURS = re.compile(r"\b(?:we|our|us)\b|我们|本文|本研究", re.IGNORECASE)
PRIOR_CUE = re.compile(
    r"\b(?:(?:previous|prior|existing|earlier|conventional|traditional|current|recent|early|many|"
    r"most|other|these) (?:[\w-]+ ){0,3}(?:methods?|approaches|works?|efforts|studies|models|"
    r"techniques|systems|solutions|attempts|pipelines|research)\b|"
    r"recent (?:advances|advancements|progress|developments|works?|studies)\b|"
    r"(?:has|have) (?:recently |widely |extensively )?(?:been (?:widely |extensively )?"
    r"(?:explored|studied|investigated|applied|proposed|used|employed)|shown|achieved|"
    r"demonstrated|gained|emerged|yielded|exhibited|attempted|produced|improved|advanced)\b|"
    r"despite (?:recent|significant|promising)\b|state-of-the-art models\b)|"
    r"\(\w[^()]*(?:et al\.|\d{4})\)|现有|以往|传统方法|先前|已有(?:的)?(?:方法|工作|研究)",
    re.IGNORECASE,
)
RESULT_CUE = re.compile(
    r"\b(?:outperform|surpass|superior|better than\b|competitive\b|comparabl|"
    r"state[- ]of[- ]the[- ]art (?:performance|results?|quality|accuracy)\b|sota\b|"
    r"(?:experiments?|results?|evaluations?|studies|analys[ie]s|comparisons?)\b(?: \S+){0,8} "
    r"(?:show|demonstrate|indicate|confirm|reveal|suggest|validate|verify|prove)|"
    r"we (?:show|demonstrate|find|found|observe|obtain|achieve|evaluate|validate|verify|reveal|"
    r"illustrate)|(?:conduct|perform)\w* (?:\w+ ){0,3}(?:experiments|stud(?:y|ies)|evaluations?)|"
    r"excels?\b|evaluated\b|achiev\w* (?:\S+ ){0,4}\d|"
    r"achiev\w* (?:a |an |new |state|competitive|superior|comparable|significant|better|"
    r"high|impressive|promising|\d)|improvements?\b|improves? \S+(?: \S+)? (?:by|over)\b|"
    r"(?:faster|slower|smaller|lower|higher) than\b|times faster\b|we have evaluated\b)|"
    r"\d+(?:\.\d+)?\s?(?:%|db\b|x\b|×|fps\b)|"
    r"优于|超过|超越|实验(?:结果)?(?:表明|证明|显示)|结果表明|提升了|达到了",
    re.IGNORECASE,
)
SIGNIFICANCE_CUE = re.compile(
    r"\b(?:paves? the way|we (?:believe|hope|envision)\b|hopefully\b|"
    r"potential (?:of|for|to|in)\b|valuable (?:resource|tool|insights?)\b|resource for\b|"
    r"opens? (?:up )?(?:new|the door)|insights? (?:for|into)\b|shed(?:s|ding)? light\b|"
    r"(?:promot|advanc|driv|facilitat|help)\w* (?:to )?(?:further |future )?"
    r"(?:research|exploration|progress|the development|the field|the future|the research)\b|"
    r"steps? toward|implications?\b)|"
    r"^(?:overall|in short|in summary|in conclusion|to conclude|taken together),|"
    r"意义|潜力|推动|促进|奠定(?:了)?基础",
    re.IGNORECASE,
)
LIMITATION_CUE = re.compile(
    r"\b(?:future work\b|we leave\b|(?:are|is) (?:still )?needed to\b|"
    r"limitations? (?:of|in) (?:our|this|the proposed)|"
    r"our (?:method|approach|model|system) (?:cannot|can not|fails|struggles|does not)\b)|"
    r"局限|未来工作|不足之处",
    re.IGNORECASE,
)
# Links and announcements: "Project page: ...", "Code is available at ...".
OTHER_CUE = re.compile(
    r"https?://|\b(?:code|codes|models?|data(?:set)?s?|demo|project (?:page|website|webpage)|"
    r"website|webpage|video results?|supplementary)\b[^.]{0,60}\b(?:is|are|will be|can be) "
    r"(?:made )?(?:publicly |freely )?(?:available|released|found|seen|viewed)\b|"
    r"^(?:project (?:page|website|webpage)|code|website|webpage|demo)\b",
    re.IGNORECASE,
)

CONTINUES = re.compile(
    r"(?:this|these|those|such|they|their|it|its|consequently|thus|hence|as a result|"
    r"unfortunately|moreover|furthermore|however, (?:this|these|such|they))\b|(?:这|这些|此类|然而)",
    re.IGNORECASE,
)

# Section kinds whose sentences have a role whatever their cues say.
SECTION_ROLE = {"related": PRIOR_WORK, "method": METHOD}


def cue_role(text: str, *, claimed: bool) -> str:
    """The role cue phrases give a sentence, `claimed` once the paper has stated its claim."""
    if OTHER_CUE.search(text) and not SIGNIFICANCE_CUE.search(text):
        return OTHER
    if not claimed:
        if CLAIM_CUE.search(text):
            return CONTRIBUTION
        return PRIOR_WORK if PRIOR_CUE.search(text) else PROBLEM
    if LIMITATION_CUE.search(text):
        return LIMITATION
    if SIGNIFICANCE_CUE.search(text):
        return SIGNIFICANCE
    if RESULT_CUE.search(text):
        return RESULT
    if PRIOR_CUE.search(text) and not OURS.search(text):
        return PRIOR_WORK
    return METHOD


def first_claim(texts: list[str]) -> int | None:
    """Where a run of sentences starts to speak of this paper: its first claim, else its first "we"."""
    for pattern in (CLAIM_CUE, OURS):
        found = next(
            (i for i, t in enumerate(texts) if pattern.search(t) and not OTHER_CUE.search(t)),
            None,
        )
        if found is not None:
            return found
    return None


def main_claim(texts: list[str]) -> int | None:
    """The sentence that states the paper's main claim: the first claim, unless it only sets up
    the question ("We study how ...") and the next one proposes ("We propose X ...")."""
    first = first_claim(texts)
    if first is None or MAIN_CLAIM_CUE.search(texts[first]):
        return first
    following = texts[first + 1 : first + 2]
    if following and MAIN_CLAIM_CUE.search(following[0]):
        return first + 1
    return first


def ordered_roles(texts: list[str]) -> list[str]:
    """Roles of an abstract's or introduction's sentences, read in order.

    The first claim divides them: before it, problem or prior work; after it, method, result,
    significance or limitation.
    """
    first, main = first_claim(texts), main_claim(texts)
    roles = []
    for i, text in enumerate(texts):
        if i in (first, main):
            roles.append(CONTRIBUTION)
        elif first is None or i < first:
            role = cue_role(text, claimed=False)
            # "These limitations ..." goes on about the earlier work the sentence before named.
            if role == PROBLEM and roles and roles[-1] == PRIOR_WORK and CONTINUES.match(text):
                role = PRIOR_WORK
            roles.append(role)
        else:
            role = cue_role(text, claimed=True)
            if role == METHOD and re.search(r"\bto the best of our knowledge\b", text, re.I):
                role = CONTRIBUTION
            roles.append(role)
    return roles


def section_role(text: str, kind: str) -> str:
    """The role of a sentence in the body of the paper, by its section and cues."""
    if OTHER_CUE.search(text) and not SIGNIFICANCE_CUE.search(text):
        return OTHER
    if kind in SECTION_ROLE:
        if kind == "related" and OURS.search(text):
            return METHOD
        return SECTION_ROLE[kind]
    if kind == "experiments":
        return RESULT if RESULT_CUE.search(text) else METHOD
    if kind == "conclusion":
        return LIMITATION if LIMITATION_CUE.search(text) else SIGNIFICANCE
    return cue_role(text, claimed=True)


def sentence_roles(sentences: list[tuple[str, str]]) -> list[str]:
    """The role of each (text, section kind) of a paper, in the paper's order.

    Abstract and introduction are read in order; other sections by their kind and cues.
    """
    roles = [""] * len(sentences)
    for kind in ("abstract", "intro"):
        where = [i for i, (_, k) in enumerate(sentences) if k == kind]
        for i, role in zip(where, ordered_roles([sentences[i][0] for i in where]), strict=True):
            roles[i] = role
    for i, (text, kind) in enumerate(sentences):
        if not roles[i]:
            roles[i] = section_role(text, kind)
    return roles
