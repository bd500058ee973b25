"""The job queue's settings: typed, defaults as documented, and a visibility timeout that
can't redeliver a task still running."""
import pytest

from docsvc.app import create_app
from docsvc.jobs.queue import celery_config
from docsvc.settings import Settings, SettingsError


def test_defaults():
    settings = Settings.from_env({})
    assert (settings.batch_max_documents, settings.async_lines, settings.print_expiry_days) == (1000, 500, 30)
    assert settings.task_soft_time_limit < settings.task_time_limit < settings.queue_visibility_timeout


def test_the_celery_settings_that_make_a_lost_worker_harmless():
    settings = Settings.from_env({"DOCSVC_REDIS_URL": "redis://127.0.0.1:6390/0", "DOCSVC_TASK_SOFT_TIME_LIMIT": "50",
                                  "DOCSVC_TASK_TIME_LIMIT": "60", "DOCSVC_QUEUE_VISIBILITY_TIMEOUT": "90",
                                  "DOCSVC_WORKER_MAX_TASKS": "7"})
    config = celery_config(settings)
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1 and config["worker_max_tasks_per_child"] == 7
    assert (config["task_soft_time_limit"], config["task_time_limit"]) == (50, 60)
    assert config["broker_transport_options"]["visibility_timeout"] == 90
    assert config["broker_url"] == config["result_backend"] == "redis://127.0.0.1:6390/0"
    # nothing is written to Redis before a task's body (a Redis restart there failed the task
    # unrun, then acknowledged it); what is written after it waits for Redis to come back
    assert config["task_track_started"] is False
    assert config["result_backend_always_retry"] and config["result_backend_max_retries"] == 20


@pytest.mark.parametrize("env, named", [
    ({"DOCSVC_TASK_TIME_LIMIT": "4000"}, "DOCSVC_QUEUE_VISIBILITY_TIMEOUT (3600) must hold"),
    ({"DOCSVC_TASK_SOFT_TIME_LIMIT": "400"}, "DOCSVC_TASK_SOFT_TIME_LIMIT (400) < DOCSVC_TASK_TIME_LIMIT (360)"),
    ({"DOCSVC_BATCH_MAX_DOCUMENTS": "0"}, "DOCSVC_BATCH_MAX_DOCUMENTS: expected an integer from 1"),
    ({"DOCSVC_ASYNC_LINES": "many"}, "DOCSVC_ASYNC_LINES: expected an integer"),
    ({"DOCSVC_PRINT_EXPIRY_DAYS": "-1"}, "DOCSVC_PRINT_EXPIRY_DAYS: expected an integer"),
])
def test_bad_job_settings_stop_start_up_naming_them(env, named):
    with pytest.raises(SettingsError, match=named.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


def test_without_redis_batches_say_what_is_missing_and_big_documents_stay_synchronous(tmp_path):
    app = create_app(Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{tmp_path}", "DOCSVC_AUTH": "disabled",
                                        "DOCSVC_ASYNC_LINES": "1"}))
    client = app.test_client()
    response = client.post("/v1/batches", json={"documents": [{}]})
    assert response.status_code == 503 and "DOCSVC_REDIS_URL" in response.get_json()["detail"]
    assert response.content_type == "application/problem+json"
    assert client.get("/v1/jobs/" + "0" * 32).status_code == 503
    # two lines, above DOCSVC_ASYNC_LINES=1, but no queue: validated and answered at once
    response = client.post("/v1/documents", json={"type": "invoice", "lines": [{}, {}]})
    assert response.status_code == 422
