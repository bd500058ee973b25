"""Loaded by a `docsvc worker` started with this folder on PYTHONPATH (tests/e2e/test_batches.py):
kills redis-server (SIGKILL, its pid in KILL_REDIS_PID) just before the body of the batch
task for document KILL_REDIS_AT_INDEX, once (KILL_REDIS_MARKER), where Celery's own writes
to Redis around a task's body happen: a Redis restart at the worst moment, made certain."""
import os
import signal

if os.environ.get("KILL_REDIS_PID"):
    from celery.signals import task_prerun

    @task_prerun.connect
    def _kill_redis(task=None, args=None, **_):
        marker = os.environ["KILL_REDIS_MARKER"]
        if task is None or task.name != "docsvc.batch_document" or not args or os.path.exists(marker):
            return
        if int(args[1]) == int(os.environ["KILL_REDIS_AT_INDEX"]):
            open(marker, "w").close()
            os.kill(int(os.environ["KILL_REDIS_PID"]), signal.SIGKILL)
