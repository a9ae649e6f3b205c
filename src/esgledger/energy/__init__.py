"""Data-centre energy intelligence (issue 14): meters, KPIs, baselines, what-if, proposals.

数据中心能源智能：计量、指标、基线、情景模拟与减排建议。
"""
