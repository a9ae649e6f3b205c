"""The task state machine: every (status, action) pair, legal or not."""

from __future__ import annotations

import pytest

from esgledger.collection import tasks
from esgledger.errors import ConflictError, InputError

LEGAL = {
    ("open", "submit"): "submitted",
    ("submitted", "submit"): "submitted",
    ("returned", "submit"): "submitted",
    ("submitted", "start_review"): "in_review",
    ("in_review", "return"): "returned",
    ("in_review", "approve"): "approved",
    ("approved", "reopen"): "in_review",
}
PAIRS = [(status, action) for status in tasks.STATUSES for action in tasks.ACTIONS]


@pytest.mark.parametrize(("status", "action"), PAIRS)
def test_every_pair_is_legal_exactly_when_listed(status: str, action: str) -> None:
    expected = LEGAL.get((status, action))
    if expected is None:
        with pytest.raises(ConflictError) as info:
            tasks.next_status(status, action, task_id=7, reason="why")
        message = str(info.value)
        assert "task 7" in message
        assert "任务 7" in message
        assert tasks.STATUS_NAMES[status][0] in message
        assert tasks.STATUS_NAMES[status][1] in message
    else:
        assert tasks.next_status(status, action, reason="why") == expected


def test_the_refusal_names_what_fits_now() -> None:
    with pytest.raises(ConflictError, match=r"what fits now: reopen"):
        tasks.next_status("approved", "submit", task_id=1)
    with pytest.raises(ConflictError, match=r"当前可执行：退回、批准"):
        tasks.next_status("in_review", "submit", task_id=1)


@pytest.mark.parametrize(("status", "action"), [("in_review", "return"), ("approved", "reopen")])
def test_return_and_reopen_need_a_reason(status: str, action: str) -> None:
    with pytest.raises(InputError, match="give a reason"):
        tasks.next_status(status, action, reason="  ")


def test_allowed_actions_and_bilingual_names() -> None:
    assert tasks.allowed_actions("open") == ("submit",)
    assert tasks.allowed_actions("in_review") == ("return", "approve")
    assert tasks.status_name("in_review") == "in review"
    assert tasks.status_name("in_review", "zh-CN") == "审核中"
    assert set(tasks.STATUS_NAMES) == set(tasks.STATUSES)


def test_unknown_status_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown"):
        tasks.next_status("lost", "submit")
