"""E-mail subscriptions: beat entries for weekly mails and for queued mails that are due (retries),
created once (editors may change or disable them afterwards); and the Editors group's rights to see
subscribers and sends, retry sends, re-enable or delete an address, and pause sending.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

WEEKLY = "Weekly digest mails"
QUEUED = "Queued digest mails"


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if not PeriodicTask.objects.filter(name=WEEKLY).exists():
        # Monday 07:00 UTC, for the ISO week that has just ended.
        monday, _ = CrontabSchedule.objects.get_or_create(
            minute="0",
            hour="7",
            day_of_week="1",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.create(
            name=WEEKLY,
            task="papers.mail_tasks.send_weekly_mails",
            crontab=monday,
            description="Queue and send the weekly subscribers' mails",
        )
    if not PeriodicTask.objects.filter(name=QUEUED).exists():
        every_ten, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
        PeriodicTask.objects.create(
            name=QUEUED,
            task="papers.mail_tasks.send_queued_mails",
            interval=every_ten,
            description="Send queued digest mails that are due, retries included",
        )


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[WEEKLY, QUEUED]).delete()


EDITOR_PERMISSIONS = [
    "view_subscriber",
    "change_subscriber",
    "delete_subscriber",
    "view_subscription",
    "view_mailsend",
    "change_mailsend",
    "view_mailsettings",
    "change_mailsettings",
]


def grant_editors(apps, schema_editor):
    # Permissions are normally made after migrations; the group needs them now.
    app_config = apps.get_app_config("papers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Editors").first()
    if group is not None:
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="papers", codename__in=EDITOR_PERMISSIONS
            )
        )


def revoke_editors(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Editors").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="papers", codename__in=EDITOR_PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0003_paper_search_vector"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_schedules, remove_schedules),
        migrations.RunPython(grant_editors, revoke_editors),
    ]
