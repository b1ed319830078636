"""Digests: a topic's papers of one announcement day, in order, and their history."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from papers.models.figures import Figure
from papers.models.papers import Paper
from papers.models.topics import Status, Topic


class DigestQuerySet(models.QuerySet):
    def published(self) -> "DigestQuerySet":
        return self.filter(status=Status.PUBLISHED)

    def newest_first(self) -> "DigestQuerySet":
        return self.order_by("-date", "topic__name")


class DigestHistory(models.Model):
    """What a digest's history record adds to its fields: its papers, in order (arXiv ids), and
    the editors' picks among them ({arXiv id: reason})."""

    paper_order = models.JSONField(default=list, blank=True)
    picks = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


@dataclass
class Arrangement:
    """What `Digest.arrange` changed: papers added, moved and removed (paper ids)."""

    added: set[int] = field(default_factory=set)
    moved: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.moved or self.removed)


class Digest(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="digests")
    date = models.DateField(help_text=_("arXiv's announcement date"))
    title = models.CharField(max_length=300, blank=True)
    intro = models.TextField(blank=True)
    cover = models.ForeignKey(
        Figure, null=True, blank=True, on_delete=models.SET_NULL, related_name="cover_of"
    )
    papers = models.ManyToManyField(Paper, through="DigestEntry", related_name="digests")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DigestQuerySet.as_manager()
    # Each record also carries the digest's papers in order (filled by `record_paper_order`).
    history = HistoricalRecords(bases=[DigestHistory])

    class Meta:
        ordering = ["-date", "topic__name"]
        constraints = [models.UniqueConstraint(fields=["topic", "date"], name="unique_topic_date")]
        indexes = [models.Index(fields=["status", "-date"], name="digest_status_date")]

    def __str__(self) -> str:
        return self.display_title

    def save(self, *args, **kwargs) -> None:
        if self.status == Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("papers:digest_detail", args=[self.topic.slug, self.date.isoformat()])

    @property
    def display_title(self) -> str:
        return self.title or f"{self.topic.name} {self.date.isoformat()}"

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    # Papers and their order. The one position rule: positions are 0, 1, 2... in reading order.

    def paper_ids_in_order(self) -> list[int]:
        return list(self.entries.order_by("position", "id").values_list("paper_id", flat=True))

    def arrange(
        self,
        paper_ids: list[int],
        *,
        drop_others: bool = False,
        kinds: dict[int, str] | None = None,
    ) -> Arrangement:
        """Put these papers in this order, first; the digest's other papers follow as they were
        (or leave the digest with `drop_others`). A change saves the digest, so that its history
        records the new order."""
        wanted = list(dict.fromkeys(paper_ids))
        entries = {e.paper_id: e for e in self.entries.order_by("position", "id")}
        others = [pk for pk in entries if pk not in set(wanted)]
        result = Arrangement()
        if drop_others and others:
            self.entries.filter(paper_id__in=others).delete()
            result.removed = set(others)
            others = []
        changed = []
        for position, paper_id in enumerate(wanted + others):
            entry = entries.get(paper_id)
            if entry is None:
                DigestEntry.objects.create(
                    digest=self,
                    paper_id=paper_id,
                    position=position,
                    kind=(kinds or {}).get(paper_id, DigestEntry.Kind.NEW),
                )
                result.added.add(paper_id)
            elif entry.position != position:
                entry.position = position
                changed.append(entry)
                result.moved.add(paper_id)
        DigestEntry.objects.bulk_update(changed, ["position"])
        if result.added and self.is_published:  # a published digest shows all its papers
            for paper in Paper.objects.filter(pk__in=result.added).exclude(
                status__in=[Status.PUBLISHED, Status.HIDDEN]
            ):
                paper.set_status(Status.PUBLISHED)
        if result.changed:
            self.save()
        return result

    def add_papers(
        self, papers: Iterable[Paper], kinds: dict[int, str] | None = None
    ) -> list[Paper]:
        """Append these papers at the end, in order, once each; returns those that were new.
        `kinds` maps a paper's pk to how it came into the topic (DigestEntry.Kind, default new)."""
        current = self.paper_ids_in_order()
        papers = list(papers)
        added = self.arrange(current + [p.pk for p in papers], kinds=kinds).added
        return [p for p in papers if p.pk in added]

    def renumber(self) -> None:
        """Positions back to 0, 1, 2... in the present order (after an editor typed positions)."""
        self.arrange(self.paper_ids_in_order())

    # Publication: the one place a digest's status changes, taking its papers along.

    def set_status(self, status: str) -> None:
        was_published = Digest.objects.filter(pk=self.pk, status=Status.PUBLISHED).exists()
        if status == Status.PUBLISHED:
            self.publish()
        elif was_published:
            self.withdraw(status)
        else:
            self.status = status
            self.save()

    def publish(self) -> None:
        """Publish the digest and its papers (hidden papers stay hidden)."""
        self.status = Status.PUBLISHED
        self.save()
        for paper in self.papers.exclude(status__in=[Status.PUBLISHED, Status.HIDDEN]):
            paper.set_status(Status.PUBLISHED)

    def withdraw(self, status: str = Status.REVIEW) -> None:
        """Take the digest off the site, with its papers that no other published digest shows."""
        self.status = status
        self.published_at = None
        self.save()
        shown_elsewhere = DigestEntry.objects.filter(digest__status=Status.PUBLISHED).exclude(
            digest=self
        )
        for paper in self.papers.filter(status=Status.PUBLISHED).exclude(
            pk__in=shown_elsewhere.values("paper_id")
        ):
            paper.set_status(Status.REVIEW)

    def restore(self, record) -> None:
        """Go back to a historical record: fields, cover, papers and order, and status through
        the publication rules (papers follow a digest that is published or withdrawn)."""
        for name in ("title", "intro", "date"):
            setattr(self, name, getattr(record, name))
        self.cover = Figure.objects.filter(pk=record.cover_id).first()
        by_arxiv_id = dict(
            Paper.objects.filter(arxiv_id__in=record.paper_order).values_list("arxiv_id", "pk")
        )
        order = [by_arxiv_id[i] for i in record.paper_order if i in by_arxiv_id]
        if record.status == Status.PUBLISHED:  # its papers published with it
            self.arrange(order, drop_others=True)
            self.restore_picks(record.picks)
            self.set_status(record.status)
        else:  # its present papers withdrawn with it
            self.set_status(record.status)
            self.arrange(order, drop_others=True)
            self.restore_picks(record.picks)
            self.save()

    def restore_picks(self, picks: dict[str, str]) -> None:
        """The editors' picks as a history record had them ({arXiv id: reason})."""
        entries = list(self.entries.select_related("paper"))
        for entry in entries:
            entry.pick_reason = (picks or {}).get(entry.paper.arxiv_id, "")
        DigestEntry.objects.bulk_update(entries, ["pick_reason"])

    def kind_counts(self, entries=None) -> dict[str, int]:
        """How many of the entries (default: all, prefetched when present) are new papers,
        cross-lists and new versions."""
        counts = dict.fromkeys(DigestEntry.Kind.values, 0)
        for entry in self.entries.all() if entries is None else entries:
            counts[entry.kind] += 1
        return counts


def record_paper_order(sender, instance: Digest, history_instance, **kwargs) -> None:
    """pre_create_historical_record receiver: a digest's record carries its papers in order and
    the editors' picks among them."""
    rows = instance.entries.order_by("position", "id").values_list("paper__arxiv_id", "pick_reason")
    history_instance.paper_order = [arxiv_id for arxiv_id, _reason in rows]
    history_instance.picks = {arxiv_id: reason for arxiv_id, reason in rows if reason}


class DigestEntry(models.Model):
    class Kind(models.TextChoices):
        """How the paper came into the topic, as arXiv's listings say it."""

        NEW = "new", _("New")
        CROSS = "cross", _("Cross-listed")
        REPLACEMENT = "replacement", _("New version")

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="entries")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="digest_entries")
    position = models.PositiveIntegerField(default=0)
    pick_reason = models.CharField(
        _("editors' pick"),
        max_length=200,
        blank=True,
        help_text=_("A one-line reason makes this paper an editors' pick of the digest"),
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.NEW)

    class Meta:
        ordering = ["digest", "position", "id"]
        verbose_name_plural = "digest entries"
        constraints = [
            models.UniqueConstraint(fields=["digest", "paper"], name="unique_digest_paper")
        ]

    def __str__(self) -> str:
        return f"{self.digest} #{self.position}: {self.paper.arxiv_id}"

    @property
    def is_pick(self) -> bool:
        return bool(self.pick_reason.strip())
