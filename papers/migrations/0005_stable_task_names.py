"""Stored schedules name tasks by their pinned names, not by the module that once held them."""

from django.db import migrations

RENAMED = {
    "papers.tasks.fetch_topic": "papers.fetch_topic",
    "papers.tasks.process_paper": "papers.process_paper",
    "papers.tasks.retry_failed_papers": "papers.retry_failed_papers",
    "papers.mail_tasks.send_weekly_mails": "papers.send_weekly_mails",
    "papers.mail_tasks.send_queued_mails": "papers.send_queued_mails",
}


def rename(apps, schema_editor, names=RENAMED):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in names.items():
        PeriodicTask.objects.filter(task=old).update(task=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0004_mail_schedules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]
