"""The e2e mark is enforced (tests/conftest.py): a test that starts a server without it fails."""
import subprocess

import pytest

from tests.conftest import server_started_by

MISSING = "/nonexistent/bin/docsvc"  # were the check absent, Popen would raise FileNotFoundError


@pytest.mark.parametrize("args, started", [
    (["/work/.venv/bin/docsvc", "serve", "--port", "8000"], "docsvc serve"),
    (("docsvc", "worker", "--concurrency", "1"), "docsvc worker"),
    (["/usr/bin/redis-server", "--port", "6390"], "redis-server"),
    ("redis-server --port 6390", "redis-server"),
    (["docsvc", "keys", "list"], None),
    (["docsvc"], None),
    (["pdftotext", "-", "-"], None),
    ([], None),
])
def test_what_counts_as_starting_a_server(args, started):
    assert server_started_by(args) == started


def test_an_unmarked_test_starting_docsvc_serve_fails():
    with pytest.raises(pytest.fail.Exception, match="test_an_unmarked_test_starting_docsvc_serve_fails starts "
                                                    "docsvc serve but is not marked e2e"):
        subprocess.Popen([MISSING, "serve"])
    with pytest.raises(pytest.fail.Exception, match="starts redis-server"):
        subprocess.run(["/nonexistent/bin/redis-server"])


def test_other_commands_are_left_alone():
    with pytest.raises(FileNotFoundError):
        subprocess.run([MISSING, "keys", "list"])


@pytest.mark.e2e
def test_a_marked_test_may_start_one():
    with pytest.raises(FileNotFoundError):  # the check let it through: nothing there to start
        subprocess.Popen([MISSING, "serve"])
