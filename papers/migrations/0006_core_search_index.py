"""Search over the PDF's body and segmented Chinese: SQLite gets an FTS5 table. Stored papers are
indexed again in the new form by 0018, which writes the columns the index has since then."""

from django.db import migrations

FTS5_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS paper_search USING fts5("
    "title, authors, abstract, summaries, body, tokenize='porter unicode61 remove_diacritics 2')"
)


def create_and_fill(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(FTS5_TABLE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS paper_search")


class Migration(migrations.Migration):
    dependencies = [("papers", "0005_stable_task_names")]

    operations = [migrations.RunPython(create_and_fill, drop)]
