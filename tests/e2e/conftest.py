import pytest

from docsvc.app import create_app
from docsvc.settings import Settings


@pytest.fixture
def archive_dir(tmp_path):
    return tmp_path / "archive"


@pytest.fixture
def app(archive_dir):
    settings = Settings.from_env({"DOCSVC_ARCHIVE_URL": f"file://{archive_dir}",
                                  "DOCSVC_MAX_BODY_BYTES": str(256 * 1024)})
    app = create_app(settings)
    app.testing = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def archived(archive_dir):
    """Every file in the archive, relative path -> bytes: to show a request changed nothing."""
    def snapshot():
        if not archive_dir.exists():
            return {}
        return {p.relative_to(archive_dir).as_posix(): p.read_bytes()
                for p in archive_dir.rglob("*") if p.is_file() and ".tmp" not in p.parts}
    return snapshot
