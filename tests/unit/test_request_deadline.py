"""docsvc.serving.RequestDeadline on a plain WSGI app (no server): a request past the
deadline is answered 503 problem+json with Retry-After while the application finishes;
each request is its own run; DOCSVC_REQUEST_TIMEOUT stays below gunicorn's worker timeout."""
from __future__ import annotations

import io
import json
import threading
import time

import pytest

from docsvc.serving import RequestDeadline
from docsvc.settings import WORKER_TIMEOUT, Settings, SettingsError


class SlowApp:
    """Answers 201 with the body it read, after `seconds`; counts its runs and the ends."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.runs = 0
        self.finished = threading.Event()

    def __call__(self, environ, start_response):
        self.runs += 1
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        time.sleep(self.seconds)
        start_response("201 Created", [("Content-Type", "application/json")])
        self.finished.set()
        return [b'{"read": ' + json.dumps(body.decode()).encode() + b"}"]


def request(app, path="/v1/documents", body=b'{"number": "F-1"}', token="Bearer a"):
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body), "HTTP_AUTHORIZATION": token, "CONTENT_TYPE": "application/json"}
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)
    answer["body"] = b"".join(app(environ, start_response))
    return answer


def test_a_quick_request_passes_through():
    app = SlowApp(0)
    answer = request(RequestDeadline(app, 5))
    assert answer["status"] == "201 Created" and json.loads(answer["body"]) == {"read": '{"number": "F-1"}'}


def test_a_slow_request_gets_503_problem_json_and_the_work_goes_on():
    app = SlowApp(1.0)
    started = time.monotonic()
    answer = request(RequestDeadline(app, 0.2, retry_after=3))
    assert time.monotonic() - started < 0.9  # answered at the deadline, not at the end
    assert answer["status"] == "503 Service Unavailable"
    assert answer["headers"]["Content-Type"] == "application/problem+json"
    assert answer["headers"]["Retry-After"] == "3" and answer["headers"]["Connection"] == "close"
    problem = json.loads(answer["body"])
    assert problem["status"] == 503 and "DOCSVC_REQUEST_TIMEOUT" in problem["detail"]
    assert app.finished.wait(5)  # the application was not interrupted: an issue completes


class GatedApp(SlowApp):
    """Answers once the test opens the gate."""

    def __init__(self):
        super().__init__(0)
        self.gate = threading.Event()

    def __call__(self, environ, start_response):
        self.gate.wait(10)
        return super().__call__(environ, start_response)


def test_a_retry_after_a_503_runs_again_and_the_abandoned_run_completes():
    """Each request is its own run: two identical POST /v1/documents answer as the API says
    (201 then 200, decided by the archive), never one shared answer twice."""
    app = GatedApp()
    deadline = RequestDeadline(app, 0.5)
    assert request(deadline)["status"].startswith("503")  # the first run waits at the gate
    app.gate.set()
    again = request(deadline)  # the retry: a run of its own
    assert again["status"] == "201 Created" and json.loads(again["body"]) == {"read": '{"number": "F-1"}'}
    assert deadline.wait(5) == 0  # the abandoned run finished too
    assert app.runs == 2


@pytest.mark.parametrize("value", ["0", str(WORKER_TIMEOUT), "abc"])
def test_the_request_timeout_stays_below_the_worker_timeout(value):
    with pytest.raises(SettingsError, match="DOCSVC_REQUEST_TIMEOUT"):
        Settings.from_env({"DOCSVC_REQUEST_TIMEOUT": value})
    assert Settings.from_env({"DOCSVC_REQUEST_TIMEOUT": str(WORKER_TIMEOUT - 1)}).request_timeout == WORKER_TIMEOUT - 1
    assert Settings.from_env({}).request_timeout < WORKER_TIMEOUT
