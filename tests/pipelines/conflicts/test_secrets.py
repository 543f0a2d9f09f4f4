"""The database password never appears in logs, history, output or errors.

A role with a distinctive password owns a database of its own; the pipeline runs with a
``DATABASE_URL`` holding that password (plain and URL-encoded forms are both searched for).
Failures are driven on purpose (bad configuration, unreachable server, unknown database and role,
missing schema, a handler exception in a chunk) and everything that could carry the password
is searched: raised errors, validate_config reports, captured logs, the CLI's stdout/stderr,
execution histories, outputs and causes, SNS messages, the worker-process Lambda log files, the
stepflow CLI's output, the store's files and the demo's summary."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from cm_pipeline import db
from cm_pipeline.config import Config
from cm_pipeline.errors import PipelineError
from cm_pipeline.handler import lambda_handler
from cm_pipeline.reference import stable_id
from cm_testlib import AS_OF, expected, load
from stepflow_testlib import PIPELINE, Pipeline, database_url

from stepflow.testing import free_port

ENV_NAMES = ("POSTGRES_DSN", "DATABASE_URL", "POSTGRES_HOST", "POSTGRES_DB", "POSTGRES_DATABASE", "POSTGRES_USER",
             "POSTGRES_PASSWORD", "POSTGRES_PORT", "CONFLICT_SCHEMA", "ANALYTICS_SCHEMA", "MAX_CONCURRENCY",
             "TARGET_CHUNK_SIZE", "MAX_CHUNK_SIZE", "LOOKBACK_YEARS", "AS_OF")


def assert_secret_free(password: str, *texts) -> None:
    for text in texts:
        text = text if isinstance(text, str) else json.dumps(text, default=str)
        for form in {password, quote(password, safe=""), quote(password)}:
            assert form not in text, f"password found in: {text[:2000]}"


def _with(dsn: str, **parts) -> str:
    """The same URI with another dbname and/or user."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo(dsn, **parts)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _handler_failure(event: dict) -> PipelineError:
    with pytest.raises(PipelineError) as info:
        lambda_handler(event, None)
    return info.value


def test_validate_config_and_handler_failures_never_show_the_password(secret_database, clean_env, caplog):
    dsn, password = secret_database
    caplog.set_level(logging.DEBUG)
    unreachable = database_url(f"postgresql://x@127.0.0.1:{free_port()}/db", "conflictreport", user="etl",
                               password=password)
    cases = [
        {"DATABASE_URL": dsn, "MAX_CONCURRENCY": "many", "TARGET_CHUNK_SIZE": "9", "MAX_CHUNK_SIZE": "3",
         "CONFLICT_SCHEMA": "Bad Schema"},                                                # CONFIG_INVALID
        {"POSTGRES_PASSWORD": password, "POSTGRES_USER": "etl"},                          # CONFIG_MISSING
        {"POSTGRES_DSN": f"host=localhost password={password} port"},                     # unparsable DSN
        {"POSTGRES_DSN": f"postgresql://etl:{quote(password, safe='')}@localhost:port/db"},
        {"DATABASE_URL": unreachable, "POSTGRES_CONNECT_TIMEOUT": "2"},                   # DB_UNREACHABLE
        {"DATABASE_URL": _with(dsn, dbname=f"missing_{uuid.uuid4().hex[:8]}")},           # DB_NOT_FOUND
        {"DATABASE_URL": _with(dsn, user=f"nobody_{uuid.uuid4().hex[:8]}")},              # DB_AUTH_FAILED
        {"DATABASE_URL": dsn},                                                            # SCHEMA_MISSING
        {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(free_port()), "POSTGRES_DB": "x", "POSTGRES_USER": "etl",
         "POSTGRES_PASSWORD": password, "POSTGRES_CONNECT_TIMEOUT": "2"},                 # parts, unreachable
    ]
    codes = set()
    for env in cases:
        for name, value in env.items():
            clean_env.setenv(name, value)
        report = lambda_handler({"action": "validate_config", "report_only": True}, None)
        assert report["status"] == "failed", (env, report)
        codes |= {e["code"] for e in report["errors"]}
        error = _handler_failure({"action": "validate_config"})
        other = _handler_failure({"action": "task_02"})  # every other action connects, or refuses the config
        assert_secret_free(password, report, str(error), repr(error), str(other), repr(other))
        for name in env:
            clean_env.delenv(name)
    assert {"CONFIG_INVALID", "CONFIG_MISSING", "DB_UNREACHABLE", "DB_NOT_FOUND", "DB_AUTH_FAILED",
            "SCHEMA_MISSING"} <= codes
    assert_secret_free(password, caplog.text, [r.getMessage() for r in caplog.records])


def test_handler_exceptions_and_cli_never_show_the_password(secret_database, clean_env, caplog, tmp_path):
    dsn, password = secret_database
    caplog.set_level(logging.DEBUG)
    clean_env.setenv("DATABASE_URL", dsn)
    texts = [lambda_handler({"action": "migrate"}, None)]
    conn = db.connect(Config(dsn=dsn))
    conn.tmp_path = tmp_path
    load(conn, seed=31)
    texts.append(str(_handler_failure({"action": "task_02"})))                          # NO_RUN
    texts.append(str(_handler_failure({"action": "process_task02_chunk", "run_id": str(uuid.uuid4()), "chunk_id": 0})))
    texts.append(lambda_handler({"action": "task_01", "as_of": AS_OF.isoformat()}, None))
    conn.execute("ALTER TABLE conflictvisitmaps RENAME TO cvm_elsewhere")               # a SQL error mid-action
    failure = _handler_failure({"action": "task_02"})
    assert "SQLSTATE 42P01" in str(failure)
    texts.append(str(failure))
    conn.execute("ALTER TABLE cvm_elsewhere RENAME TO conflictvisitmaps")

    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    runs = [({"DATABASE_URL": dsn}, args) for args in (["validate_config"], ["status"], ["task_02"], ["settings"],
                                                        ["process_task02_chunk", "--run-id", "x", "--chunk-id", "1"])]
    runs.append(({"DATABASE_URL": _with(dsn, port=str(free_port()), host="127.0.0.1")}, ["validate_config"]))
    runs.append(({"DATABASE_URL": _with(dsn, port=str(free_port()), host="127.0.0.1")}, ["status"]))
    outputs = []
    for extra, args in runs:
        done = subprocess.run([sys.executable, "-m", "cm_pipeline", *args], cwd=PIPELINE, env={**env, **extra},
                              capture_output=True, text=True, timeout=60)
        outputs.append(done.stdout + done.stderr)
    assert any('"status": "ok"' in o for o in outputs) and any("DB_UNREACHABLE" in o for o in outputs), outputs
    assert_secret_free(password, *texts, *outputs, caplog.text)
    conn.close()


def _files_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in sorted(folder.rglob("*")) if p.is_file())


def _stepflow_cli(store_url: str, logs_dir: Path, arns: list[str]) -> str:
    stepflow = str(Path(sys.executable).with_name("stepflow"))
    commands = [["executions"], ["messages", "--json"], ["logs", "cm-pipeline", "--logs-dir", str(logs_dir)]]
    commands += [["history", "--json", arn] for arn in arns]
    out = []
    for command in commands:
        with_store = command if command[0] == "logs" else [*command, "--store", store_url]
        done = subprocess.run([stepflow, *with_store], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        out.append(done.stdout + done.stderr)
    return "\n".join(out)


def test_stepflow_runs_never_show_the_password(secret_database, clean_env, caplog, tmp_path, capsys):
    dsn, password = secret_database
    caplog.set_level(logging.DEBUG)
    with Pipeline(tmp_path, dsn, TargetChunkSize=40, MaxConcurrency=2) as sf:
        no_schema = sf.execute({"as_of": AS_OF.isoformat()})                            # ValidateConfig fails
        assert no_schema["status"] == "FAILED" and "SCHEMA_MISSING" in no_schema["cause"]

        config = Config(dsn=dsn)
        conn = db.connect(config)
        db.migrate(conn, config)
        conn.tmp_path = tmp_path
        load(conn, seed=32, visits=1000)
        victim = next(iter(expected(conn)))[0]
        conn.execute('INSERT INTO conflicts ("CONFLICTID", "VisitID") VALUES (%s, %s)', (stable_id(victim), uuid.uuid4()))
        chunk_fails = sf.execute({"as_of": AS_OF.isoformat()})                         # a chunk's handler raises
        assert chunk_fails["status"] == "FAILED" and "23505" in chunk_fails["cause"]
        conn.execute('DELETE FROM conflicts WHERE "CONFLICTID" = %s AND "VisitID" <> %s', (stable_id(victim), victim))
        redriven = sf.redrive(chunk_fails["executionArn"])
        assert redriven["status"] == "SUCCEEDED"
        arns = [no_schema["executionArn"], chunk_fails["executionArn"]]
        found = [sf.history(arn) for arn in arns] + [no_schema, chunk_fails, redriven]
        found.append(sf.rt.store.list_resources("sns-message"))
        store_url, logs_dir = sf.store_url, sf.logs_dir
    assert len(found[-1]) == 2  # both failures were published

    unreachable = database_url(f"postgresql://x@127.0.0.1:{free_port()}/db", "conflictreport", user="etl",
                               password=password)
    with Pipeline(tmp_path / "down", unreachable, time_scale=0.02) as down:
        gone = down.execute({})
        assert gone["status"] == "FAILED" and gone["error"] == "DatabaseUnavailableError", gone
        found += [gone, down.history(gone["executionArn"]), down.rt.store.list_resources("sns-message")]
        down_logs = _files_text(down.logs_dir)

    import demo  # the make-demo summary prints how to query chunk status

    clean_env.setenv("POSTGRES_DSN", dsn)
    demo.summary(conn, redriven, 1.0, store_url)
    summary = capsys.readouterr().out
    assert "chunks:" in summary
    conn.close()
    store_files = _files_text(tmp_path)  # the SQLite store (and its WAL), messages, logs
    assert_secret_free(password, *found, caplog.text, _files_text(logs_dir), down_logs,
                       _stepflow_cli(store_url, logs_dir, arns), summary, store_files)
    assert "cm-pipeline" in _files_text(logs_dir)
