"""The short form of `make chaos`: every fault survived, nothing answered 500, escaped, lost,
duplicated or stuck."""

import io
import re

import pytest

from tools.chaos.campaign import run_campaign
from tools.chaos.hostile import hostile_values

SUMMARY = re.compile(
    r"faults survived (\d+)/\1, 500s 0/\d+, unescaped 0/\d+, lost 0, duplicated 0, stuck 0"
)


def test_hostile_values_are_generated_and_repeatable():
    values = hostile_values(40, seed=1)
    assert len(values) == 40 and values == hostile_values(40, seed=1)
    assert any("\x00" in v for v in values) and any("<script>" in v for v in values)


@pytest.mark.django_db
def test_the_short_campaign_survives_every_fault():
    out = io.StringIO()
    tally = run_campaign(quick=True, out=out)
    assert tally.outcomes and tally.requests and tally.checks
    assert SUMMARY.fullmatch(tally.summary()), tally.table()
