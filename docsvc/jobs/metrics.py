"""The queue in /metrics: depth, task durations and outcomes.

Workers may run on other machines, so they record into Redis and the web process reads
Redis when Prometheus scrapes: one collector, registered on the app's registry.
"""
from __future__ import annotations

import logging

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from .queue import QUEUE

BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
log = logging.getLogger("docsvc.jobs")


class QueueCollector(Collector):
    def __init__(self, store):
        self.store = store

    def collect(self):
        try:
            depth = self.store.queue_depth(QUEUE)
            outcomes, seconds = self.store.metrics()
        except Exception:  # noqa: BLE001 - Redis down must not break /metrics for the rest
            log.warning("job queue metrics unavailable: Redis did not answer")
            return
        gauge = GaugeMetricFamily("docsvc_queue_depth", "Tasks waiting in the job queue", labels=["queue"])
        gauge.add_metric([QUEUE], depth)
        yield gauge
        counter = CounterMetricFamily("docsvc_job_tasks", "Job tasks finished, by task and outcome "
                                      "(issued, refused, failed, retried)", labels=["task", "outcome"])
        for field, value in sorted(outcomes.items()):
            task, outcome = field.split("|", 1)
            counter.add_metric([task, outcome], float(value))
        yield counter
        histogram = HistogramMetricFamily("docsvc_job_task_seconds", "Job task duration", labels=["task"])
        for task in sorted({f.split("|", 1)[0] for f in seconds}):
            cumulative = [(str(float(b)), float(seconds.get(f"{task}|{b}", 0))) for b in BUCKETS]
            count = float(seconds.get(f"{task}|count", 0))
            histogram.add_metric([task], cumulative + [("+Inf", count)], float(seconds.get(f"{task}|sum", 0)))
        yield histogram

    def describe(self):
        return []
