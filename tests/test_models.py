import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from papers.models import Digest, Paper, Status, Summary, Tag, split_arxiv_id
from papers.schedules import ensure_topic_schedule
from tests.factories import make_digest, make_paper, make_summary, make_topic

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2410.07757", ("2410.07757", None)),
        ("2410.07757v3", ("2410.07757", 3)),
        ("1605.08386", ("1605.08386", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("math.CO/0601001v2", ("math.CO/0601001", 2)),
        ("http://arxiv.org/abs/2410.07757v1", ("2410.07757", 1)),
        ("arXiv:2410.07757", ("2410.07757", None)),
    ],
)
def test_split_arxiv_id(value, expected):
    assert split_arxiv_id(value) == expected


@pytest.mark.parametrize("value", ["", "abc", "2410.077", "../etc/passwd", "2410.07757v"])
def test_split_arxiv_id_rejects_other_text(value):
    with pytest.raises(ValueError):
        split_arxiv_id(value)


def test_arxiv_id_is_unique():
    make_paper("2410.07757")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_paper("2410.07757")


def test_one_summary_per_paper_and_language():
    paper = make_paper()
    make_summary(paper, "en")
    make_summary(paper, "zh")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_summary(paper, "en")


def test_one_digest_per_topic_and_date():
    topic = make_topic()
    make_digest(topic, date=dt.date(2024, 10, 12))
    with pytest.raises(IntegrityError), transaction.atomic():
        make_digest(topic, date=dt.date(2024, 10, 12))


def test_chinese_tags_keep_unique_non_empty_slugs():
    paper = make_paper()
    paper.tags.add("说话人头像生成", "医学图像", "+++", "C++", "c#")
    slugs = list(Tag.objects.values_list("slug", flat=True))
    assert all(slugs) and len(set(slugs)) == len(slugs) == 5
    assert Tag.objects.get(name="说话人头像生成").slug == "说话人头像生成"


def test_tags_are_case_insensitive():
    paper = make_paper()
    paper.tags.add("Diffusion")
    paper.tags.add("diffusion")
    assert Tag.objects.count() == 1


def test_unicode_topic_slug():
    topic = make_topic("元宇宙/虚拟人")
    assert topic.slug and "/" not in topic.slug


def test_a_paper_can_belong_to_several_topics():
    first, second = make_topic(), make_topic()
    paper = make_paper(topic=first)
    paper.topics.add(second)
    assert set(paper.topics.all()) == {first, second}


def test_summary_for_prefers_the_language_and_falls_back():
    paper = make_paper()
    english = make_summary(paper, "en")
    assert paper.summary_for("zh") == english
    chinese = make_summary(paper, "zh")
    assert Paper.objects.prefetch_related("summaries").get().summary_for("zh") == chinese


def test_publishing_a_digest_publishes_its_papers_and_unpublishing_takes_them_back():
    topic = make_topic()
    draft = make_paper(status=Status.DRAFT)
    hidden = make_paper(status=Status.HIDDEN)
    shared = make_paper(status=Status.PUBLISHED)
    other = make_digest(make_topic(), [shared], date=dt.date(2024, 1, 1))
    digest = make_digest(topic, [draft, hidden, shared], status=Status.DRAFT)

    digest.publish()
    statuses = dict(Paper.objects.values_list("pk", "status"))
    assert statuses[draft.pk] == Status.PUBLISHED
    assert statuses[hidden.pk] == Status.HIDDEN
    assert Digest.objects.get(pk=digest.pk).published_at is not None

    digest.withdraw()
    statuses = dict(Paper.objects.values_list("pk", "status"))
    assert statuses[draft.pk] == Status.REVIEW
    assert statuses[shared.pk] == Status.PUBLISHED  # still in another published digest
    assert other.status == Status.PUBLISHED


def test_lock_records_who_and_when(django_user_model):
    editor = django_user_model.objects.create_user("ed", password="x")
    summary = make_summary(make_paper())
    summary.lock(editor)
    summary.save()
    summary = Summary.objects.get()
    assert summary.locked and summary.locked_by == editor and summary.locked_at


def test_each_topic_gets_an_editable_daily_schedule():
    topic = make_topic()
    ensure_topic_schedule(topic)
    task = PeriodicTask.objects.get(task="papers.fetch_topic")
    assert task.enabled and task.crontab.hour == "20" and task.crontab.day_of_week == "0-4"
    assert str(task.crontab.timezone) == "America/New_York"
    task.crontab = CrontabSchedule.objects.create(
        minute="0", hour="22", day_of_week="*", timezone="America/New_York"
    )
    task.save()

    topic.active = False
    topic.save()
    ensure_topic_schedule(topic)
    task.refresh_from_db()
    assert not task.enabled  # follows the topic, keeps the editor's other changes
    assert task.crontab.hour == "22"
    assert PeriodicTask.objects.filter(task="papers.fetch_topic").count() == 1
    assert PeriodicTask.objects.filter(task="papers.retry_failed_papers").exists()


def test_a_deleted_topic_takes_its_schedule_along():
    topic = make_topic("Gone")
    ensure_topic_schedule(topic)
    topic.delete()
    assert not PeriodicTask.objects.filter(task="papers.fetch_topic").exists()
    ensure_topic_schedule(make_topic("Gone"))
    assert PeriodicTask.objects.filter(task="papers.fetch_topic").count() == 1


def test_postgres_search_uses_an_indexed_vector_that_follows_summaries(postgres):
    from django.db import connection

    from papers.search import index_papers
    from papers.selectors import search_papers

    paper = make_paper(title="Gaussian heads", abstract="We render heads quickly.")
    index_papers([paper.pk])
    assert list(search_papers(Paper.objects.all(), "rendering")) == [paper]  # stemmed
    assert not search_papers(Paper.objects.all(), "lipreading").exists()
    make_summary(paper, keywords=["lipreading"])
    index_papers([paper.pk])
    assert list(search_papers(Paper.objects.all(), "lipreading")) == [paper]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'paper_search_gin'")
        assert "gin" in cursor.fetchone()[0]
