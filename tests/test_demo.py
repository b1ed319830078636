from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from papers.models import Digest, Figure, Paper, PipelineRun, Status, Summary, Tag, Topic

pytestmark = pytest.mark.django_db


def row_counts() -> tuple[int, ...]:
    models = (Topic, Paper, Summary, Figure, Digest, PipelineRun)
    return tuple(model.objects.count() for model in models)


def test_load_demo_makes_a_browsable_site_once(client):
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "Demo editor" in out.getvalue() and "password" in out.getvalue()
    counts = row_counts()
    assert counts[:2] == (1, 12) and counts[2] >= 12 and counts[3] >= 12 and counts[4] == 2
    assert set(Digest.objects.values_list("status", flat=True)) == {Status.PUBLISHED}
    assert Tag.objects.filter(kind=Tag.Kind.CATEGORY).exists()
    editor = get_user_model().objects.get(username="editor")
    assert editor.is_staff and editor.groups.filter(name="Editors").exists()

    call_command("load_demo", stdout=StringIO())
    assert row_counts() == counts

    digest = Digest.objects.order_by("date").first()
    for url in ["/", "/papers/", "/tags/", digest.get_absolute_url(), "/feed/"]:
        assert client.get(url).status_code == 200, url
    figure = Figure.objects.first()
    assert client.get(figure.url).status_code == 200  # CC BY: shown
