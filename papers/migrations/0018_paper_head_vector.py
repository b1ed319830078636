"""Search ranks a bounded set of candidates on a small vector of each paper's head (title, authors,
abstract, summaries) while matching on the whole text: the new column gets a GIN index on
PostgreSQL, and every stored paper is indexed again in the new form."""

import django.contrib.postgres.search
from django.db import migrations


def index_and_fill(apps, schema_editor):
    from papers.search import summary_text, write_index

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS paper_head_gin ON papers_paper USING gin (head_vector)"
        )
    Paper = apps.get_model("papers", "Paper")
    Summary = apps.get_model("papers", "Summary")
    summaries: dict[int, list[str]] = {}
    for summary in Summary.objects.iterator():
        summaries.setdefault(summary.paper_id, []).append(summary_text(summary))
    papers = Paper.objects.values_list("pk", "title", "authors_text", "abstract", "full_text")
    for pk, title, authors, abstract, body in papers.iterator():
        write_index(pk, title, authors, abstract, " ".join(summaries.get(pk, [])), body)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS paper_head_gin")


class Migration(migrations.Migration):
    dependencies = [("papers", "0017_pick_history")]

    operations = [
        migrations.AddField(
            model_name="paper",
            name="head_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(index_and_fill, drop_index),
    ]
