"""The production archive: S3 (AWS or compatible) with Object Lock in COMPLIANCE mode.

Every put is conditional (`If-None-Match: *`), carries its SHA-256 for the server to
check, and, on a locked bucket, a COMPLIANCE retention until `retain_until`: no one
using the S3 API, the service included, can delete or overwrite that version before
then. Timeouts are short and retries few so a dead store gives a quick 503.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import date, datetime, time, timezone

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .port import AlreadyExists, Archive, ArchiveUnavailable, NotFound, StoredObject

CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
MISSING_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}


class S3Archive(Archive):
    backend = "s3"

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 allow_unlocked: bool = False, connect_timeout: float = 2, read_timeout: float = 10,
                 client=None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.allow_unlocked = allow_unlocked
        self.locked = True  # confirmed or refuted by check()
        config = Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                        retries={"max_attempts": 2, "mode": "standard"},
                        s3={"addressing_style": "path" if endpoint_url else "auto"},
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_required")
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url, config=config)

    # ------------------------------------------------------------------ port

    def put_once(self, key: str, data: bytes, *, content_type: str, retain_until: date | None) -> StoredObject:
        args = {"Bucket": self.bucket, "Key": self.prefix + key, "Body": data, "IfNoneMatch": "*",
                "ContentType": content_type,
                "ChecksumSHA256": base64.b64encode(hashlib.sha256(data).digest()).decode()}
        if self.locked and retain_until is not None:
            args["ObjectLockMode"] = "COMPLIANCE"
            args["ObjectLockRetainUntilDate"] = datetime.combine(retain_until, time(), tzinfo=timezone.utc)
        try:
            response = self.client.put_object(**args)
        except ClientError as exc:
            if _code(exc) in CONFLICT_CODES:
                raise AlreadyExists(key) from None
            raise _unavailable(exc) from None
        except BotoCoreError as exc:
            raise _unavailable(exc) from None
        return StoredObject(key, len(data), retain_until if self.locked else None,
                            "COMPLIANCE" if self.locked and retain_until else None, response.get("VersionId"))

    def get(self, key: str, version: str | None = None) -> bytes:
        try:
            return self.client.get_object(**self._where(key, version))["Body"].read()
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                raise NotFound(key) from None
            raise _unavailable(exc) from None
        except BotoCoreError as exc:
            raise _unavailable(exc) from None

    def head(self, key: str, version: str | None = None) -> StoredObject | None:
        try:
            head = self.client.head_object(**self._where(key, version))
        except ClientError as exc:
            if _code(exc) in MISSING_CODES:
                return None
            raise _unavailable(exc) from None
        except BotoCoreError as exc:
            raise _unavailable(exc) from None
        until = head.get("ObjectLockRetainUntilDate")
        return StoredObject(key, head["ContentLength"], until.date() if until else None, head.get("ObjectLockMode"),
                            head.get("VersionId"))

    def _where(self, key: str, version: str | None) -> dict:
        """Address the original: the version given, else the oldest one. put_once only ever
        writes the first version, so anything stacked later through the raw API is ignored."""
        where = {"Bucket": self.bucket, "Key": self.prefix + key}
        version = version or (self._oldest_version(key) if self.locked else None)
        if version:
            where["VersionId"] = version
        return where

    def _oldest_version(self, key: str) -> str | None:
        full = self.prefix + key
        listing = self.client.list_object_versions(Bucket=self.bucket, Prefix=full)
        versions = [v for v in listing.get("Versions", []) if v["Key"] == full]
        # S3 lists a key's versions newest first; timestamps tie within a second
        return versions[-1]["VersionId"] if versions else None

    def list(self, prefix: str) -> Iterator[str]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                           Prefix=self.prefix + prefix)
            keys = [obj["Key"][len(self.prefix):] for page in pages for obj in page.get("Contents", ())]
        except ClientError as exc:
            raise _unavailable(exc) from None
        except BotoCoreError as exc:
            raise _unavailable(exc) from None
        return iter(sorted(keys))

    def check(self) -> None:
        """The bucket answers and has Object Lock enabled (unless explicitly allowed not to)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            raise ArchiveUnavailable(f"bucket {self.bucket!r} is not reachable: {_code(exc)}") from None
        except BotoCoreError as exc:
            raise ArchiveUnavailable(f"S3 is not reachable: {type(exc).__name__}") from None
        try:
            config = self.client.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
            enabled = config.get("ObjectLockEnabled") == "Enabled"
        except ClientError as exc:
            if _code(exc) not in {"ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound"}:
                raise ArchiveUnavailable(f"bucket {self.bucket!r}: {_code(exc)}") from None
            enabled = False
        except BotoCoreError as exc:
            raise ArchiveUnavailable(f"S3 is not reachable: {type(exc).__name__}") from None
        self.locked = enabled
        if not enabled and not self.allow_unlocked:
            raise ArchiveUnavailable(f"bucket {self.bucket!r} has no Object Lock: run `docsvc archive init` on a "
                                     "new bucket, or set DOCSVC_S3_ALLOW_UNLOCKED=1 for development only")

    # ------------------------------------------------------------------ set-up

    def init(self, retention_years: int) -> list[str]:
        """Create the bucket with Object Lock and a default COMPLIANCE retention; idempotent."""
        done = []
        try:
            self.client.head_bucket(Bucket=self.bucket)
            done.append(f"bucket {self.bucket} exists")
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket, ObjectLockEnabledForBucket=True)
            done.append(f"created bucket {self.bucket} with Object Lock (versioning on)")
        try:
            current = self.client.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
        except ClientError:
            current = {}
        if current.get("ObjectLockEnabled") != "Enabled":
            done.append(f"bucket {self.bucket} has no Object Lock and S3 can't add it to an existing bucket "
                        "everywhere: create a new bucket")
            return done
        wanted = {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": retention_years}}
        if current.get("Rule") == wanted:
            done.append(f"default retention already COMPLIANCE {retention_years} years")
        else:
            self.client.put_object_lock_configuration(
                Bucket=self.bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": wanted})
            done.append(f"set default retention COMPLIANCE {retention_years} years")
        return done


def _code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))


def _unavailable(exc: Exception) -> ArchiveUnavailable:
    detail = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
    return ArchiveUnavailable(f"S3 archive error: {detail}")
