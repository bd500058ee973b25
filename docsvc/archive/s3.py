"""The production archive: S3 (AWS or compatible) with Object Lock in COMPLIANCE mode.

Every put is conditional (`If-None-Match: *`), carries its SHA-256 for the server to
check, and, on a locked bucket, a COMPLIANCE retention until `retain_until`: no one
using the S3 API, the service included, can delete or overwrite that version before
then. Reads address the first version of a key, so whatever is stacked on top of it
later through the raw API (a new version, a delete marker) is never served.

A dead or hung store gives a quick 503: short timeouts, one retry, and once S3 has failed
to answer, every call fails at once for `cooldown` seconds instead of each request tying
up a worker for the full timeouts again.

Derived files (print copies) go under `derived/`, replaceable (a new version each time) and
read at their latest version. They carry no COMPLIANCE retention: on a bucket with a default
retention (which would lock them for ten years) they get an explicit GOVERNANCE retention
until their expiry instead, the shortest S3 lets a locked bucket hold. Past their expiry
they are not served (and are made again on request); removing them from the bucket is the
operator's (README: a lifecycle rule limited to `derived/` on AWS).
"""
from __future__ import annotations

import base64
import hashlib
import time as clock
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as NoConnection

from .keys import is_key, is_prefix
from .port import AlreadyExists, Archive, ArchiveUnavailable, DerivedObject, NotFound, StoredObject

DERIVED = "derived/"
CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
MISSING_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
NO_LOCK_CODES = {"ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound"}
NO_BUCKET_CODES = {"NoSuchBucket", "404", "NotFound"}
DENIED_CODES = {"AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


class ArchiveSetupError(Exception):
    """`docsvc archive init` could not leave the bucket locked; says what to do instead."""


class S3Archive(Archive):
    backend = "s3"

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 allow_unlocked: bool = False, connect_timeout: float = 2, read_timeout: float = 5,
                 cooldown: float = 5, client=None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        self.allow_unlocked = allow_unlocked
        self.locked = True  # confirmed or refuted by check()
        self.default_retention = False  # the bucket locks every new object by default (found by check())
        self.cooldown = cooldown
        self._down_until = 0.0
        self._down_reason = ""
        config = Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                        retries={"total_max_attempts": 2, "mode": "standard"},  # the first try and one retry
                        s3={"addressing_style": "path" if endpoint_url else "auto"},
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_required")
        # a session of its own: credentials are read from the environment now, not cached
        # process-wide by boto3's default session at its first use
        self.client = client or boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)

    # ------------------------------------------------------------------ port

    def put_once(self, key: str, data: bytes, *, content_type: str, retain_until: date | None) -> StoredObject:
        if not is_key(key):
            raise ValueError(f"invalid archive key {key!r}")
        self._fail_fast()
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self.prefix + key, "Body": data, "IfNoneMatch": "*",
                "ContentType": content_type,
                "ChecksumSHA256": base64.b64encode(hashlib.sha256(data).digest()).decode()}
        if self.locked and retain_until is not None:
            args["ObjectLockMode"] = "COMPLIANCE"
            args["ObjectLockRetainUntilDate"] = datetime.combine(retain_until, time(), tzinfo=UTC)
        try:
            response = self.client.put_object(**args)
        except ClientError as exc:
            if _code(exc) in CONFLICT_CODES:
                raise AlreadyExists(key) from None
            raise self._write_failed(self._unavailable(exc)) from None
        except BotoCoreError as exc:
            raise self._write_failed(self._unavailable(exc)) from None
        return StoredObject(key, len(data), retain_until if self.locked else None,
                            "COMPLIANCE" if self.locked and retain_until else None, response.get("VersionId"))

    def get(self, key: str, version: str | None = None) -> bytes:
        if not is_key(key):
            raise NotFound(key)  # no such key can have been written
        return self._fetch(key, **self._where(key, version))[0]

    def _fetch(self, key: str, **where) -> tuple[bytes, dict]:
        """An object's bytes and get_object's answer (content type, user metadata); NotFound
        when absent, ArchiveUnavailable when S3 can't answer."""
        self._fail_fast()
        try:
            got = self.client.get_object(**where)
            return got["Body"].read(), got
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                raise NotFound(key) from None
            raise self._unavailable(exc) from None
        except BotoCoreError as exc:
            raise self._unavailable(exc) from None

    def head(self, key: str, version: str | None = None) -> StoredObject | None:
        if not is_key(key):
            return None
        self._fail_fast()
        try:
            head = self.client.head_object(**self._where(key, version))
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                return None
            raise self._unavailable(exc) from None
        except BotoCoreError as exc:
            raise self._unavailable(exc) from None
        until = head.get("ObjectLockRetainUntilDate")
        return StoredObject(key, head["ContentLength"], until.date() if until else None, head.get("ObjectLockMode"),
                            head.get("VersionId"))

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under `prefix`, in key order. On a locked bucket a key counts as long as it
        has a version, so a delete marker added through the raw API hides nothing."""
        if not is_prefix(prefix):
            return iter(())
        self._fail_fast()
        try:
            if self.locked:
                pages = self.client.get_paginator("list_object_versions").paginate(
                    Bucket=self.bucket, Prefix=self.prefix + prefix)
                found = {v["Key"] for page in pages for v in page.get("Versions", ())}
            else:
                pages = self.client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=self.prefix + prefix)
                found = {obj["Key"] for page in pages for obj in page.get("Contents", ())}
        except ClientError as exc:
            raise self._unavailable(exc) from None
        except BotoCoreError as exc:
            raise self._unavailable(exc) from None
        keys = (k[len(self.prefix):] for k in found)
        return iter(sorted(k for k in keys if not k.startswith(DERIVED)))  # print copies are no originals

    def put_derived(self, key: str, data: bytes, *, content_type: str, expires: date | None,
                    metadata: dict[str, str]) -> None:
        self._fail_fast()
        meta = {k.lower(): str(v) for k, v in metadata.items()}
        if expires is not None:
            meta["expires-at"] = expires.isoformat()
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self.prefix + DERIVED + key, "Body": data,
                                "ContentType": content_type,
                "Metadata": meta, "ChecksumSHA256": base64.b64encode(hashlib.sha256(data).digest()).decode()}
        if expires is not None:
            args["Expires"] = datetime.combine(expires, time(), tzinfo=UTC)
            if self.locked and self.default_retention:  # else the bucket's default would lock it for years
                args["ObjectLockMode"] = "GOVERNANCE"
                args["ObjectLockRetainUntilDate"] = args["Expires"]
        try:
            self.client.put_object(**args)
        except ClientError as exc:
            raise self._unavailable(exc) from None
        except BotoCoreError as exc:
            raise self._unavailable(exc) from None

    def get_derived(self, key: str) -> DerivedObject:
        data, got = self._fetch(key, Bucket=self.bucket, Key=self.prefix + DERIVED + key)
        meta = dict(got.get("Metadata") or {})
        expires = date.fromisoformat(meta.pop("expires-at")) if meta.get("expires-at") else None
        if expires is not None and expires < date.today():
            raise NotFound(key)
        return DerivedObject(key, data, got.get("ContentType", "application/octet-stream"), expires, meta)

    def check(self) -> None:
        """The bucket answers and has Object Lock enabled (unless explicitly allowed not to)."""
        self._fail_fast()
        try:
            self.client.head_bucket(Bucket=self.bucket)
            config = self.client.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
            enabled = config.get("ObjectLockEnabled") == "Enabled"
            self.default_retention = bool((config.get("Rule") or {}).get("DefaultRetention"))
        except ClientError as exc:
            if _code(exc) not in NO_LOCK_CODES:
                raise self._unavailable(exc) from None
            enabled = False
        except BotoCoreError as exc:
            raise self._unavailable(exc) from None
        self.locked = enabled
        if not enabled and not self.allow_unlocked:
            raise ArchiveUnavailable(f"bucket {self.bucket!r} has no Object Lock: run `docsvc archive init` "
                                     "(or use a new bucket), or set DOCSVC_S3_ALLOW_UNLOCKED=1 for development only")

    # ------------------------------------------------------------------ set-up

    def init(self, retention_years: int) -> Iterator[str]:
        """Create the bucket with Object Lock, or add it to an existing bucket where the store
        allows it (AWS, SeaweedFS; not MinIO or Ceph), then set a default COMPLIANCE retention
        of `retention_years`. Idempotent: yields one line per step, saying what already was."""
        try:
            yield from self._init(retention_years)
        except ClientError as exc:
            raise self._unavailable(exc) from None
        except BotoCoreError as exc:
            raise self._unavailable(exc) from None

    def _init(self, retention_years: int) -> Iterator[str]:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            existed = True
        except ClientError as exc:
            if _code(exc) not in NO_BUCKET_CODES:
                raise
            existed = False
        if existed:
            yield f"bucket {self.bucket} exists"
        else:
            args = {"Bucket": self.bucket, "ObjectLockEnabledForBucket": True}
            region = self.client.meta.region_name
            if region and region != "us-east-1" and not self.endpoint_url:
                args["CreateBucketConfiguration"] = {"LocationConstraint": region}
            self.client.create_bucket(**args)
            yield f"created bucket {self.bucket} with Object Lock"

        if self.client.get_bucket_versioning(Bucket=self.bucket).get("Status") == "Enabled":
            yield "versioning already enabled"
        else:
            self.client.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
            yield "enabled versioning"

        current = self._lock_configuration()
        if current.get("ObjectLockEnabled") == "Enabled":
            yield "Object Lock already enabled"
        else:
            try:
                self.client.put_object_lock_configuration(
                    Bucket=self.bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
            except ClientError as exc:
                raise ArchiveSetupError(
                    f"bucket {self.bucket} has no Object Lock and this store refuses to add it to an existing "
                    f"bucket ({_code(exc)}): point DOCSVC_ARCHIVE_URL at a new bucket and run "
                    "`docsvc archive init` again") from None
            yield "enabled Object Lock (objects written before stay unlocked)"
            current = self._lock_configuration()

        wanted = {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": retention_years}}
        if current.get("Rule") == wanted:
            yield f"default retention already COMPLIANCE {retention_years} years"
        else:
            self.client.put_object_lock_configuration(
                Bucket=self.bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": wanted})
            before = _describe_rule(current.get("Rule"))
            yield f"set default retention COMPLIANCE {retention_years} years" + (f" (was {before})" if before else "")

    def _lock_configuration(self) -> dict:
        try:
            return self.client.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
        except ClientError as exc:
            if _code(exc) in NO_LOCK_CODES:
                return {}
            raise

    # ------------------------------------------------------------------ helpers

    def _where(self, key: str, version: str | None) -> dict:
        """Address the original: the version given, else the oldest one. put_once only ever
        writes the first version, so anything stacked later through the raw API is ignored."""
        where = {"Bucket": self.bucket, "Key": self.prefix + key}
        version = version or (self._oldest_version(key) if self.locked else None)
        if version:
            where["VersionId"] = version
        return where

    def _oldest_version(self, key: str) -> str | None:
        """S3 lists a key's versions newest first, so the original is the last one listed,
        however many pages (and unrelated keys sharing the prefix) come before it."""
        full = self.prefix + key
        oldest = None
        self._fail_fast()
        try:
            pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=full)
            for page in pages:
                for version in page.get("Versions", ()):
                    if version["Key"] == full:
                        oldest = version["VersionId"]
        except (ClientError, BotoCoreError) as exc:  # as for the object itself: S3 can't answer
            raise self._unavailable(exc) from None
        return oldest

    def _write_failed(self, exc: ArchiveUnavailable) -> ArchiveUnavailable:
        self.write_failed = str(exc)
        return exc

    def _fail_fast(self) -> None:
        if clock.monotonic() < self._down_until:
            raise ArchiveUnavailable(self._down_reason)

    def _unavailable(self, exc: Exception) -> ArchiveUnavailable:
        reason = f"S3 archive (bucket {self.bucket}): {self._reason(exc)}"
        if isinstance(exc, (NoConnection, ConnectionClosedError, ReadTimeoutError)):  # no answer: pause asking
            self._down_reason = reason
            self._down_until = clock.monotonic() + self.cooldown
        return ArchiveUnavailable(reason)

    def _reason(self, exc: Exception) -> str:
        """One line an operator can act on."""
        where = self.endpoint_url or "AWS S3"
        if isinstance(exc, ClientError):
            code = _code(exc)
            if code in NO_BUCKET_CODES:
                return "the bucket does not exist (create it with `docsvc archive init`)"
            if code in DENIED_CODES:
                return f"access denied ({code}): check the AWS_* credentials and the bucket policy"
            return f"S3 answered {code}"
        if isinstance(exc, NoCredentialsError):
            return "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        if isinstance(exc, ReadTimeoutError):
            return f"S3 at {where} did not answer in time"
        if isinstance(exc, (NoConnection, ConnectionClosedError)):
            return f"S3 is not reachable at {where}"
        return f"S3 is not reachable at {where} ({type(exc).__name__})"


def _code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))


def _describe_rule(rule: dict | None) -> str:
    retention = (rule or {}).get("DefaultRetention") or {}
    if not retention:
        return ""
    amount = ", ".join(f"{v} {k.lower()}" for k, v in retention.items() if k in ("Years", "Days"))
    return f"{retention.get('Mode')} {amount}"
