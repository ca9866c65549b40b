"""Percentiles and summaries over latency samples."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel


class Summary(BaseModel):
    n: int
    p50: float
    p95: float
    p99: float
    mean: float
    max: float


def summarize(samples: list[float]) -> Summary:
    if not samples:
        return Summary(n=0, p50=0.0, p95=0.0, p99=0.0, mean=0.0, max=0.0)
    a = np.asarray(samples, dtype=float)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return Summary(
        n=len(a),
        p50=float(p50),
        p95=float(p95),
        p99=float(p99),
        mean=float(a.mean()),
        max=float(a.max()),
    )
