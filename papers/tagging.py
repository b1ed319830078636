"""The tag vocabulary applied to Tag rows: which tags a paper gets, and editors' merges and blocks.

Names are cleaned and folded by papers/vocabulary.py; a name whose key is already a tag's takes
that tag, an alias leads to the tag it was merged into, and a blocked tag is left out. Editors
merge, rename and block through these functions (the admin calls them), so the pipeline honours
their decisions on every later fetch.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F

from papers import vocabulary
from papers.content import bump_content_version
from papers.models import Subscription, Tag, TaggedPaper

KEYWORD_TAGS = 5  # keyword tags per paper: a few to browse by, not every phrase found
# Tags are for browsing: a longer name is a phrase, not a tag, and is left out (never cut).
MAX_TAG_LENGTH = 50


def tag_name(name: str, kind: str) -> str | None:
    """The name a tag of this kind is stored under, or None when it makes no tag."""
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_TAG_LENGTH:
        return None
    if kind == Tag.Kind.CATEGORY:
        return vocabulary.category_name(name)
    if kind == Tag.Kind.KEYWORD:
        return vocabulary.keyword_name(name)
    return name


def keyword_names(keywords: Iterable[str], limit: int = KEYWORD_TAGS) -> list[str]:
    """The keywords that make tags, one per folded spelling, at most `limit`."""
    chosen: dict[str, str] = {}
    for keyword in keywords:
        name = vocabulary.keyword_name(keyword)
        if name and vocabulary.fold(name) not in chosen:
            chosen[vocabulary.fold(name)] = name
    return list(chosen.values())[:limit]


def resolve(tag: Tag | None) -> Tag | None:
    """The tag a name stands for after editors' merges; None when that tag is blocked."""
    seen = set()
    while tag is not None and tag.merged_into_id and tag.pk not in seen:
        seen.add(tag.pk)
        tag = tag.merged_into
    if tag is None or tag.blocked:
        return None
    return tag


def find_tag(name: str) -> Tag | None:
    """The tag stored under any spelling of `name`: the tag itself before an alias, oldest first."""
    return (
        Tag.objects.filter(key=vocabulary.fold(name))
        .select_related("merged_into")
        .order_by(F("merged_into").asc(nulls_first=True), "pk")
        .first()
    )


def find_tags(keys: Iterable[str]) -> dict[str, Tag]:
    """`find_tag` for many folded keys in one query: key -> the tag stored under it."""
    found: dict[str, Tag] = {}
    tags = (
        Tag.objects.filter(key__in=set(keys))
        .select_related("merged_into")
        .order_by(F("merged_into").asc(nulls_first=True), "pk")
    )
    for tag in tags:
        found.setdefault(tag.key, tag)
    return found


def get_or_create_tag(name: str, kind: str) -> Tag:
    tag = find_tag(name)
    if tag is None:
        try:
            with transaction.atomic():
                tag = Tag.objects.create(name=name[:100], kind=kind)
        except IntegrityError:  # made at the same moment by another worker
            tag = find_tag(name) or Tag.objects.get(name__iexact=name[:100])
    return tag


def tags_for(names: Iterable[str], kind: str) -> list[Tag]:
    """The tags to give a paper for these names, with merges and blocks applied, once each."""
    return tags_for_names((name, kind) for name in names)


def tags_for_names(names: Iterable[tuple[str, str]]) -> list[Tag]:
    """`tags_for` for (name, kind) pairs of several kinds, with one query for the tags that exist."""
    wanted = [
        (name, kind, vocabulary.fold(name)) for raw, kind in names if (name := tag_name(raw, kind))
    ]
    known = find_tags(key for _, _, key in wanted)
    tags: list[Tag] = []
    for name, kind, key in wanted:
        if key not in known:
            known[key] = get_or_create_tag(name, kind)
        tag = resolve(known[key])
        if tag is not None and tag not in tags:
            tags.append(tag)
    return tags


@transaction.atomic
def merge_tags(sources: Iterable[Tag], target: Tag) -> int:
    """Move papers and followers of `sources` to `target`; the sources stay as its aliases.

    Returns how many tags were merged.
    """
    target = resolve(target) or target
    merged = 0
    for source in sources:
        if source.pk == target.pk:
            continue
        have = TaggedPaper.objects.filter(tag=target).values("content_object_id")
        TaggedPaper.objects.filter(tag=source).exclude(content_object_id__in=have).update(
            tag=target
        )
        TaggedPaper.objects.filter(tag=source).delete()
        followed = Subscription.objects.filter(tag=target).values("subscriber_id")
        Subscription.objects.filter(tag=source).exclude(subscriber_id__in=followed).update(
            tag=target
        )
        Subscription.objects.filter(tag=source).delete()
        Tag.objects.filter(merged_into=source).update(merged_into=target)
        source.merged_into = target
        source.blocked = False
        source.save(update_fields=["merged_into", "blocked"])
        merged += 1
    bump_content_version()  # the moves above were queryset updates, which send no signals
    return merged


@transaction.atomic
def rename_tag(tag: Tag, new_name: str) -> Tag:
    """Give `tag` a new name and slug; the old ones stay as an alias that leads to it.

    When another tag already has the new name, `tag` is merged into that one instead.
    """
    new_name = " ".join(new_name.split())[:100]
    existing = Tag.objects.filter(name__iexact=new_name).exclude(pk=tag.pk).first()
    if existing is not None:
        merge_tags([tag], existing)
        return resolve(existing) or existing
    old_name, old_slug = Tag.objects.values_list("name", "slug").get(pk=tag.pk)
    if old_name == new_name:
        return tag
    tag.name = new_name
    tag.slug = ""
    tag.slug = tag.slugify(new_name)
    if Tag.objects.filter(slug=tag.slug).exclude(pk=tag.pk).exists():
        tag.slug = tag.slugify(new_name, i=tag.pk)
    tag.save()
    if old_slug != tag.slug:
        Tag.objects.create(name=old_name, slug=old_slug, kind=tag.kind, merged_into=tag)
    return tag


@transaction.atomic
def block_tags(tags: Iterable[Tag]) -> int:
    """Take these tags off every paper and keep the pipeline from giving them again."""
    pks = [tag.pk for tag in tags]
    TaggedPaper.objects.filter(tag_id__in=pks).delete()
    count = Tag.objects.filter(pk__in=pks).update(blocked=True)
    bump_content_version()
    return count


def unblock_tags(tags: Iterable[Tag]) -> int:
    count = Tag.objects.filter(pk__in=[tag.pk for tag in tags]).update(blocked=False)
    bump_content_version()
    return count
