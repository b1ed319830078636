"""Markdown digests in the legacy blog's layout, and the repair of their broken encodings.

- `parse`: a post's text -> `Post` and `PostPaper` dataclasses. Pure: no Django models, no
  database; it may import only `mojibake` and `papers.arxiv_ids`.
- `mojibake`: repair of UTF-8 once decoded as a Windows code page, reporting the spots it is
  unsure of. Pure, like `parse`.
- `chinese_model`: the word models of Chinese, built from jieba's data, the People's Daily tag
  counts (`word_tags.txt`, `tag_bigrams.txt`) and `research_words.txt`. Pure.
- `chinese`: chooses the lost characters `mojibake` asks about, with those models and rules of
  grammar beyond the next word. Pure.
- `importer`: stores a parsed post (topic, papers, summaries, figures, tags, digest); uncertain
  repairs become warnings on the summaries.
- `export`: writes a digest as a post that reads back through the importer.

Who may import what: the admin, management commands, tools and tests use this package; nothing
in the package imports views, the admin, tasks or the pipeline, and `parse`, `mojibake`,
`chinese` and `chinese_model` never import `papers.models`.
"""
