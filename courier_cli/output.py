"""How every command answers: a table for people, JSON with `--json`, progress on stderr
(so a pipe gets only the answer), and one exit code per kind of ending.

Exit codes: 0 done; 1 the API, AWS or QStash refused or failed; 2 usage or configuration
(no deployment, no key, a bad argument); 3 the job ended but did not succeed (`jobs wait`);
4 gave up waiting (`--timeout`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Rich loads when something is drawn: `--json` answers never pay for it
    from rich.console import Console
    from rich.progress import Progress

OK, FAILED, USAGE, UNSUCCESSFUL, TIMED_OUT = 0, 1, 2, 3, 4
WIDE = 240


class CliError(Exception):
    """An ending other than success, with the code the API (or the CLI) gave it."""

    def __init__(self, code: str, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.code, self.message, self.exit_code = code, message, exit_code


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    @cached_property
    def out(self) -> Console:
        from rich.console import Console

        console = Console(highlight=False)
        return console if console.is_terminal else Console(highlight=False, width=WIDE)  # a pipe or a file: lines never wrapped at 80

    @cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False)

    def data(self, data: Any, text: str | None = None) -> None:
        """JSON with --json; otherwise `text`, or the data itself, indented."""
        if self.as_json:
            print(json.dumps(data, indent=2, default=str))
        else:
            self.out.print(text if text is not None else json.dumps(data, indent=2, default=str), markup=False)

    def table(self, data: Any, rows: Sequence[Sequence[Any]], columns: Sequence[str], *, empty: str, title: str | None = None) -> None:
        if self.as_json:
            self.data(data)
            return
        if not rows:
            self.out.print(empty, markup=False)
            return
        from rich.table import Table

        table = Table(title=title, box=None, header_style="bold", pad_edge=False)
        for n, column in enumerate(columns):  # ids stay whole; only the last column (a reason) wraps
            table.add_column(column, no_wrap=n < len(columns) - 1)
        for row in rows:
            table.add_row(*("" if cell is None else str(cell) for cell in row))
        self.out.print(table)

    def fields(self, data: dict[str, Any], pairs: Sequence[tuple[str, Any]]) -> None:
        """One record as `name  value` lines (nested values as JSON)."""
        shown = [(name, value) for name, value in pairs if value not in (None, "", [], {})]
        rows = [(name, value if isinstance(value, str) else json.dumps(value, indent=2, default=str)) for name, value in shown]
        self.table(data, rows, ("", ""), empty="")

    def error(self, error: CliError) -> int:
        if self.as_json:
            print(json.dumps({"error": {"code": error.code, "message": error.message}}), file=sys.stderr)
        else:
            self.err.print(f"courier: {error.message}", markup=False, soft_wrap=True, style="red" if self.err.is_terminal else None)
        return error.exit_code

    @contextmanager
    def progress(self, description: str, total: float | None = 1.0) -> Iterator[Progress]:
        """A bar on stderr when it is a terminal (and not with --json); silent otherwise."""
        if self.as_json or not sys.stderr.isatty():
            yield _Silent()  # type: ignore[misc]  # what callers use of a Progress
            return
        from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

        bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                       console=self.err, transient=True)
        with bar:
            bar.add_task(description, total=total)
            yield bar


class _Silent:
    """A progress bar nobody sees: no Rich to load for it."""

    task_ids = [0]

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass


def instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def local_time(iso: str | None) -> str:
    """An ISO time as the local clock shows it, to the second."""
    return instant(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S") if iso else ""
