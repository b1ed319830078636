from django.db import migrations, models
import django.db.models.deletion


def fold_and_name(apps, schema_editor):
    """Fill the new keys; arXiv category tags take their human names (slugs stay)."""
    from papers import vocabulary

    Tag = apps.get_model("papers", "Tag")
    for tag in Tag.objects.all():
        if tag.kind == "category":
            tag.name = vocabulary.category_name(tag.name)
        tag.key = vocabulary.fold(tag.name)
        tag.save(update_fields=["name", "key"])


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0014_editors_corrections_history_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="tag",
            name="key",
            field=models.CharField(db_index=True, default="", editable=False, max_length=100),
        ),
        migrations.AddField(
            model_name="tag",
            name="blocked",
            field=models.BooleanField(
                default=False,
                help_text="Never given to a paper, not even by the pipeline.",
                verbose_name="blocked",
            ),
        ),
        migrations.AddField(
            model_name="tag",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="aliases",
                to="papers.tag",
                verbose_name="merged into",
            ),
        ),
        migrations.RunPython(fold_and_name, migrations.RunPython.noop),
    ]
