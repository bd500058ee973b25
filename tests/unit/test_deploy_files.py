"""The Dockerfile and compose.yaml are checked like code: every DOCSVC_* they set is a
setting docsvc knows (and accepts), every path they name exists in the image or the repo."""
import re
import shlex
from pathlib import Path

import yaml

from docsvc.cli import main
from docsvc.settings import KNOWN, Settings
from tests.conftest import ROOT


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in (ROOT / "Dockerfile").read_text().splitlines()
                                         if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines() if line.strip()]


def image_env() -> dict[str, str]:
    env = {}
    for instruction, args in dockerfile():
        if instruction == "ENV":
            env.update(dict(part.split("=", 1) for part in shlex.split(args)))
    return env


def image_paths() -> set[str]:
    """Folders the image has: WORKDIR, COPY targets, VOLUME, and what RUN creates with mkdir -p."""
    paths, workdir = set(), "/"
    for instruction, args in dockerfile():
        if instruction == "WORKDIR":
            workdir = args.strip()
            paths.add(workdir)
        elif instruction == "COPY":
            target = shlex.split(args)[-1]
            paths.add(target if target.startswith("/") else str(Path(workdir) / target))
        elif instruction == "VOLUME":
            paths.update(shlex.split(args))
        elif instruction == "RUN":
            for command in re.split(r"&&|;", args):
                words = shlex.split(command)
                if words[:2] == ["mkdir", "-p"]:
                    paths.update(w for w in words[2:] if w.startswith("/"))
    return paths


def path_in(value: str) -> str | None:
    if value.startswith("file://"):
        return value[len("file://"):]
    return value if value.startswith("/") else None


def test_the_dockerfile_sets_only_known_settings_and_existing_paths():
    env = image_env()
    assert env, "the image sets its environment"
    assert {k for k in env if k.startswith("DOCSVC_")} <= KNOWN
    Settings.from_env({k: v for k, v in env.items() if k != "DOCSVC_ARCHIVE_URL"})  # values accepted
    assert Settings.from_env({"DOCSVC_ARCHIVE_URL": env["DOCSVC_ARCHIVE_URL"]}).archive_path == Path("/data/archive")
    paths = image_paths()
    for name, value in env.items():
        path = path_in(value)
        assert path is None or path in paths, f"{name}={value}: the image never creates {path}"
    copied = [shlex.split(args)[:-1] for instruction, args in dockerfile() if instruction == "COPY"]
    for sources in copied:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    # what the wheel needs to carry templates and fixtures is all copied before `pip install .`
    sources = {s for group in copied for s in group}
    assert {"pyproject.toml", "setup.py", "MANIFEST.in", "docsvc", "templates", "fixtures"} <= sources


def test_compose_sets_only_known_settings_services_and_commands_that_exist():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"docsvc", "archive-init", "redis", "seaweedfs"} <= set(services)
    assert "worker" not in services or _is_command(["worker", "--help"])  # issue 17 adds `docsvc worker`
    image = image_paths()
    for name, service in services.items():
        env = service.get("environment") or {}
        assert isinstance(env, dict), f"{name}: environment as a mapping"
        unknown = {k for k in env if k.startswith("DOCSVC_")} - KNOWN
        assert not unknown, f"{name}: unknown settings {unknown}"
        if any(k.startswith("DOCSVC_") for k in env):
            # ${VAR:?message} stands for what the operator sets: give it a valid value
            concrete = {k: re.sub(r"\$\{[^}]+\}", "x" * 40, str(v)) for k, v in env.items()
                        if k.startswith("DOCSVC_")}
            settings = Settings.from_env(concrete)
            hosts = [re.match(r"\w+://([^:/]+)", concrete[k]).group(1)
                     for k in ("DOCSVC_S3_ENDPOINT_URL", "DOCSVC_REDIS_URL") if k in concrete]
            assert set(hosts) <= set(services), f"{name}: {hosts} are not services of this file"
            mounts = {str(v).split(":")[1] for v in service.get("volumes", [])}
            for key, value in concrete.items():
                path = path_in(value)
                assert path is None or path in image | mounts, f"{name}: {key} names {path}, which is nowhere"
            assert settings.archive_url == "s3://docsvc"
        if service.get("build"):
            assert (ROOT / service["build"] / "Dockerfile").is_file()
        command = service.get("command")
        if name == "archive-init":
            assert "docsvc archive init" in " ".join(command) and _is_command(["archive", "init", "--help"])
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            assert source in (compose.get("volumes") or {}) or (ROOT / source).exists(), f"{name}: {volume}"
        for config in service.get("configs", []):
            assert config["source"] in compose["configs"]
    assert services["docsvc"]["ports"] == ["127.0.0.1:8000:8000"]  # published on loopback only
    for config in compose["configs"].values():
        assert "content" in config or (ROOT / config["file"]).is_file()


def _is_command(argv: list[str]) -> bool:
    try:
        main(argv)
    except SystemExit as exc:  # --help exits 0; an unknown command exits 2
        return exc.code == 0
    return True
