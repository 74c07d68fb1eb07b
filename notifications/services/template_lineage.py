"""A TTS template's lineage: the versions "Copy as new" made from one another, and what each version's calls did.

A family is the root (a template copied from nothing) and every copy of it, copies of copies included, found by
following `copied_from` up and then down in one recursive query, so the page costs the same number of queries
whatever the family's size. Calls are counted in one grouped query over the family's ids; callrecord_template_state_idx
(tts_template, status, outcome) covers it, so the database reads the index alone, never the call table's rows
(225,000 calls: 53 ms on SQLite, 42-53 ms on PostgreSQL; through callrecord_template_idx, which reads every call's row,
450 ms and 130-140 ms).
"""
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.db.models.expressions import RawSQL

from notifications.models import CallRecord, ReviewStatus, TtsTemplate
from notifications.services.stats import ANSWERED

# The columns the lineage table shows; the content and the rest stay in the database.
_SHOWN = ("id", "name", "tts_code", "status", "reviewed_at", "created_at", "copied_from_id")


@dataclass(frozen=True)
class LineageVersion:
    """One version of a template family and the figures of the calls that used it."""

    template: TtsTemplate
    generation: int  # 0 for the root, 1 for its copies, 2 for theirs...
    parent: TtsTemplate | None
    calls: int
    final_calls: int
    answered: int

    @property
    def answer_rate(self) -> float | None:
        """Answered calls among the calls with a final outcome, as the campaign report counts it; None without any."""
        return self.answered / self.final_calls if self.final_calls else None

    @property
    def approved_at(self) -> datetime | None:
        """When the provider's approval was recorded; an approved template never changes, so its decision stays current."""
        return self.template.reviewed_at if self.template.status == ReviewStatus.APPROVED else None


def _family_sql() -> str:
    table = TtsTemplate._meta.db_table
    parent = TtsTemplate._meta.get_field("copied_from").column
    # UNION, not UNION ALL: a row met twice is dropped, so even a loop of links (which no page can make) ends.
    return (
        f"WITH RECURSIVE up(id, parent) AS ("
        f" SELECT id, {parent} FROM {table} WHERE id = %s"
        f" UNION SELECT t.id, t.{parent} FROM {table} t JOIN up ON t.id = up.parent),"
        f" family(id) AS ("
        f" SELECT id FROM up WHERE parent IS NULL"
        f" UNION SELECT t.id FROM {table} t JOIN family ON t.{parent} = family.id)"
        f" SELECT id FROM family"
    )


def tts_template_family(template: TtsTemplate) -> list[TtsTemplate]:
    """Every version of the template's family (root first, then in creation order), in one query; just the template
    when it was never copied and is a copy of nothing."""
    family = list(
        TtsTemplate.objects.filter(pk__in=RawSQL(_family_sql(), [template.pk])).only(*_SHOWN).order_by("created_at", "id")
    )
    return family or [template]


def tts_template_call_figures(template_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per template: calls, calls with a final outcome, and answered calls among those, from one grouped query."""
    final = Q(status__in=CallRecord.FINAL_STATUSES)
    # Counting `status` (never null), not `id`: PostgreSQL then needs no column outside the index.
    groups = (
        CallRecord.objects.filter(tts_template_id__in=template_ids).order_by().values("tts_template_id").annotate(
            calls=Count("status"), final_calls=Count("status", filter=final),
            answered=Count("status", filter=final & Q(outcome__in=ANSWERED)),
        )
    )
    return {group.pop("tts_template_id"): group for group in groups}


def tts_template_lineage(template: TtsTemplate) -> list[LineageVersion]:
    """The template's family with each version's call figures, in two queries whatever the family's size."""
    family = tts_template_family(template)
    by_id = {version.pk: version for version in family}
    figures = tts_template_call_figures(list(by_id))
    generations: dict[int, int] = {}

    def generation(version: TtsTemplate) -> int:
        # Parents are created before their copies, so creation order meets every parent first.
        if version.pk not in generations:
            parent = by_id.get(version.copied_from_id)
            generations[version.pk] = 0 if parent is None or parent.pk == version.pk else generation(parent) + 1
        return generations[version.pk]

    none = {"calls": 0, "final_calls": 0, "answered": 0}
    return [
        LineageVersion(template=version, generation=generation(version), parent=by_id.get(version.copied_from_id),
                       **figures.get(version.pk, none))
        for version in family
    ]
