"""Data-centre energy intelligence: meters and telemetry, ISO/IEC 30134 KPIs, baselines,
forecasts, anomalies, what-if simulation and reduction proposals.

数据中心能源智能：计量表与遥测数据、ISO/IEC 30134 指标、基线、预测、异常检测、情景模拟与减排建议。

The core (this package's ``roles``, ``findings``, ``periods``, ``meters``, ``readings`` and
``rollups``) turns imported meter readings into intervals and rollups in DuckDB over the lake;
the analysis modules read those tables. ``docs/energy/`` describes each part.
"""
