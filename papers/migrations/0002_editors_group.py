"""The Editors group: may change papers, summaries, figures, digests and topics; not users."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITABLE = {
    "papers": [
        "topic",
        "paper",
        "summary",
        "figure",
        "digest",
        "digestentry",
        "topicpaper",
        "tag",
        "taggedpaper",
        "errorreport",
    ],
    "django_celery_beat": ["periodictask", "crontabschedule", "intervalschedule"],
}
VIEW_ONLY = {"papers": ["pipelinerun", "historicalpaper", "historicalsummary", "historicaldigest"]}


def create_editors(apps, schema_editor):
    # Permissions are normally made after migrations; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Editors")
    wanted = []
    for app_label, models in EDITABLE.items():
        for model in models:
            for action in ("add", "change", "delete", "view"):
                wanted.append((app_label, f"{action}_{model}"))
    for app_label, models in VIEW_ONLY.items():
        wanted += [(app_label, f"view_{model}") for model in models]
    for app_label, codename in wanted:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            group.permissions.add(permission)


def remove_editors(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Editors").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_editors, remove_editors)]
