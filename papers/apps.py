from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "papers"
    verbose_name = "Papers and digests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from papers import receivers

        receivers.connect()
