# docsvc: slim Python, the libraries WeasyPrint links against, a non-root user.
# The package is installed from a wheel built here, which carries the shipped templates and
# the fixtures every publish renders (docsvc/shipped/); the sources are then removed, so the
# image runs exactly what tests/e2e/test_installed.py installs and runs.
FROM python:3.11-slim-bookworm

# libharfbuzz-subset0: without it WeasyPrint falls back to a slow font-subsetting path
# (~490 ms instead of ~190 ms for a one-page invoice).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 \
      shared-mime-info fonts-dejavu-core fonts-inter \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 docsvc
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY docsvc ./docsvc
COPY templates ./templates
COPY fixtures ./fixtures
RUN pip install --no-cache-dir . \
 && rm -rf /src \
 && mkdir -p /data/archive \
 && chown docsvc /data/archive

USER docsvc
WORKDIR /home/docsvc
# the archive (a volume for the embedded default; set s3://bucket and DOCSVC_S3_ENDPOINT_URL
# for S3, as compose.yaml does); templates and fixtures come from the installed package
ENV DOCSVC_ARCHIVE_URL=file:///data/archive
VOLUME /data/archive
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# gunicorn with docsvc's worker (docsvc/serving.py): each request is read whole by the event
# loop before a thread runs it, so slow or idle clients hold no worker (408 after
# DOCSVC_CLIENT_TIMEOUT); workers are recycled after 2000 requests (with jitter) or when a
# request left one past DOCSVC_WORKER_MAX_RSS_MB. Put a TLS-terminating proxy in front.
ENV DOCSVC_CLIENT_TIMEOUT=20 \
    DOCSVC_WORKER_MAX_RSS_MB=512
CMD ["docsvc", "serve", "--host", "0.0.0.0", "--port", "8000"]
