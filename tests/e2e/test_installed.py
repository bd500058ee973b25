"""The installed package is the tested package: a wheel built from this tree, installed in a
fresh virtualenv, served from an unrelated folder with the Dockerfile's environment (its
paths re-rooted under a temporary folder standing for the image's filesystem)."""
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

from docsvc.rendering.intake import pack
from tests.conftest import ROOT, load_fixture
from tests.e2e.conftest import ADMIN_TOKEN, call, free_port, stop_server
from tests.e2e.test_templates_api import CLASSIC, bundle_copy, edit
from tests.unit.test_deploy_files import dockerfile, image_env, image_paths, path_in


def run(argv, **kw):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, **kw)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


@pytest.mark.e2e
def test_the_installed_wheel_serves_with_the_images_environment(tmp_path):
    # the wheel is built from what the Dockerfile copies, and nothing else
    source = tmp_path / "src"
    source.mkdir()
    for instruction, args in dockerfile():
        if instruction == "COPY":
            for name in shlex.split(args)[:-1]:
                copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
                kw = {"ignore": shutil.ignore_patterns("__pycache__")} if (ROOT / name).is_dir() else {}
                copy(ROOT / name, source / name, **kw)
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)])
    wheel = next(wheels.glob("docsvc-*.whl"))
    shipped = [n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("docsvc/shipped/")]
    assert "docsvc/shipped/fixtures/invoice.json" in shipped
    assert "docsvc/shipped/templates/classic/1.0.0/template.toml" in shipped
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)])

    image = tmp_path / "image"  # the image's / for the paths the Dockerfile sets
    for path in image_paths():
        (image / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
    env = {}
    for name, value in image_env().items():
        path = path_in(value)
        env[name] = value.replace(path, str(image / path.lstrip("/"))) if path else value
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME", "TMPDIR")}
    where = run([str(venv / "bin" / "python"), "-c", "import docsvc; print(docsvc.__file__)"], cwd=elsewhere,
                env=clean)
    assert where.startswith(str(venv)), where  # the installed copy, not this source tree

    port = free_port()
    log = tmp_path / "serve.log"
    proc = subprocess.Popen([str(venv / "bin" / "docsvc"), "serve", "--port", str(port)], cwd=elsewhere,
                            env={**clean, **env, "DOCSVC_ADMIN_TOKEN": ADMIN_TOKEN, "DOCSVC_WORKERS": "2"},
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if call("GET", base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        status, _, body = call("POST", base + "/v1/documents", load_fixture("invoice"))
        assert status == 201, body
        doc = json.loads(body)
        assert doc["template"]["name"] == "classic"
        status, _, body = call("GET", base + "/v1/fixtures")
        fixtures = json.loads(body)["items"]
        assert status == 200 and {"invoice", "credit_note", "final_invoice"} <= set(fixtures)
        assert call("GET", base + "/v1/fixtures/invoice")[0] == 200
        status, _, body = call("POST", base + "/v1/templates/classic/1.0.0/preview?format=pdf",
                               {"fixture": "invoice"})
        assert status == 200 and body.startswith(b"%PDF-")

        folder = bundle_copy(tmp_path, "2.0.0", CLASSIC)
        edit(folder, "document.html", "{{ doc.number }}", "{{ doc.nonexistent.attr }}")
        status, headers, body = call("POST", base + "/v1/templates/classic/versions", headers={
            "Content-Type": "application/zip"}, raw=pack(folder))
        problem = json.loads(body)
        assert status == 422 and headers["Content-Type"] == "application/problem+json", problem
        assert any("nonexistent" in m for messages in problem["errors"].values() for m in messages), problem
        status, _, body = call("GET", base + "/v1/templates/classic")
        assert "2.0.0" not in [v["version"] for v in json.loads(body)["versions"]]
        credit_note = load_fixture("credit_note")
        credit_note["formats"] = ["pdf", "facturx"]  # the rules checked in a process the installed worker spawns
        status, _, body = call("POST", base + "/v1/documents", credit_note)
        assert status == 201, body  # issuing on the latest template still works
        assert [f["format"] for f in json.loads(body)["files"]] == ["pdf", "facturx", "xml"]

        status, _, body = call("GET", base + f"/v1/documents/{doc['id']}/verify")
        assert status == 200 and json.loads(body)["intact"] is True
    finally:
        stop_server(proc)
    assert list((image / "data" / "archive" / "documents").rglob("resource.json"))
    for line in log.read_text().splitlines():  # every line docsvc serve wrote is JSON
        json.loads(line)
