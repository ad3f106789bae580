"""Metrics: pure functions of predictions and gold references, and the registry every other layer reads.

Conventions shared by the classification, tagging, QA and retrieval metrics:
- Every score is a fraction in [0, 1] (QA included, unlike the official SQuAD / MLQA scripts, which print
  percentages), so all metrics of a study are on one scale.
- Empty input (no items, no sentences, no tokens, no questions) raises ValueError: a metric of nothing is
  undefined and in practice means an upstream bug (a wrong language or split filter). This differs from
  the correlations (spearman, pearson), which return nan for degenerate-but-nonempty input.
- Inputs whose lengths disagree raise ValueError rather than being truncated.

This package imports only `xlt.core` and `xlt.data`, so that tasks can check their metric against it.
"""

from xlt.metrics.registry import METRICS, MetricSpec, get_metric, metrics_for

__all__ = ["METRICS", "MetricSpec", "get_metric", "metrics_for"]
