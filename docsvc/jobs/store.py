"""Batch and job state in Redis: what was asked, by whom, and each document's outcome.

Every write a redelivered task may repeat is idempotent: a document's outcome is recorded
with HSETNX and counted in the same script, so a task run twice counts once. Records expire
with the print file (DOCSVC_PRINT_EXPIRY_DAYS); the originals stay in the archive.
Redis must persist (appendonly yes) for a queued batch to survive a Redis restart.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

PREFIX = "docsvc:"
#: a task delivered more often than this (its worker died or hit the hard time limit each
#: time) is reported failed instead of being tried forever
MAX_DELIVERIES = 3


_RECORD_LUA = """
if redis.call('hsetnx', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  return redis.call('hincrby', KEYS[2], 'finished', 1)
end
return -1
"""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def duplicate_key(raw) -> str | None:
    """Seller and number as the payload states them: documents sharing them are one original."""
    if not isinstance(raw, dict) or not isinstance(raw.get("seller"), dict):
        return None
    seller = raw["seller"].get("siren") or raw["seller"].get("vat_id")
    number = raw.get("number")
    if not isinstance(seller, str) or not isinstance(number, str):
        return None
    return f"{seller}\x1f{number}"


class JobStore:
    def __init__(self, url: str, expiry_days: int = 30, patient: bool = False):
        # a worker rides over a short Redis restart (about 40 s) instead of failing the task that
        # was writing; the web answers 503 within a second or two
        # decode_responses=True: replies are str, which redis-py's annotations can't express
        self.redis: Any = redis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=5 if patient else 1, socket_timeout=30,
            retry=Retry(ExponentialBackoff(cap=2, base=0.1), 25 if patient else 2),
            retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError])
        self.ttl = expiry_days * 86_400
        self._record = self.redis.register_script(_RECORD_LUA)

    # ------------------------------------------------------------------ batches

    @staticmethod
    def _b(batch_id: str, part: str = "") -> str:
        return f"{PREFIX}batch:{batch_id}" + (f":{part}" if part else "")

    def create_batch(self, payloads: list[bytes], meta: dict) -> tuple[str, list[int]]:
        """Store a batch; returns its id and the indexes to enqueue now. A document repeating
        an earlier one's seller and number waits for it (it is enqueued when that one is
        recorded), so the first in the order given is the one issued, as in sequential calls."""
        batch_id = uuid.uuid4().hex
        first: dict[str, int] = {}
        following: dict[str, str] = {}
        leaders = []
        numbers = {}
        for i, data in enumerate(payloads):
            raw = json.loads(data)
            number = raw.get("number") if isinstance(raw, dict) else None
            numbers[str(i)] = number if isinstance(number, str) else None
            key = duplicate_key(raw)
            if key is not None and key in first:
                following[str(first[key])] = str(i)
                first[key] = i
            else:
                if key is not None:
                    first[key] = i
                leaders.append(i)
        record = {"meta": json.dumps({**meta, "created_at": now(), "numbers": numbers}),
                  "total": len(payloads), "finished": 0, "state": "queued"}
        pipe = self.redis.pipeline()
        pipe.hset(self._b(batch_id), mapping=record)
        pipe.hset(self._b(batch_id, "payloads"), mapping={str(i): d for i, d in enumerate(payloads)})
        if following:
            pipe.hset(self._b(batch_id, "next"), mapping=following)
        for part in ("", "payloads", "next"):
            pipe.expire(self._b(batch_id, part), self.ttl)
        pipe.execute()
        return batch_id, leaders

    def batch(self, batch_id: str) -> dict | None:
        record = self.redis.hgetall(self._b(batch_id)) if _safe_id(batch_id) else {}
        if not record:
            return None
        meta = json.loads(record["meta"])
        results = self.redis.hgetall(self._b(batch_id, "results"))
        started = self.redis.hlen(self._b(batch_id, "attempts"))
        return {"id": batch_id, "meta": meta, "total": int(record["total"]), "finished": int(record["finished"]),
                "state": record["state"] if record["state"] == "done" or started == 0 else "running",
                "results": {int(k): json.loads(v) for k, v in results.items()},
                "print": json.loads(record["print"]) if record.get("print") else None}

    def payload(self, batch_id: str, index: int) -> bytes | None:
        return self.redis.hget(self._b(batch_id, "payloads"), str(index))

    def meta(self, batch_id: str) -> dict | None:
        raw = self.redis.hget(self._b(batch_id), "meta")
        return json.loads(raw) if raw else None

    def attempt(self, batch_id: str, index: int) -> int:
        """Count a delivery of this document's task; the first one makes the batch running."""
        key = self._b(batch_id, "attempts")
        count = self.redis.hincrby(key, str(index), 1)
        self.redis.expire(key, self.ttl)
        return count

    def result(self, batch_id: str, index: int) -> dict | None:
        raw = self.redis.hget(self._b(batch_id, "results"), str(index))
        return json.loads(raw) if raw else None

    def record(self, batch_id: str, index: int, outcome: dict) -> None:
        """Record a document's outcome once; a repeat (a redelivered task) changes nothing."""
        results = self._b(batch_id, "results")
        self._record(keys=[results, self._b(batch_id)], args=[str(index), json.dumps(outcome)])
        self.redis.expire(results, self.ttl)

    def following(self, batch_id: str, index: int) -> int | None:
        nxt = self.redis.hget(self._b(batch_id, "next"), str(index))
        return int(nxt) if nxt is not None else None

    def finish(self, batch_id: str, print_info: dict | None) -> None:
        self.redis.hset(self._b(batch_id), mapping={"state": "done", "print": json.dumps(print_info)})

    # ------------------------------------------------------------------ big single documents

    @staticmethod
    def _j(job_id: str) -> str:
        return f"{PREFIX}job:{job_id}"

    def job_for(self, owner: str, payload: bytes) -> tuple[str, bool]:
        """The job of this payload for this key: (id, created). Posting the same payload again
        finds the same job."""
        digest = hashlib.sha256(owner.encode() + b"\x00" + payload).hexdigest()
        index = f"{PREFIX}job-by-payload:{digest}"
        job_id = uuid.uuid4().hex
        if self.redis.set(index, job_id, nx=True, ex=self.ttl):
            return job_id, True
        return self.redis.get(index), False

    def create_job(self, job_id: str, payload: bytes, meta: dict) -> None:
        self.redis.hset(self._j(job_id), mapping={"meta": json.dumps({**meta, "created_at": now()}),
                                                  "payload": payload, "state": "queued"})
        self.redis.expire(self._j(job_id), self.ttl)

    def job(self, job_id: str) -> dict | None:
        record = self.redis.hgetall(self._j(job_id)) if _safe_id(job_id) else {}
        if not record:
            return None
        return {"id": job_id, "meta": json.loads(record["meta"]), "state": record["state"],
                "payload": record.get("payload"),
                "outcome": json.loads(record["outcome"]) if record.get("outcome") else None}

    def job_running(self, job_id: str) -> int:
        """Count a delivery of the job's task and show it running."""
        count = self.redis.hincrby(self._j(job_id), "attempts", 1)
        if self.redis.hget(self._j(job_id), "state") == "queued":
            self.redis.hset(self._j(job_id), "state", "running")
        return count

    def job_done(self, job_id: str, outcome: dict) -> None:
        state = "done" if outcome["status"] in (200, 201) else "failed"
        self.redis.hset(self._j(job_id), mapping={"state": state, "outcome": json.dumps(outcome)})

    # ------------------------------------------------------------------ who issued an original

    def claim(self, raw, owner: str, archived_already) -> str | None:
        """Mark `owner` (batch:index or job) as the one issuing this seller and number, unless
        someone already did; returns the owner on record. A redelivered task that finds the
        original it wrote itself (before its worker died) then still answers 201. A document
        archived before anyone claimed it (by a synchronous call) is nobody's here: 200."""
        key = duplicate_key(raw)
        if key is None:
            return None
        name = f"{PREFIX}issuer:" + hashlib.sha256(key.encode()).hexdigest()
        if self.redis.set(name, owner, nx=True, ex=self.ttl):
            if not archived_already():
                return owner
            self.redis.set(name, "archived before", ex=self.ttl)
        return self.redis.get(name)

    # ------------------------------------------------------------------ observability

    def observe(self, task: str, outcome: str, seconds: float) -> None:
        from .metrics import BUCKETS

        pipe = self.redis.pipeline()
        pipe.hincrby(f"{PREFIX}metrics:tasks", f"{task}|{outcome}", 1)
        pipe.hincrbyfloat(f"{PREFIX}metrics:seconds", f"{task}|sum", seconds)
        pipe.hincrby(f"{PREFIX}metrics:seconds", f"{task}|count", 1)
        for bound in BUCKETS:
            if seconds <= bound:
                pipe.hincrby(f"{PREFIX}metrics:seconds", f"{task}|{bound}", 1)
        pipe.execute()

    def queue_depth(self, queue: str) -> int:
        return self.redis.llen(queue)

    def metrics(self) -> tuple[dict, dict]:
        return self.redis.hgetall(f"{PREFIX}metrics:tasks"), self.redis.hgetall(f"{PREFIX}metrics:seconds")


def _safe_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)
