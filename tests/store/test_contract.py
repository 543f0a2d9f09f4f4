"""The store contract: one suite, every backend (memory, SQLite, PostgreSQL), DESIGN.md §7.2.

What it protects: a reloaded execution is exactly what the commits wrote (frames, status,
history order); listings filter and sort as the API needs; leases keep two processes from
running one execution; a stale writer cannot overwrite a newer transition; migrations are
idempotent. What does not apply to the memory store (one process, live objects) is skipped
with the reason.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import time

import pytest

from stepflow.engine.interpreter import Progress
from stepflow.engine.snapshot import FAILED, ROOT, RUNNING, SUCCEEDED, Execution, Frame
from stepflow.store import open_store
from stepflow.store.records import StateMachineRecord
from stepflow.store.sql_store import LeaseLost, migrations

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
OTHER_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:other"


def another(open_stores, store):
    """A second store on the same database (the memory store has only itself)."""
    return store if store.url.startswith("memory:") else open_stores()


def needs_sql(store) -> None:
    if store.url.startswith("memory:"):
        pytest.skip("the memory store lives in one process: no second owner, no schema")


# builders ------------------------------------------------------------------------------------


def record(name: str = "m", revision: str = "r1", definition: str = '{"StartAt":"P"}', created: float = 1.0) -> StateMachineRecord:
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    return StateMachineRecord(arn=arn, name=name, definition=definition, role_arn="arn:aws:iam::1:role/r",
                              creation_date=created, revision_id=revision, tags={"team": "data"})


def execution(name: str, machine: str = MACHINE, start: float = 100.0) -> Execution:
    return Execution(arn=f"{machine.replace(':stateMachine:', ':execution:')}:{name}", name=name,
                     state_machine_arn=machine, state_machine_name=machine.rsplit(":", 1)[1],
                     input={"n": 1, "s": "é"}, input_text='{"n":1,"s":"é"}', start_date=start)


def emit(exe: Execution, event_type: str, **details) -> None:
    event_id = exe.next_event_id
    exe.next_event_id += 1
    exe.events.append({"id": event_id, "previousEventId": event_id - 1, "timestamp": 100.0 + event_id,
                       "type": event_type, **details})


def call(exe: Execution, change, *event_types: str) -> Progress:
    """One interpreter call, not yet committed: ``change(exe, progress)`` edits frames, then events."""
    progress = Progress(first_event=len(exe.events))
    change(exe, progress)
    for event_type in event_types:
        emit(exe, event_type)
    return progress


def step(store, exe: Execution, change, *event_types: str) -> Progress:
    """One interpreter call, committed."""
    progress = call(exe, change, *event_types)
    store.commit(exe, progress)
    return progress


def put_frame(exe: Execution, progress: Progress, key: str, **fields) -> None:
    frame = exe.frames.get(key) or Frame(key=key, program="main", parent=None if key == ROOT else ROOT)
    for name, value in fields.items():
        setattr(frame, name, value)
    exe.frames[key] = frame
    progress.dirty.add(key)


def drop_frame(exe: Execution, progress: Progress, key: str) -> None:
    del exe.frames[key]
    progress.removed.add(key)


def started(store, name: str, machine: str = MACHINE, start: float = 100.0) -> Execution:
    """An execution created and past its first transition (root frame in state A)."""
    exe = execution(name, machine, start)
    store.create_execution(exe)
    step(store, exe, lambda e, p: put_frame(e, p, ROOT, state="A", input={"n": 1}), "ExecutionStarted", "PassStateEntered")
    return exe


def frame_fields(frame: Frame) -> dict:
    data = frame.to_dict()
    data.pop("input_text")  # a cache of the input's text, not persisted
    return data


def execution_fields(exe: Execution) -> dict:
    skip = {"frames", "events", "ready", "inflight"}
    return {f.name: getattr(exe, f.name) for f in dataclasses.fields(exe) if f.name not in skip}


# state machines ------------------------------------------------------------------------------


def test_state_machine_round_trip_in_creation_order(store):
    first, second = record("b", "rb", created=1.0), record("a", "ra", created=2.0)
    store.put_state_machine(first)
    store.put_state_machine(second)
    assert store.get_state_machine(first.arn) == first
    assert [m.name for m in store.list_state_machines()] == ["b", "a"]


def test_updating_a_state_machine_keeps_older_revisions_readable(store):
    store.put_state_machine(record("m", "r1", '{"v":1}'))
    store.put_state_machine(record("m", "r2", '{"v":2}'))
    assert store.get_state_machine(record().arn).definition == '{"v":2}'
    assert len(store.list_state_machines()) == 1
    assert store.definition("r1") == '{"v":1}'
    assert store.definition("r2") == '{"v":2}'


def test_deleted_state_machine_is_gone_but_its_definition_stays(store):
    store.put_state_machine(record())
    store.delete_state_machine(record().arn)
    assert store.get_state_machine(record().arn) is None
    assert store.list_state_machines() == []
    assert store.definition("r1") == '{"StartAt":"P"}'


def test_missing_things_are_none(store):
    assert store.get_state_machine(MACHINE) is None
    assert store.definition("nope") is None
    assert store.get_execution("arn:nope") is None
    assert store.history("arn:nope") == []
    assert store.get_resource("activity", "arn:nope") is None


# executions ------------------------------------------------------------------------------------


def commit_three_steps(store) -> Execution:
    """Enter a Map: two iterations appear, the first finishes and goes, the second moves on."""
    exe = started(store, "e1")

    def open_map(e, p):
        put_frame(e, p, ROOT, state="M", wait={"kind": "children", "pending": 2}, retries=[0, 1])
        put_frame(e, p, "M[0]", state="C", index=0, input=0, parent=ROOT)
        put_frame(e, p, "M[1]", state="C", index=1, input=[1, {"x": None}], parent=ROOT, vars={"v": "ü"})

    def close_first(e, p):
        drop_frame(e, p, "M[0]")
        put_frame(e, p, "M[1]", state="P", attempt=2, wait={"kind": "timer", "due": 123.5, "token": "t1"})

    step(store, exe, open_map, "MapStateEntered", "MapIterationStarted", "MapIterationStarted")
    step(store, exe, close_first, "MapIterationSucceeded")
    return exe


def test_reloaded_execution_has_exactly_the_committed_frames(open_stores):
    writer = open_stores()
    exe = commit_three_steps(writer)
    reader = another(open_stores, writer)
    loaded = reader.get_execution(exe.arn, with_frames=True)
    assert sorted(loaded.frames) == [ROOT, "M[1]"]
    for key, frame in loaded.frames.items():
        assert frame_fields(frame) == frame_fields(exe.frames[key])
    assert execution_fields(loaded) == execution_fields(exe)


def test_history_is_every_event_in_id_order(store):
    exe = commit_three_steps(store)
    events = store.history(exe.arn)
    assert [e["id"] for e in events] == list(range(1, 7))
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "PassStateEntered", "MapStateEntered",
        "MapIterationStarted", "MapIterationStarted", "MapIterationSucceeded",
    ]
    assert events[0]["previousEventId"] == 0 and events[0]["timestamp"] == 101.0


def test_finished_execution_keeps_status_output_and_history(open_stores):
    store = open_stores()
    exe = started(store, "done")

    def succeed(e, p):
        e.status, e.stop_date, e.output_text = SUCCEEDED, 200.5, '{"out":[1,2]}'
        put_frame(e, p, ROOT, status=SUCCEEDED, output={"out": [1, 2]})

    step(store, exe, succeed, "ExecutionSucceeded")
    reader = another(open_stores, store)
    loaded = reader.get_execution(exe.arn)
    assert (loaded.status, loaded.stop_date, loaded.output_text) == (SUCCEEDED, 200.5, '{"out":[1,2]}')
    assert [e["type"] for e in reader.history(exe.arn)][-1] == "ExecutionSucceeded"


def test_list_executions_filters_and_sorts_newest_first(store):
    old = started(store, "old", start=100.0)
    new = started(store, "new", start=300.0)
    other = started(store, "other", OTHER_MACHINE, start=200.0)
    step(store, old, lambda e, p: setattr(e, "status", FAILED), "ExecutionFailed")

    def names(**filters):
        return [e.name for e in store.list_executions(**filters)]

    assert names() == ["new", "other", "old"]
    assert names(state_machine_arn=MACHINE) == ["new", "old"]
    assert names(status=RUNNING) == ["new", "other"]
    assert names(state_machine_arn=MACHINE, status=FAILED) == ["old"]
    assert names(state_machine_arn=OTHER_MACHINE, status=FAILED) == []
    assert store.list_executions(status=FAILED)[0].arn == old.arn and new.arn != other.arn


def test_running_returns_only_running_executions_with_their_frames(store):
    first = started(store, "a", start=1.0)
    second = commit_three_steps(store)
    finished = started(store, "b", start=2.0)
    step(store, finished, lambda e, p: setattr(e, "status", SUCCEEDED), "ExecutionSucceeded")
    running = {e.arn: e for e in store.running()}
    assert set(running) == {first.arn, second.arn}
    assert sorted(running[second.arn].frames) == [ROOT, "M[1]"]
    assert all(e.status == RUNNING for e in running.values())


# leases (several processes sharing one database) ---------------------------------------------------


def test_a_live_lease_keeps_other_owners_out_until_it_expires(open_stores):
    owner, other = open_stores(), open_stores()
    needs_sql(owner)
    owner.lease_seconds = 0.3
    exe = started(owner, "leased")
    assert other.running() == []
    assert not other.claim(exe.arn)
    time.sleep(0.4)
    assert [e.arn for e in other.running()] == [exe.arn]
    assert not owner.claim(exe.arn)  # now the other one holds a live lease


def test_renewed_leases_stay_ours(open_stores):
    owner, other = open_stores(), open_stores()
    needs_sql(owner)
    owner.lease_seconds = 0.2
    exe = started(owner, "renewed")
    owner.lease_seconds = 30.0
    owner.renew_leases()
    time.sleep(0.3)
    assert not other.claim(exe.arn)
    assert owner.claim(exe.arn)


def test_renewing_leases_names_the_running_executions_held(store):
    held = started(store, "held", start=1.0)
    also = started(store, "also", start=2.0)
    ended = started(store, "ended", start=3.0)
    step(store, ended, lambda e, p: setattr(e, "status", SUCCEEDED), "ExecutionSucceeded")
    assert store.renew_leases() == {held.arn, also.arn}


def test_renewing_leases_leaves_out_what_another_process_took_over_or_stopped(open_stores):
    owner, other = open_stores(), open_stores()
    needs_sql(owner)
    kept, taken, stopped = (started(owner, name) for name in ("kept", "taken", "stopped"))
    assert owner.renew_leases() == {kept.arn, taken.arn, stopped.arn}
    assert other.claim(taken.arn, force=True)  # RedriveExecution / StopExecution take it so
    assert other.claim(stopped.arn, force=True)
    loaded = other.get_execution(stopped.arn, with_frames=True)
    step(other, loaded, lambda e, p: setattr(e, "status", "ABORTED"), "ExecutionAborted")
    assert owner.renew_leases() == {kept.arn}
    assert other.renew_leases() == {taken.arn}


def test_a_released_execution_can_be_claimed_at_once(open_stores):
    owner, other = open_stores(), open_stores()
    needs_sql(owner)
    exe = started(owner, "released")
    owner.release(exe.arn)
    assert other.claim(exe.arn)


def test_the_lease_of_a_dead_process_on_this_host_is_taken_over(open_stores):
    owner, other = open_stores(), open_stores()
    needs_sql(owner)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    owner.owner = f"{socket.gethostname()}:{dead.stdout.strip()}:crashed"
    exe = started(owner, "orphan")
    assert other.claim(exe.arn)


def test_finished_executions_cannot_be_claimed(open_stores):
    owner, other = open_stores(), open_stores()
    needs_sql(owner)
    owner.lease_seconds = 0.0
    exe = started(owner, "finished")
    step(owner, exe, lambda e, p: setattr(e, "status", SUCCEEDED), "ExecutionSucceeded")
    assert not other.claim(exe.arn)
    assert other.running() == []


def overtaken(open_stores):
    """A SQL store whose execution another store took over (its lease had expired) and moved on
    by one transition: (the stale store, its stale copy, the store that took it, that store's copy)."""
    stale, fresh = open_stores(), open_stores()
    needs_sql(stale)
    stale.lease_seconds = 0.0
    exe = started(stale, "contended")
    [taken] = fresh.running()
    step(fresh, taken, lambda e, p: put_frame(e, p, ROOT, state="B"), "PassStateExited")
    return stale, exe, fresh, taken


def test_a_stale_writer_cannot_overwrite_a_newer_transition(open_stores):
    stale, exe, fresh, taken = overtaken(open_stores)
    with pytest.raises(LeaseLost):
        step(stale, exe, lambda e, p: put_frame(e, p, ROOT, state="STALE"), "PassStateExited")
    reloaded = open_stores().get_execution(exe.arn, with_frames=True)
    assert reloaded.frames[ROOT].state == "B"
    assert [e["id"] for e in fresh.history(exe.arn)] == [1, 2, 3]
    step(fresh, taken, lambda e, p: put_frame(e, p, ROOT, state="C"), "PassStateEntered")
    assert fresh.get_execution(exe.arn, with_frames=True).frames[ROOT].state == "C"


# group commit ------------------------------------------------------------------------------------


def test_group_commit_writes_every_execution_and_merges_calls_on_one(open_stores):
    store = open_stores()
    first, second = started(store, "g1"), started(store, "g2")
    batch = [
        (first, call(first, lambda e, p: put_frame(e, p, "M[0]", state="C", parent=ROOT), "MapIterationStarted")),
        (second, call(second, lambda e, p: put_frame(e, p, ROOT, state="B"), "PassStateExited")),
        (first, call(first, lambda e, p: (drop_frame(e, p, "M[0]"), put_frame(e, p, "M[1]", state="P")), "MapIterationSucceeded")),
    ]
    assert store.commit_many(batch) == []
    reader = another(open_stores, store)
    loaded = reader.get_execution(first.arn, with_frames=True)
    assert sorted(loaded.frames) == [ROOT, "M[1]"] and loaded.frames["M[1]"].state == "P"
    assert [e["type"] for e in reader.history(first.arn)][2:] == ["MapIterationStarted", "MapIterationSucceeded"]
    assert [e["id"] for e in reader.history(first.arn)] == [1, 2, 3, 4]
    assert reader.get_execution(second.arn, with_frames=True).frames[ROOT].state == "B"
    step(store, first, lambda e, p: put_frame(e, p, ROOT, state="Z"), "PassStateEntered")  # versions still line up
    assert [e["id"] for e in reader.history(first.arn)] == [1, 2, 3, 4, 5]


def test_group_commit_refuses_only_the_stale_execution(open_stores):
    stale, fresh = open_stores(), open_stores()
    needs_sql(stale)
    stale.lease_seconds = 0.0
    contended = started(stale, "contended")
    stale.lease_seconds = 30.0
    kept = started(stale, "kept")
    [taken] = fresh.running()
    step(fresh, taken, lambda e, p: put_frame(e, p, ROOT, state="B"), "PassStateExited")
    batch = [
        (contended, call(contended, lambda e, p: put_frame(e, p, ROOT, state="STALE"), "PassStateExited")),
        (kept, call(kept, lambda e, p: put_frame(e, p, ROOT, state="K"), "PassStateExited")),
    ]
    assert stale.commit_many(batch) == [contended]
    assert fresh.get_execution(contended.arn, with_frames=True).frames[ROOT].state == "B"
    assert fresh.get_execution(kept.arn, with_frames=True).frames[ROOT].state == "K"
    assert len(fresh.history(contended.arn)) == 3 and len(fresh.history(kept.arn)) == 3


def test_a_new_execution_can_be_written_by_its_first_commit(open_stores):
    store = open_stores()
    exe = execution("joined")
    store.create_execution(exe, with_first_commit=True)
    reader = another(open_stores, store)
    if reader is not store:
        assert reader.get_execution(exe.arn) is None  # no transaction of its own
    first = call(exe, lambda e, p: put_frame(e, p, ROOT, state="A", input={"n": 1}), "ExecutionStarted", "PassStateEntered")
    assert store.commit_many([(exe, first)]) == []
    loaded = reader.get_execution(exe.arn, with_frames=True)
    assert execution_fields(loaded) == execution_fields(exe) and loaded.frames[ROOT].state == "A"
    assert [e["type"] for e in reader.history(exe.arn)] == ["ExecutionStarted", "PassStateEntered"]
    step(store, exe, lambda e, p: put_frame(e, p, ROOT, state="B"), "PassStateExited")  # its version lines up
    assert [e["id"] for e in reader.history(exe.arn)] == [1, 2, 3]
    assert reader.get_execution(exe.arn, with_frames=True).frames[ROOT].state == "B"


def test_a_new_execution_whose_arn_another_process_took_is_refused_alone(open_stores):
    mine, theirs = open_stores(), open_stores()
    needs_sql(mine)
    taken = started(theirs, "same-name")
    duplicate, fresh = execution("same-name"), execution("other-name")
    for exe in (duplicate, fresh):
        mine.create_execution(exe, with_first_commit=True)
    batch = [(exe, call(exe, lambda e, p: put_frame(e, p, ROOT, state="MINE"), "ExecutionStarted")) for exe in (duplicate, fresh)]
    assert mine.commit_many(batch) == [duplicate]
    assert theirs.get_execution(taken.arn, with_frames=True).frames[ROOT].state == "A"
    assert [e["type"] for e in theirs.history(taken.arn)] == ["ExecutionStarted", "PassStateEntered"]
    assert theirs.get_execution(fresh.arn, with_frames=True).frames[ROOT].state == "MINE"
    assert mine.commit_many([(duplicate, call(duplicate, lambda e, p: None, "PassStateExited"))]) == [duplicate]  # never inserted later


def test_a_discarded_new_execution_is_forgotten_unwritten(open_stores):
    store = open_stores()
    exe, kept = execution("failed-start"), execution("kept")
    for new in (exe, kept):
        store.create_execution(new, with_first_commit=True)
    store.discard(exe)  # its start failed before its first commit
    first = call(kept, lambda e, p: put_frame(e, p, ROOT, state="A"), "ExecutionStarted")
    assert store.commit_many([(kept, first)]) == []
    reader = another(open_stores, store)
    assert reader.get_execution(exe.arn) is None and [e.name for e in reader.list_executions()] == ["kept"]
    store.discard(kept)  # already written: it stays
    assert reader.get_execution(kept.arn) is not None


def test_a_refused_new_execution_never_commits_over_the_row_that_took_its_arn(open_stores):
    """Their row is still at version 0 (written before its first transition, as StartSyncExecution
    writes one): a later commit of our refused execution must not update it as if it were ours."""
    mine, theirs = open_stores(), open_stores()
    needs_sql(mine)
    taken, duplicate = execution("same-name"), execution("same-name")
    taken.input_text = '{"who":"theirs"}'
    mine.create_execution(duplicate, with_first_commit=True)
    theirs.create_execution(taken)
    first = call(duplicate, lambda e, p: put_frame(e, p, ROOT, state="MINE"), "ExecutionStarted")
    assert mine.commit_many([(duplicate, first)]) == [duplicate]
    later = call(duplicate, lambda e, p: put_frame(e, p, ROOT, state="MINE-AGAIN"), "PassStateEntered")
    assert mine.commit_many([(duplicate, later)]) == [duplicate]  # forgotten: no version to commit at
    stored = theirs.get_execution(taken.arn, with_frames=True)
    assert stored.input_text == '{"who":"theirs"}' and stored.frames == {} and theirs.history(taken.arn) == []
    step(theirs, taken, lambda e, p: put_frame(e, p, ROOT, state="A"), "ExecutionStarted")  # their version still lines up
    assert theirs.get_execution(taken.arn, with_frames=True).frames[ROOT].state == "A"


def test_an_execution_this_store_never_wrote_nor_loaded_to_run_is_not_committed(open_stores):
    mine, theirs = open_stores(), open_stores()
    needs_sql(mine)
    theirs.create_execution(execution("theirs"))  # at version 0, not yet past its first transition
    seen = mine.get_execution(execution("theirs").arn)  # read, not loaded to run (no frames, no lease)
    assert mine.commit_many([(seen, call(seen, lambda e, p: put_frame(e, p, ROOT, state="MINE"), "PassStateEntered"))]) == [seen]
    assert theirs.get_execution(seen.arn, with_frames=True).frames == {} and theirs.history(seen.arn) == []


def test_a_commit_refused_by_the_version_check_forgets_the_version(open_stores):
    stale, exe, fresh, _ = overtaken(open_stores)
    assert stale.commit_many([(exe, call(exe, lambda e, p: put_frame(e, p, ROOT, state="STALE"), "PassStateExited"))]) == [exe]
    assert exe.arn not in stale._versions  # to commit it again this store must load it again
    again = stale.get_execution(exe.arn, with_frames=True)
    assert stale.claim(exe.arn, force=True)
    step(stale, again, lambda e, p: put_frame(e, p, ROOT, state="C"), "PassStateEntered")
    assert [e["id"] for e in fresh.history(exe.arn)] == [1, 2, 3, 4]


# other resources ------------------------------------------------------------------------------------


def test_resources_round_trip_by_kind_in_creation_order(store):
    store.put_resource("activity", "arn:a2", {"name": "second", "n": [1, {"é": None}]})
    store.put_resource("activity", "arn:a1", {"name": "first"})
    store.put_resource("alias", "arn:a1", {"name": "alias"})
    assert store.get_resource("activity", "arn:a2") == {"name": "second", "n": [1, {"é": None}]}
    assert [r["name"] for r in store.list_resources("activity")] == ["second", "first"]
    assert store.list_resources("alias") == [{"name": "alias"}]
    assert store.list_resources("tags") == []


def test_resources_are_replaced_and_deleted(store):
    store.put_resource("activity", "arn:a", {"v": 1})
    store.put_resource("activity", "arn:a", {"v": 2})
    assert store.list_resources("activity") == [{"v": 2}]
    store.delete_resource("activity", "arn:a")
    store.delete_resource("activity", "arn:never")
    assert store.get_resource("activity", "arn:a") is None


def test_a_returned_resource_is_a_copy(store):
    store.put_resource("tags", "arn:x", {"tags": {"a": "1"}})
    store.get_resource("tags", "arn:x")["tags"]["a"] = "changed"
    assert store.get_resource("tags", "arn:x") == {"tags": {"a": "1"}}


# migrations ------------------------------------------------------------------------------------------


def test_migrations_are_idempotent_and_numbered(store_url, open_stores):
    first = open_stores()
    needs_sql(first)
    first.put_state_machine(record())
    second = open_stores()  # migrates again: nothing to do, nothing lost
    expected = len(migrations(first.dialect))
    assert [number for number, _ in migrations(first.dialect)] == list(range(1, expected + 1))
    assert first.schema_version() == second.schema_version() == expected
    assert second.get_state_machine(record().arn) == record()


def test_an_older_schema_is_upgraded_with_its_history(store_url, open_stores, monkeypatch):
    """A database made before history pages (migration 3) keeps its events after the upgrade."""
    import stepflow.store.sql_store as sql_store

    everything = sql_store.migrations
    monkeypatch.setattr(sql_store, "migrations", lambda dialect: everything(dialect)[:2])
    old = open_stores()
    needs_sql(old)
    old.create_execution(execution("before"))
    with old.transaction() as cur:
        for event_id in (1, 2):
            cur.execute(old.adapt({"q": "INSERT INTO events (execution_arn, id, data) VALUES (:arn, :id, :data)"})["q"],
                        {"arn": execution("before").arn, "id": event_id, "data": f'{{"id":{event_id},"type":"T{event_id}"}}'})
    monkeypatch.setattr(sql_store, "migrations", everything)
    upgraded = open_stores()
    assert upgraded.schema_version() == len(everything(upgraded.dialect))
    assert upgraded.history(execution("before").arn) == [{"id": 1, "type": "T1"}, {"id": 2, "type": "T2"}]


def test_unknown_store_urls_are_refused():
    from stepflow.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        open_store("mysql://localhost/db")
