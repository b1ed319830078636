import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from papers.demo import load_demo

DEMO_EDITOR = "editor"


class Command(BaseCommand):
    help = "Load the offline demo (no network) and create the demo editor account."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-editor", action="store_true", help="do not create or reset the demo editor"
        )

    def handle(self, no_editor=False, **options):
        created = load_demo()
        self.stdout.write(
            "Demo: {papers} new papers, {figures} new figures, {digests} new digests.".format(
                **created
            )
        )
        if no_editor:
            return
        # A fresh password each time: the demo account never keeps a guessable one.
        password = secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(username=DEMO_EDITOR)
        user.is_staff = True
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name="Editors"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo editor: log in at http://127.0.0.1:8000/admin/ as "
                f"{DEMO_EDITOR!r} with password {password!r}"
            )
        )
