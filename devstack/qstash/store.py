"""All of the server's state in SQLite (WAL): what is acknowledged is on disk.

A message row exists from the moment its publish is answered until it is delivered,
dead-lettered or cancelled, so a `kill -9` at any point loses nothing: on restart every
row is simply due again (at-least-once, as QStash promises).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.qstash.model import Message, body_fields, new_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    next_at INTEGER NOT NULL,
    queue TEXT,
    body BLOB NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_due ON messages(next_at);
CREATE INDEX IF NOT EXISTS messages_queue ON messages(queue, seq);
CREATE TABLE IF NOT EXISTS dlq (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    dlq_id TEXT UNIQUE NOT NULL,
    message_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    response_body BLOB,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_message ON events(message_id);
CREATE TABLE IF NOT EXISTS schedules (
    id TEXT PRIMARY KEY,
    next_at INTEGER,
    paused INTEGER NOT NULL DEFAULT 0,
    body BLOB NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    parallelism INTEGER NOT NULL,
    paused INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    endpoints TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dedup (
    key TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS flow_keys (
    key TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    current TEXT NOT NULL,
    next TEXT NOT NULL
);
"""

#: Events kept (the oldest go first): enough for any debugging session, bounded on disk.
MAX_EVENTS = 200_000


@dataclass
class Queue:
    name: str
    parallelism: int
    paused: bool
    created_at: int
    updated_at: int


class Store:
    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a killed process (not a power cut) and
        # costs no fsync. The local stand-in needs the first, not the second.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._in_transaction = False

    def close(self) -> None:
        self.db.close()

    # --- transactions ----------------------------------------------------------------
    def transaction(self) -> _Transaction:
        return _Transaction(self)

    # --- messages --------------------------------------------------------------------
    def insert_message(self, message: Message) -> None:
        self.db.execute(
            "INSERT INTO messages (id, next_at, queue, body, data) VALUES (?, ?, ?, ?, ?)",
            (message.id, message.next_at, message.queue, message.body, json.dumps(message.to_record())),
        )

    def update_message(self, message: Message) -> None:
        self.db.execute(
            "UPDATE messages SET next_at = ?, data = ? WHERE id = ?",
            (message.next_at, json.dumps(message.to_record()), message.id),
        )

    def delete_message(self, message_id: str) -> bool:
        return self.db.execute("DELETE FROM messages WHERE id = ?", (message_id,)).rowcount > 0

    def get_message(self, message_id: str) -> Message | None:
        row = self.db.execute("SELECT body, data FROM messages WHERE id = ?", (message_id,)).fetchone()
        return _message(row) if row else None

    def message_ids(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT id FROM messages ORDER BY seq")]

    def due_messages(self, now: int, limit: int, exclude: Iterable[str] = ()) -> list[tuple[int, Message]]:
        excluded = set(exclude)
        rows = self.db.execute(
            "SELECT seq, body, data, id FROM messages WHERE next_at <= ? ORDER BY seq LIMIT ?",
            (now, limit + len(excluded)),
        ).fetchall()
        return [(row["seq"], _message(row)) for row in rows if row["id"] not in excluded][:limit]

    def next_due_time(self) -> int | None:
        row = self.db.execute("SELECT MIN(next_at) FROM messages").fetchone()
        return None if row[0] is None else int(row[0])

    def queue_heads(self, queue: str, count: int) -> list[int]:
        """Sequence numbers of the oldest `count` unfinished messages of a queue (FIFO window)."""
        rows = self.db.execute("SELECT seq FROM messages WHERE queue = ? ORDER BY seq LIMIT ?", (queue, count))
        return [row[0] for row in rows]

    def queue_lag(self, queue: str) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM messages WHERE queue = ?", (queue,)).fetchone()[0])

    # --- dead letters ----------------------------------------------------------------
    def insert_dlq(self, message: Message, *, status: int, response_headers: dict[str, list[str]], response_body: bytes, now: int) -> str:
        dlq_id = new_id("dlq")
        data = {"message": message.to_record(), "responseStatus": status, "responseHeader": response_headers}
        self.db.execute(
            "INSERT INTO dlq (dlq_id, message_id, created_at, body, response_body, data) VALUES (?, ?, ?, ?, ?, ?)",
            (dlq_id, message.id, now, message.body, response_body, json.dumps(data)),
        )
        return dlq_id

    def dlq_entries(self, *, after_seq: int = 0, limit: int | None = None) -> Iterator[tuple[int, str, Message, dict[str, Any]]]:
        sql = "SELECT seq, dlq_id, body, response_body, data FROM dlq WHERE seq > ? ORDER BY seq"
        for row in self.db.execute(sql, (after_seq,)):
            yield (row["seq"], row["dlq_id"], *_dlq(row))

    def get_dlq(self, dlq_id: str) -> tuple[Message, dict[str, Any]] | None:
        row = self.db.execute("SELECT body, response_body, data FROM dlq WHERE dlq_id = ?", (dlq_id,)).fetchone()
        return _dlq(row) if row else None

    def delete_dlq(self, dlq_ids: Iterable[str]) -> int:
        return sum(self.db.execute("DELETE FROM dlq WHERE dlq_id = ?", (i,)).rowcount for i in dlq_ids)

    # --- events ----------------------------------------------------------------------
    def add_event(self, time: int, message_id: str, state: str, data: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO events (time, message_id, state, data) VALUES (?, ?, ?, ?)",
            (time, message_id, state, json.dumps(data)),
        )

    def events(self, *, before_id: int | None) -> Iterator[tuple[int, dict[str, Any]]]:
        sql = "SELECT id, data FROM events" + (" WHERE id < ?" if before_id else "") + " ORDER BY id DESC"
        for row in self.db.execute(sql, (before_id,) if before_id else ()):
            yield row["id"], json.loads(row["data"])

    def prune_events(self) -> None:
        self.db.execute("DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?", (MAX_EVENTS,))

    # --- deduplication ---------------------------------------------------------------
    def dedup_lookup(self, key: str, now: int) -> str | None:
        row = self.db.execute("SELECT message_id FROM dedup WHERE key = ? AND expires_at > ?", (key, now)).fetchone()
        return row[0] if row else None

    def dedup_remember(self, key: str, message_id: str, expires_at: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO dedup (key, message_id, expires_at) VALUES (?, ?, ?)", (key, message_id, expires_at))

    def prune_dedup(self, now: int) -> None:
        self.db.execute("DELETE FROM dedup WHERE expires_at <= ?", (now,))

    # --- queues ----------------------------------------------------------------------
    def upsert_queue(self, name: str, parallelism: int, paused: bool, now: int) -> None:
        self.db.execute(
            "INSERT INTO queues (name, parallelism, paused, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET parallelism = excluded.parallelism, paused = excluded.paused, "
            "updated_at = excluded.updated_at",
            (name, parallelism, int(paused), now, now),
        )

    def ensure_queue(self, name: str, now: int) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO queues (name, parallelism, paused, created_at, updated_at) VALUES (?, 1, 0, ?, ?)",
            (name, now, now),
        )

    def get_queue(self, name: str) -> Queue | None:
        row = self.db.execute("SELECT * FROM queues WHERE name = ?", (name,)).fetchone()
        return Queue(row["name"], row["parallelism"], bool(row["paused"]), row["created_at"], row["updated_at"]) if row else None

    def queues(self) -> list[Queue]:
        return [
            Queue(r["name"], r["parallelism"], bool(r["paused"]), r["created_at"], r["updated_at"])
            for r in self.db.execute("SELECT * FROM queues ORDER BY name")
        ]

    def set_queue_paused(self, name: str, paused: bool, now: int) -> bool:
        sql = "UPDATE queues SET paused = ?, updated_at = ? WHERE name = ?"
        return self.db.execute(sql, (int(paused), now, name)).rowcount > 0

    def delete_queue(self, name: str) -> bool:
        return self.db.execute("DELETE FROM queues WHERE name = ?", (name,)).rowcount > 0

    # --- URL groups (topics) ---------------------------------------------------------
    def get_topic(self, name: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM topics WHERE name = ?", (name,)).fetchone()
        return _topic(row) if row else None

    def topics(self) -> list[dict[str, Any]]:
        return [_topic(r) for r in self.db.execute("SELECT * FROM topics ORDER BY name")]

    def save_topic(self, name: str, endpoints: list[dict[str, str]], now: int) -> None:
        self.db.execute(
            "INSERT INTO topics (name, created_at, updated_at, endpoints) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET endpoints = excluded.endpoints, updated_at = excluded.updated_at",
            (name, now, now, json.dumps(endpoints)),
        )

    def delete_topic(self, name: str) -> bool:
        return self.db.execute("DELETE FROM topics WHERE name = ?", (name,)).rowcount > 0

    # --- schedules -------------------------------------------------------------------
    def save_schedule(self, schedule_id: str, next_at: int | None, paused: bool, body: bytes, data: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO schedules (id, next_at, paused, body, data) VALUES (?, ?, ?, ?, ?)",
            (schedule_id, next_at, int(paused), body, json.dumps(data)),
        )

    def get_schedule(self, schedule_id: str) -> tuple[bytes, dict[str, Any]] | None:
        row = self.db.execute("SELECT body, data FROM schedules WHERE id = ?", (schedule_id,)).fetchone()
        return (bytes(row["body"]), json.loads(row["data"])) if row else None

    def schedules(self) -> list[tuple[bytes, dict[str, Any]]]:
        return [(bytes(r["body"]), json.loads(r["data"])) for r in self.db.execute("SELECT body, data FROM schedules ORDER BY id")]

    def due_schedules(self, now: int) -> list[str]:
        sql = "SELECT id FROM schedules WHERE paused = 0 AND next_at IS NOT NULL AND next_at <= ?"
        return [r[0] for r in self.db.execute(sql, (now,))]

    def delete_schedule(self, schedule_id: str) -> bool:
        return self.db.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,)).rowcount > 0

    # --- flow-control keys ----------------------------------------------------------
    def flow_keys(self) -> list[dict[str, Any]]:
        return [json.loads(r["data"]) for r in self.db.execute("SELECT data FROM flow_keys ORDER BY key")]

    def save_flow_key(self, key: str, data: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO flow_keys (key, data) VALUES (?, ?)", (key, json.dumps(data)))

    # --- signing keys ----------------------------------------------------------------
    def signing_keys(self, default: tuple[str, str]) -> tuple[str, str]:
        row = self.db.execute("SELECT current, next FROM signing_keys WHERE id = 1").fetchone()
        if row is None:
            self.db.execute("INSERT INTO signing_keys (id, current, next) VALUES (1, ?, ?)", default)
            return default
        return row["current"], row["next"]

    def set_signing_keys(self, current: str, next_: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO signing_keys (id, current, next) VALUES (1, ?, ?)", (current, next_))


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); nested uses join the outer one."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.outer = False

    def __enter__(self) -> Store:
        if not self.store._in_transaction:
            self.store.db.execute("BEGIN IMMEDIATE")
            self.store._in_transaction = self.outer = True
        return self.store

    def __exit__(self, kind: Any, *_: Any) -> None:
        if self.outer:
            self.store._in_transaction = False
            self.store.db.execute("ROLLBACK" if kind else "COMMIT")


def _message(row: sqlite3.Row) -> Message:
    return Message.from_record(json.loads(row["data"]), bytes(row["body"]))


def _dlq(row: sqlite3.Row) -> tuple[Message, dict[str, Any]]:
    data = json.loads(row["data"])
    message = Message.from_record(data["message"], bytes(row["body"]))
    response_body = bytes(row["response_body"] or b"")
    details = {"responseStatus": data["responseStatus"], "responseHeader": data["responseHeader"]}
    for key, value in body_fields(response_body).items():
        details["responseBody" if key == "body" else "responseBodyBase64"] = value
    return message, details


def _topic(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "name": row["name"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "endpoints": json.loads(row["endpoints"]),
    }
