"""The four anomaly layers as pure functions over tables (``docs/energy/anomalies.md``).

异常检测的四个层级：基于数据表的纯函数。

``base`` (settings, detections, hourly matrix, daily site features), ``rules`` (layer 1),
``residual`` (layer 2), ``iforest`` (layer 3), ``cusum`` (layer 4), ``alerts`` (merging,
pricing, :func:`~esgledger.energy.detectors.alerts.analyse`).
"""
