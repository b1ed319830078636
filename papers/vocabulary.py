"""The words of the tag vocabulary: what a tag may be called and which spellings are one tag.

Plain text rules, no database: arXiv categories get their human names, keywords must be noun
phrases (no LaTeX, markup, numbers or fragments cut at a stop word), and `fold` gives every spelling
of one tag the same key ("Blinks", "blink"; "Real-Time", "real time"). papers/tagging.py applies
them to the Tag rows.
"""

from __future__ import annotations

import html
import re

# arXiv's category taxonomy (https://arxiv.org/category_taxonomy).
ARXIV_CATEGORIES = {
    "astro-ph": "Astrophysics",
    "astro-ph.CO": "Cosmology and Nongalactic Astrophysics",
    "astro-ph.EP": "Earth and Planetary Astrophysics",
    "astro-ph.GA": "Astrophysics of Galaxies",
    "astro-ph.HE": "High Energy Astrophysical Phenomena",
    "astro-ph.IM": "Instrumentation and Methods for Astrophysics",
    "astro-ph.SR": "Solar and Stellar Astrophysics",
    "cond-mat.dis-nn": "Disordered Systems and Neural Networks",
    "cond-mat.mes-hall": "Mesoscale and Nanoscale Physics",
    "cond-mat.mtrl-sci": "Materials Science",
    "cond-mat.other": "Other Condensed Matter",
    "cond-mat.quant-gas": "Quantum Gases",
    "cond-mat.soft": "Soft Condensed Matter",
    "cond-mat.stat-mech": "Statistical Mechanics",
    "cond-mat.str-el": "Strongly Correlated Electrons",
    "cond-mat.supr-con": "Superconductivity",
    "cs.AI": "Artificial Intelligence",
    "cs.AR": "Hardware Architecture",
    "cs.CC": "Computational Complexity",
    "cs.CE": "Computational Engineering, Finance, and Science",
    "cs.CG": "Computational Geometry",
    "cs.CL": "Computation and Language",
    "cs.CR": "Cryptography and Security",
    "cs.CV": "Computer Vision and Pattern Recognition",
    "cs.CY": "Computers and Society",
    "cs.DB": "Databases",
    "cs.DC": "Distributed, Parallel, and Cluster Computing",
    "cs.DL": "Digital Libraries",
    "cs.DM": "Discrete Mathematics",
    "cs.DS": "Data Structures and Algorithms",
    "cs.ET": "Emerging Technologies",
    "cs.FL": "Formal Languages and Automata Theory",
    "cs.GL": "General Literature",
    "cs.GR": "Graphics",
    "cs.GT": "Computer Science and Game Theory",
    "cs.HC": "Human-Computer Interaction",
    "cs.IR": "Information Retrieval",
    "cs.IT": "Information Theory",
    "cs.LG": "Machine Learning",
    "cs.LO": "Logic in Computer Science",
    "cs.MA": "Multiagent Systems",
    "cs.MM": "Multimedia",
    "cs.MS": "Mathematical Software",
    "cs.NA": "Numerical Analysis",
    "cs.NE": "Neural and Evolutionary Computing",
    "cs.NI": "Networking and Internet Architecture",
    "cs.OH": "Other Computer Science",
    "cs.OS": "Operating Systems",
    "cs.PF": "Performance",
    "cs.PL": "Programming Languages",
    "cs.RO": "Robotics",
    "cs.SC": "Symbolic Computation",
    "cs.SD": "Sound",
    "cs.SE": "Software Engineering",
    "cs.SI": "Social and Information Networks",
    "cs.SY": "Systems and Control",
    "econ.EM": "Econometrics",
    "econ.GN": "General Economics",
    "econ.TH": "Theoretical Economics",
    "eess.AS": "Audio and Speech Processing",
    "eess.IV": "Image and Video Processing",
    "eess.SP": "Signal Processing",
    "eess.SY": "Systems and Control",
    "gr-qc": "General Relativity and Quantum Cosmology",
    "hep-ex": "High Energy Physics - Experiment",
    "hep-lat": "High Energy Physics - Lattice",
    "hep-ph": "High Energy Physics - Phenomenology",
    "hep-th": "High Energy Physics - Theory",
    "math-ph": "Mathematical Physics",
    "math.AC": "Commutative Algebra",
    "math.AG": "Algebraic Geometry",
    "math.AP": "Analysis of PDEs",
    "math.AT": "Algebraic Topology",
    "math.CA": "Classical Analysis and ODEs",
    "math.CO": "Combinatorics",
    "math.CT": "Category Theory",
    "math.CV": "Complex Variables",
    "math.DG": "Differential Geometry",
    "math.DS": "Dynamical Systems",
    "math.FA": "Functional Analysis",
    "math.GM": "General Mathematics",
    "math.GN": "General Topology",
    "math.GR": "Group Theory",
    "math.GT": "Geometric Topology",
    "math.HO": "History and Overview",
    "math.IT": "Information Theory",
    "math.KT": "K-Theory and Homology",
    "math.LO": "Logic",
    "math.MG": "Metric Geometry",
    "math.MP": "Mathematical Physics",
    "math.NA": "Numerical Analysis",
    "math.NT": "Number Theory",
    "math.OA": "Operator Algebras",
    "math.OC": "Optimization and Control",
    "math.PR": "Probability",
    "math.QA": "Quantum Algebra",
    "math.RA": "Rings and Algebras",
    "math.RT": "Representation Theory",
    "math.SG": "Symplectic Geometry",
    "math.SP": "Spectral Theory",
    "math.ST": "Statistics Theory",
    "nlin.AO": "Adaptation and Self-Organizing Systems",
    "nlin.CD": "Chaotic Dynamics",
    "nlin.CG": "Cellular Automata and Lattice Gases",
    "nlin.PS": "Pattern Formation and Solitons",
    "nlin.SI": "Exactly Solvable and Integrable Systems",
    "nucl-ex": "Nuclear Experiment",
    "nucl-th": "Nuclear Theory",
    "physics.acc-ph": "Accelerator Physics",
    "physics.ao-ph": "Atmospheric and Oceanic Physics",
    "physics.app-ph": "Applied Physics",
    "physics.atm-clus": "Atomic and Molecular Clusters",
    "physics.atom-ph": "Atomic Physics",
    "physics.bio-ph": "Biological Physics",
    "physics.chem-ph": "Chemical Physics",
    "physics.class-ph": "Classical Physics",
    "physics.comp-ph": "Computational Physics",
    "physics.data-an": "Data Analysis, Statistics and Probability",
    "physics.ed-ph": "Physics Education",
    "physics.flu-dyn": "Fluid Dynamics",
    "physics.gen-ph": "General Physics",
    "physics.geo-ph": "Geophysics",
    "physics.hist-ph": "History and Philosophy of Physics",
    "physics.ins-det": "Instrumentation and Detectors",
    "physics.med-ph": "Medical Physics",
    "physics.optics": "Optics",
    "physics.plasm-ph": "Plasma Physics",
    "physics.pop-ph": "Popular Physics",
    "physics.soc-ph": "Physics and Society",
    "physics.space-ph": "Space Physics",
    "q-bio.BM": "Biomolecules",
    "q-bio.CB": "Cell Behavior",
    "q-bio.GN": "Genomics",
    "q-bio.MN": "Molecular Networks",
    "q-bio.NC": "Neurons and Cognition",
    "q-bio.OT": "Other Quantitative Biology",
    "q-bio.PE": "Populations and Evolution",
    "q-bio.QM": "Quantitative Methods",
    "q-bio.SC": "Subcellular Processes",
    "q-bio.TO": "Tissues and Organs",
    "q-fin.CP": "Computational Finance",
    "q-fin.EC": "Economics",
    "q-fin.GN": "General Finance",
    "q-fin.MF": "Mathematical Finance",
    "q-fin.PM": "Portfolio Management",
    "q-fin.PR": "Pricing of Securities",
    "q-fin.RM": "Risk Management",
    "q-fin.ST": "Statistical Finance",
    "q-fin.TR": "Trading and Market Microstructure",
    "quant-ph": "Quantum Physics",
    "stat.AP": "Applications",
    "stat.CO": "Computation",
    "stat.ME": "Methodology",
    "stat.ML": "Machine Learning",
    "stat.OT": "Other Statistics",
    "stat.TH": "Statistics Theory",
}
_CATEGORY_BY_FOLD = {code.casefold(): code for code in ARXIV_CATEGORIES}
_NAMED_CATEGORY = re.compile(r"^.+ \((?P<code>[a-z-]+(?:\.[A-Za-z-]+)?)\)$")

MAX_KEYWORD_WORDS = 4
MAX_KEYWORD_CJK = 12

# Words that never begin or end a keyword, nor stand inside one (except "of" and "and").
STOP_WORDS = set(
    """a about above across after again against all along also although am among an and any are
    as at be because been before being below between both but by can could did do does doing done
    down during each either else etc even ever every few for from further had has have having he
    her here hers him his how however i if in into is it its itself just least less may me might
    more most much must my near neither no nor not now of off on once one only onto or other our
    ours out over own per same several she should since so some such than that the their theirs
    them then there these they this those though through thus to too toward towards under unless
    until up upon us very via was we were what when where whether which while who whom whose why
    will with within without would yet you your""".split()
)
INNER_WORDS = {"of", "and"}
# Verbs that turn a phrase into a clause fragment ("generation must align", "motion drives").
VERBS = set(
    """achieve achieves align aligns allow allows apply applies become becomes bring brings build
    builds capture captures cause causes create creates drive drives enable enables ensure ensures
    evaluate evaluating fail fails find finds focus focuses generate generates give gives help
    helps improve improves include includes introduce introduces keep keeps lack lacks lead leads
    learn learns leverage leverages make makes misused move moves need needs obtain obtains offer offers
    outperform outperforms perform performs produce produces propose proposes provide provides
    reach reaches reduce reduces remain remains render renders require requires run runs see seem
    seems show shows solve solves struggle struggles suffer suffers take takes turn turns use uses
    yield yields""".split()
)
# A phrase that starts so speaks of some paper, not of a subject ("prior work controls").
OPENERS = {"prior", "previous", "existing", "recent", "current", "proposed", "novel", "new"}
# A single word with these endings is an adjective, no subject ("realistic", "editable").
ADJECTIVE_ENDINGS = ("istic", "ive", "ous", "able", "ible", "ful", "less")
# Modifiers that leave a phrase hanging when they end it ("audio-driven talking").
DANGLING = {"talking", "driven", "based", "aware", "guided", "conditioned", "free", "specific"}
# Too broad to browse by: a single word of these is no tag.
GENERIC = set(
    """3d 2d 4d algorithm analysis approach automation body cue data dataset deep dense dynamic
    editable efficient experiment face fast framework frame generation head image language latency
    learning lip method metric metrics model network novel offline optimization paper performance person
    personal pose rendering result shape sparse study system talking task technique video vision
    wild work 生成 动态 视频 图像 可编辑 自适应 自动化 交互性 模型 方法 深度学习 机器学习 人工智能
    计算机视觉 神经网络 人工神经网络 深度学习模型 优化 算法 数据 基准测试""".split()
) | {
    "ablation study",
    "ablation experiment",
    "artificial intelligence",
    "computer vision",
    "deep learning",
    "human evaluation",
    "machine learning",
    "neural network",
    "user study",
}
LATEX_WORDS = set(
    """mathcal mathbf mathrm mathbb mathit mathsf mathscr mathfrak boldsymbol textbf textit
    textrm texttt textsc emph frac dfrac tfrac cdot cdots ldots times leq geq sqrt infty partial
    nabla hat tilde vec operatorname href url cite citep citet eqref ref label begin end left right
    hline""".split()
)
# Proper names keep their capital when a Title Case phrase is lowered.
PROPER = set(
    """Gaussian Gaussians Wasserstein Brownian Bayesian Markov Fourier Laplacian Hessian Boltzmann
    Poisson Morton Platonic Lie Euler Monte Carlo Transformer Transformers""".split()
)
# Chinese filler a language model wrote where it had no keyword.
ZH_PLACEHOLDER = re.compile(r"由于|没有|缺失|未给出|无法|暂无|此部分|信息不足|不详")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_MARKUP = re.compile(r"<[^>]*>|\*\*|__|`|^#+\s*")
_GLOSS = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")
# LaTeX and markup characters; a slash joins two keywords in one ("blur/deformation").
_LATEX_OR_MARKUP = re.compile(r"[\\$^_{}<>|=~#*\[\]@/]")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)*%?$")
_EDGE = " \t.,;:!?-–—'\"“”‘’·、，。；：！？"
# Words ending in -ly that are nouns.
_LY_NOUNS = {"anomaly", "family", "assembly", "supply", "poly", "reply", "butterfly", "monopoly"}


def category_name(code: str) -> str:
    """ "cs.CV" -> "Computer Vision and Pattern Recognition (cs.CV)"; unknown codes stay as they are."""
    code = code.strip()
    known = _CATEGORY_BY_FOLD.get(code.casefold())
    return f"{ARXIV_CATEGORIES[known]} ({known})" if known else code


def category_code(name: str) -> str | None:
    """The arXiv category a tag name stands for: "cs.CV" or "Computer Vision ... (cs.CV)"."""
    name = name.strip()
    named = _NAMED_CATEGORY.match(name)
    if named:
        name = named.group("code")
    return _CATEGORY_BY_FOLD.get(name.casefold())


def is_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def singular(word: str) -> str:
    """English plural to singular, for folding only ("blinks" -> "blink", "studies" -> "study")."""
    if len(word) <= 3 or not word.isalpha() or word.endswith(("ss", "us", "is", "ics", "ous")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def fold(name: str) -> str:
    """The key shared by every spelling of one tag: case, hyphens, plurals and a gloss folded."""
    code = category_code(name)
    if code:
        return code.casefold()
    text = _GLOSS.sub("", name).casefold() or name.casefold()
    if is_cjk(text):
        return re.sub(r"\s+", "", text)
    words = re.sub(r"[-_/]+", " ", text).split()
    if words:
        words[-1] = singular(words[-1])
    return " ".join(words)


def _lower_title_case(phrase: str) -> str:
    """ "Real-Time Face Reenactment" -> "real-time face reenactment"; NeRF, 3DGS and names stay."""
    words = []
    for word in phrase.split():
        parts = word.split("-")
        if (
            all(re.fullmatch(r"[A-Z][a-z]+|[a-z]+|\d*[a-z]*", p) for p in parts)
            and word not in PROPER
        ):
            word = "-".join(p if p in PROPER else p.lower() for p in parts)
        words.append(word)
    return " ".join(words)


def keyword_name(phrase: str) -> str | None:
    """A keyword as a tag name, or None when it is no noun phrase a reader would browse by."""
    text = html.unescape(phrase or "")
    text = _MARKUP.sub("", text)
    text = _GLOSS.sub("", text) or text
    text = " ".join(text.split()).strip(_EDGE)
    if is_cjk(text):
        text = text.removesuffix("等").strip(_EDGE)
    if not text or _LATEX_OR_MARKUP.search(text):
        return None
    if is_cjk(text):
        cjk = len(_CJK.findall(text))
        if cjk > MAX_KEYWORD_CJK or ZH_PLACEHOLDER.search(text) or re.search(r"[，。；、]", text):
            return None
        return None if fold(text) in GENERIC else text
    words = text.split()
    lowered = [w.casefold().strip("'’") for w in words]
    if not 1 <= len(words) <= MAX_KEYWORD_WORDS or not re.search(r"[A-Za-z]{2}", text):
        return None
    # A number may end a name ("Mip-NeRF 360"), never lead or make a tag ("49 hours", "2024").
    if lowered[0] in STOP_WORDS or lowered[-1] in STOP_WORDS or _NUMBER.match(lowered[0]):
        return None
    if len(words) > 1 and lowered[-1] in DANGLING or lowered[0] in OPENERS:
        return None
    if len(words) == 1 and lowered[0].endswith(ADJECTIVE_ENDINGS):
        return None
    for word in lowered:
        if word in STOP_WORDS and word not in INNER_WORDS:
            return None
        if word in VERBS or word in LATEX_WORDS:
            return None
        if len(word) == 1 and word.isalpha():
            return None
        if word.endswith("ly") and len(word) > 4 and word not in _LY_NOUNS:
            return None
    if fold(text) in GENERIC:
        return None
    return _lower_title_case(text)
