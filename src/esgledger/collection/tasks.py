"""The life of a collection task: a pure state machine.

任务状态机：待填报 → 已提交 → 审核中 → 已批准 | 已退回 → 已提交 …

::

    open ──submit──▶ submitted ──start_review──▶ in_review ──approve──▶ approved
                      ▲   │ ▲                        │                    │
                      │   └─┘ submit (supersedes)    │ return (reason)    │ reopen (reason,
                      │                              ▼                    │  ESG office only)
                      └────────────submit────── returned                  ▼
                                                                       in_review

A submitted task may be submitted again before its review starts (the new batch supersedes
the old one). Returning and reopening need a reason. Who may take each action is the role
matrix's business (``access/roles.csv``: ``task:submit``, ``task:review``, ``task:approve``,
``task:reopen``); this module only knows which action fits which status.
"""

from __future__ import annotations

from typing import Final

from esgledger.errors import ConflictError, InputError, Issue

__all__ = [
    "ACTIONS",
    "STATUSES",
    "STATUS_NAMES",
    "TRANSITIONS",
    "allowed_actions",
    "next_status",
    "status_name",
]

#: Task statuses, in the order of the cycle.
STATUSES: Final = ("open", "submitted", "in_review", "returned", "approved")

#: Each status's name in English and Simplified Chinese.
STATUS_NAMES: Final[dict[str, tuple[str, str]]] = {
    "open": ("open", "待填报"),
    "submitted": ("submitted", "已提交"),
    "in_review": ("in review", "审核中"),
    "returned": ("returned", "已退回"),
    "approved": ("approved", "已批准"),
}

#: (action, from status) -> to status. Nothing else is allowed.
TRANSITIONS: Final[dict[tuple[str, str], str]] = {
    ("submit", "open"): "submitted",
    ("submit", "submitted"): "submitted",
    ("submit", "returned"): "submitted",
    ("start_review", "submitted"): "in_review",
    ("return", "in_review"): "returned",
    ("approve", "in_review"): "approved",
    ("reopen", "approved"): "in_review",
}

#: Actions, with their names in English and Simplified Chinese.
ACTIONS: Final[dict[str, tuple[str, str]]] = {
    "submit": ("submit", "提交"),
    "start_review": ("start the review of", "开始审核"),
    "return": ("return", "退回"),
    "approve": ("approve", "批准"),
    "reopen": ("reopen", "重新打开"),
}

#: Actions that need a reason.
NEEDS_REASON: Final = frozenset({"return", "reopen"})


def status_name(status: str, lang: str = "en") -> str:
    """``status`` in ``lang`` (``en`` or ``zh-CN``)."""
    en, zh = STATUS_NAMES[status]
    return zh if lang.startswith("zh") else en


def allowed_actions(status: str) -> tuple[str, ...]:
    """The actions that fit a task in ``status``, in :data:`ACTIONS` order."""
    return tuple(action for action in ACTIONS if (action, status) in TRANSITIONS)


def next_status(status: str, action: str, *, task_id: int | None = None, reason: str = "") -> str:
    """The status a task in ``status`` moves to when ``action`` is taken.

    Raises
    ------
    ConflictError
        When ``action`` does not fit ``status`` (the message, in English and Chinese, says
        what the task is and which actions fit it).
    InputError
        When a return or reopen has no reason.
    ValueError
        For an unknown status or action (a bug, not a user's mistake).
    """
    if status not in STATUS_NAMES or action not in ACTIONS:
        raise ValueError(f"unknown task status {status!r} or action {action!r}")
    task = "the task" if task_id is None else f"task {task_id}"
    task_zh = "该任务" if task_id is None else f"任务 {task_id} "
    found = TRANSITIONS.get((action, status))
    if found is None:
        fits = allowed_actions(status)
        hint = (
            f"what fits now: {', '.join(ACTIONS[a][0] for a in fits)}"
            if fits
            else "nothing can be done with it now"
        )
        hint_zh = (
            f"当前可执行：{'、'.join(ACTIONS[a][1] for a in fits)}" if fits else "当前无可执行操作"
        )
        raise ConflictError(
            f"cannot {ACTIONS[action][0]} {task}: it is {STATUS_NAMES[status][0]} ({hint}). / "
            f"无法{ACTIONS[action][1]}{task_zh}：状态为“{STATUS_NAMES[status][1]}”（{hint_zh}）。"
        )
    if action in NEEDS_REASON and not reason.strip():
        en, zh = ACTIONS[action]
        raise InputError(
            f"to {en} {task}, give a reason. / {zh}{task_zh}须填写原因。",
            [Issue("", None, "reason", reason, "a reason is required / 须填写原因")],
        )
    return found
