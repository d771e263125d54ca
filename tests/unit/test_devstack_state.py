"""The local stack's state as one thing: what a starting stack clears, the port slots that
keep every URL where it was when a worker is added, what `courier dev up` takes for a
changed folder, and what `make demo` prints when the stack it started is about to stop."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from devstack.cli import changed_workers
from devstack.demo import farewell
from devstack.environment import DevSettings, local_config, wipe_state


def settings_with(directory: Path, *names: str) -> DevSettings:
    config = local_config()
    template = config.workers[0]
    return DevSettings(directory=directory, port_base=30000, config=replace(config, workers=tuple(replace(template, name=n) for n in names)))


def test_a_worker_added_takes_the_next_ports_and_no_other_url_moves(tmp_path: Path) -> None:
    before = settings_with(tmp_path, "beta", "delta")
    before.keep_port_slots()
    urls = {name: before.function_url(name) for name in ("beta", "delta")}
    hosts = {name: before.host_port(name) for name in ("jobs_api", "beta", "delta")}
    after = settings_with(tmp_path, "alpha", "beta", "delta")  # sorts first, as a folder would
    assert {name: after.function_url(name) for name in ("beta", "delta")} == urls
    assert {name: after.host_port(name) for name in ("jobs_api", "beta", "delta")} == hosts
    assert after.function_url_port("alpha") == 30012 and after.host_port("alpha") == 30023
    after.keep_port_slots()
    # A removed worker keeps its slot (its URL is nobody else's); a fresh folder starts at 0.
    assert settings_with(tmp_path, "alpha", "delta").function_url_port("delta") == 30011
    assert settings_with(tmp_path / "fresh", "alpha", "delta").function_url_port("delta") == 30011
    assert settings_with(tmp_path / "fresh", "alpha", "delta").function_url_port("alpha") == 30010


def test_a_starting_stack_clears_what_referred_to_the_last_one_and_keeps_its_logs(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "beta")
    settings.keep_port_slots()
    kept = [settings.qstash_db, tmp_path / "qstash.sqlite3-wal", tmp_path / "qstash.sqlite3-shm", settings.api_key_file,
            settings.keys_directory / "acme"]
    for path in [*kept, settings.logs / "devstack.log"]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    removed = wipe_state(settings)
    assert set(removed) == {*kept[:-1], settings.keys_directory}
    assert not any(p.exists() for p in kept) and (settings.logs / "devstack.log").exists() and settings.ports_file.exists()
    assert wipe_state(settings, ports=True) == [settings.ports_file]


def test_up_reloads_for_a_new_worker_a_removed_one_or_changed_job_types_only(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "beta", "delta")
    running = {"jobTypes": {w.name: list(w.job_types) for w in settings.config.workers}}
    assert changed_workers(running, settings) == ""
    assert changed_workers(running, settings_with(tmp_path, "alpha", "beta", "delta")) == "new worker alpha"
    assert changed_workers(running, settings_with(tmp_path, "beta")) == "delta gone"
    renamed = {"jobTypes": {**running["jobTypes"], "beta": ["beta.other"]}}
    assert changed_workers(renamed, settings) == "beta's job types"


def test_a_scripted_demo_that_stops_its_stack_prints_no_address_that_will_not_answer(tmp_path: Path) -> None:
    settings = DevSettings(directory=tmp_path)
    state = {"urls": {"api": "http://127.0.0.1:4560", "docs": "http://127.0.0.1:4560/docs", "qstash": "http://127.0.0.1:4561",
                      "aws": "http://127.0.0.1:4566"}, "logs": str(tmp_path / "logs")}
    staying = farewell(state, settings, stays=True)
    assert "console   http://127.0.0.1:4560/console" in staying and str(settings.api_key_file) in staying
    stopping = farewell(state, settings, stays=False)
    assert "127.0.0.1" not in stopping and "make dev" in stopping and str(tmp_path / "logs") in stopping
