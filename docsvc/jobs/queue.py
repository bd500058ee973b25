"""Celery wired the way Flask's "Background Tasks with Celery" pattern does it: one Celery
app per Flask app, tasks run inside the app context, the same Settings for web and worker.

The settings that make a task safe to lose a worker over: the message is acknowledged only
after the task ran (acks_late), and handed back if the worker child dies
(task_reject_on_worker_lost); Redis redelivers an unacknowledged message after its
visibility timeout, which Settings keeps above the hard time limit so a task still running
is never given to a second worker; each worker reserves one message at a time.
"""
from __future__ import annotations

from celery import Celery, Task
from flask import Flask

QUEUE = "docsvc"


def celery_config(settings) -> dict:
    visibility = settings.queue_visibility_timeout
    transport = {"visibility_timeout": visibility,
                 # sweep for abandoned messages often enough that a dead worker's task comes back
                 # about one visibility timeout after it was taken, not minutes later
                 "unacked_restore_interval": max(1, min(10, visibility // 5)), "unacked_restore_throttle": 1,
                 "socket_connect_timeout": 5, "socket_timeout": 30}
    return {
        "broker_url": settings.redis_url,
        "result_backend": settings.redis_url,
        "broker_transport_options": transport,
        "result_backend_transport_options": {"socket_connect_timeout": 5, "socket_timeout": 30},
        "broker_connection_retry_on_startup": True,
        "task_default_queue": QUEUE,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # Celery's own task states are never read (JobStore keeps each outcome). Tracking
        # "started" wrote to Redis before the task's body: a Redis restart at that moment
        # failed the task outside its body, and acks_late then acknowledged a document
        # that was never issued (its batch stayed "running")
        "task_track_started": False,
        # the result written after the body waits for Redis to come back, as JobStore does
        "result_backend_always_retry": True,
        "result_backend_max_retries": 20,
        "result_backend_max_sleep_between_retries_ms": 2000,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.task_soft_time_limit,
        "task_time_limit": settings.task_time_limit,
        "worker_max_tasks_per_child": settings.worker_max_tasks,
        "result_expires": settings.print_expiry_days * 86_400,
        "worker_hijack_root_logger": False,  # keep docsvc's JSON log lines
        "worker_redirect_stdouts": False,
    }


def celery_init_app(app: Flask, settings) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_config(settings))
    celery_app.set_default()
    from . import tasks  # noqa: F401 - registers the @shared_task functions on this app

    app.extensions["celery"] = celery_app
    return celery_app
