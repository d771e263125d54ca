"""docs/architecture.md stays true: its tables are the code's, its paths exist."""

from __future__ import annotations

import re
from pathlib import Path

from courier.jobs import catalog, lifecycle

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text()


def rows(table: list[tuple[str, ...]]) -> list[str]:
    return ["| " + " | ".join(cells) + " |" for cells in table]


def test_the_lifecycle_table_is_the_codes() -> None:
    for row in rows(lifecycle.describe()):
        assert row in DOC, f"docs/architecture.md lacks the lifecycle row {row}"
    assert DOC.count("\n| ") >= len(lifecycle.TRANSITIONS)


def test_the_catalogue_table_is_the_codes() -> None:
    """Every shipped type has its row, as the code declares it; a team's own worker folder
    is documented by its folder, and needs no row here to keep `make test` green."""
    table = [(t.name, t.worker, t.input.__name__, t.handler, ", ".join(t.upload_fields) or "-", t.summary) for t in catalog.load().shipped_job_types]
    for row in rows(table):
        assert row in DOC, f"docs/architecture.md lacks the catalogue row {row}"
    documented = re.findall(r"^\| ([a-z0-9_]+\.[a-z0-9_.]+) \| ([a-z_]+) \|", DOC, flags=re.MULTILINE)
    assert {name for name, _ in documented} == {t.name for t in catalog.load().shipped_job_types}


def test_every_path_it_names_exists() -> None:
    paths = set(re.findall(r"`((?:layers|functions|infra|devstack|tests|scripts|courier_cli)/[^`*<> ]+)`", DOC))
    assert len(paths) > 20
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, missing


def test_the_table_s_key_schema_is_the_codes() -> None:
    from courier.jobs.table import KEY_SCHEMA

    for what, pk, sk, indexes, why in KEY_SCHEMA:
        row = f"| {what} | `{pk}` | `{sk}` | {indexes} | {why} |"
        assert row in DOC, f"docs/architecture.md lacks the key-schema row {row}"
