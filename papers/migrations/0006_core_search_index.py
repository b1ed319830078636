"""Search over the PDF's body and segmented Chinese: SQLite gets an FTS5 table, and every stored
paper is indexed again in the new form (PostgreSQL's weighted vector, or the FTS5 rows)."""

from django.db import migrations

FTS5_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS paper_search USING fts5("
    "title, authors, abstract, summaries, body, tokenize='porter unicode61 remove_diacritics 2')"
)


def create_and_fill(apps, schema_editor):
    from papers.search import summary_text, write_index

    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(FTS5_TABLE)
    Paper = apps.get_model("papers", "Paper")
    Summary = apps.get_model("papers", "Summary")
    summaries: dict[int, list[str]] = {}
    for summary in Summary.objects.iterator():
        summaries.setdefault(summary.paper_id, []).append(summary_text(summary))
    papers = Paper.objects.values_list("pk", "title", "authors_text", "abstract", "full_text")
    for pk, title, authors, abstract, body in papers.iterator():
        write_index(pk, title, authors, abstract, " ".join(summaries.get(pk, [])), body)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS paper_search")


class Migration(migrations.Migration):
    dependencies = [("papers", "0005_stable_task_names")]

    operations = [migrations.RunPython(create_and_fill, drop)]
