from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "papers"
    verbose_name = "Papers and digests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete
        from simple_history.signals import pre_create_historical_record

        from papers import schedules
        from papers.models import Digest, Topic, record_paper_order
        from papers.public import caching as signals
        from papers.subscriptions import tasks as mail_tasks

        signals.connect()
        mail_tasks.connect()
        post_delete.connect(schedules.remove_topic_schedule, sender=Topic)
        pre_create_historical_record.connect(record_paper_order, sender=Digest.history.model)
