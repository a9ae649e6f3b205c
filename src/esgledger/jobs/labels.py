"""Bilingual names of job statuses and stages, as the API and pages show them.

作业状态与阶段的中英文名称。
"""

from __future__ import annotations

__all__ = ["STAGE_LABELS", "STATUS_LABELS", "label"]

#: Status → (English, Simplified Chinese).
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "queued": ("queued", "排队中"),
    "running": ("running", "运行中"),
    "succeeded": ("succeeded", "已完成"),
    "failed": ("failed", "失败"),
    "cancelled": ("cancelled", "已取消"),
}

#: Stage → (English, Simplified Chinese). Handlers report these through their progress
#: callback (``esgledger.jobs.handlers``); the pool adds ``released`` and ``requeued``.
STAGE_LABELS: dict[str, tuple[str, str]] = {
    "starting": ("starting", "启动中"),
    "reading": ("reading", "读取数据"),
    "resolving factors": ("resolving factors", "匹配排放因子"),
    "writing line items": ("writing line items", "写入明细行"),
    "summary": ("summary", "汇总"),
    "registering": ("registering", "登记计算结果"),
    "importing": ("validating and importing", "校验并导入"),
    "assembling": ("assembling", "编制报告"),
    "writing files": ("writing files", "写入文件"),
    "done": ("done", "完成"),
    "cancelled": ("cancelled", "已取消"),
    "released": ("released at shutdown", "服务停止时退回队列"),
    "requeued": ("requeued after its worker stopped", "工作进程中断后重新排队"),
}


def label(table: dict[str, tuple[str, str]], key: str | None) -> dict[str, str] | None:
    """``{"en": ..., "zh-CN": ...}`` for ``key`` (the key itself for both when unknown)."""
    if key is None:
        return None
    en, zh = table.get(key, (key, key))
    return {"en": en, "zh-CN": zh}
