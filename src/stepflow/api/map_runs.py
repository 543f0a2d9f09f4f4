"""Map runs of distributed Map states: DescribeMapRun, ListMapRuns, UpdateMapRun, and
:class:`MapRunJournal`, which records them.

The engine emits ``MapRunStarted`` (with the ``mapRunArn``) and ``MapRunSucceeded`` /
``MapRunFailed`` / ``MapRunAborted`` in the execution's history; the Map frame's ``wait`` holds
the iteration counters. :class:`MapRunJournal` wraps the store's ``commit`` (the runner's
journal): before each commit it reads the new events and the dirty Map frames and keeps one
document per map run (kind ``map-run``) and, per execution, the list of its map runs (kind
``map-runs-of``). Documents are written only for executions that have distributed Maps.
"""

from __future__ import annotations

from typing import Any

from stepflow.api.common import arn_kind, invalid_arn, paginate, require, with_token
from stepflow.asl.model import StateScope
from stepflow.engine.history import as_dict
from stepflow.errors import ApiError

MAP_RUN = "map-run"
RUNS_OF = "map-runs-of"
_END_STATUS = {"MapRunSucceeded": "SUCCEEDED", "MapRunFailed": "FAILED", "MapRunAborted": "ABORTED"}
_COUNTERS = ("pending", "running", "succeeded", "failed", "timedOut", "aborted", "total", "resultsWritten")
_SETTINGS = ("maxConcurrency", "toleratedFailurePercentage", "toleratedFailureCount")  # what UpdateMapRun changes


def _counts(**values: int) -> dict:
    return {name: int(values.get(name, 0)) for name in _COUNTERS}


class _Seen:
    """What :meth:`MapRunJournal.observe` reads of several calls on one execution: their first
    event and every frame they changed."""

    def __init__(self, first, second):
        self.first_event = min(first.first_event, second.first_event)
        self.dirty = first.dirty | second.dirty


def _per_execution(batch: list) -> list:
    """(execution, progress) once per execution of a batch, in first-seen order (several calls
    on one execution merged)."""
    seen: dict[int, tuple] = {}
    for exe, progress in batch:
        known = seen.get(id(exe))
        seen[id(exe)] = (exe, progress if known is None else _Seen(known[1], progress))
    return list(seen.values())


def _has_distributed_map(machine) -> bool:
    return any(getattr(state, "mode", None) == "DISTRIBUTED"
               for program in machine.programs.values() for state in program.states.values())


def map_run_label(arn: str) -> str:
    """``...:mapRun:MACHINE:EXECUTION/LABEL:ID`` -> LABEL."""
    return arn.rsplit(":", 1)[0].rsplit("/", 1)[-1]


def static_settings(machine, label: str) -> dict:
    """MaxConcurrency and tolerated failures of the Map state ``label`` when they are literals."""
    for program in getattr(machine, "programs", {}).values():
        for state in program.states.values():
            if state.type == "Map" and (state.label or state.name) == label:
                scope = StateScope({}, {}, None, {})
                return {"limit": _literal(state.max_concurrency, scope, 0),
                        "tolerated": [_literal(state.tolerated_failure_count, scope, None), _literal(state.tolerated_failure_percentage, scope, None)]}
    return {}


def _literal(evaluator, scope, default):
    if evaluator is None:
        return default
    try:
        value = evaluator(scope)
    except Exception:  # a path or expression: its value is not known here
        return default
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def new_map_run(exe, event: dict, frame, total: int, settings: dict | None = None) -> dict:
    """The document of a map run that just started (``settings``: the state's literal limits,
    used when the Map already finished within the same commit)."""
    arn = event["mapRunStartedEventDetails"]["mapRunArn"]
    label = map_run_label(arn)
    wait = frame.wait if frame is not None and frame.wait else (settings or {})
    count, percentage = wait.get("tolerated") or (None, None)
    limit = wait.get("limit", 0)
    doc = {
        "mapRunArn": arn, "executionArn": exe.arn, "stateMachineArn": f"{exe.state_machine_arn}/{label}",
        "status": "RUNNING", "startDate": event["timestamp"], "startedEventId": event["id"],
        "frameKey": frame.key if frame is not None else None,
        "maxConcurrency": 0 if limit == total else limit,
        "toleratedFailurePercentage": float(percentage or 0.0), "toleratedFailureCount": int(count or 0),
        "itemCounts": _counts(pending=total, total=total), "redriveCount": 0,
    }
    refresh_counts(doc, frame)
    return doc


def refresh_counts(doc: dict, frame) -> None:
    """Counters from a running Map frame's wait (what started, runs, finished)."""
    wait = frame.wait if frame is not None else None
    if not wait or wait.get("kind") != "children":
        return
    total = wait["total"]
    counts = _counts(pending=total - wait["next"], running=wait["running"], succeeded=wait["done"], failed=wait["failed"], total=total)
    doc["itemCounts"] = counts
    doc["executionCounts"] = dict(counts)


def finish_map_run(doc: dict, status: str, stop_date: float) -> None:
    """The final counters: whatever was not seen to fail succeeded (or, on failure, was aborted)."""
    counts = dict(doc["itemCounts"])
    total = counts["total"]
    if status == "SUCCEEDED":
        counts.update(pending=0, running=0, succeeded=total - counts["failed"])
        counts["resultsWritten"] = counts["succeeded"]
    else:
        if status == "FAILED":
            counts["failed"] = max(counts["failed"] + 1, 1) if counts["failed"] < total else counts["failed"]
        counts.update(pending=0, running=0, aborted=max(0, total - counts["succeeded"] - counts["failed"]))
    doc.update(status=status, stopDate=stop_date, itemCounts=counts, executionCounts=dict(counts))


class MapRunJournal:
    """The runner's journal: the store's commit, noting map runs on the way.

    Everything else is the store's (attribute access passes through).
    """

    def __init__(self, store, machine_for=None):
        self.store = store
        self.machine_for = machine_for  # Execution -> compiled StateMachine (for literal settings)
        self._open: dict[str, dict[str, dict]] = {}  # execution arn -> map run arn -> document
        self._distributed: dict[str, bool] = {}  # revision id -> has the machine a distributed Map?

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def commit(self, exe, progress) -> None:
        changed = self.observe(exe, progress)
        self.store.commit(exe, progress)
        for doc in changed:
            self.store.put_resource(MAP_RUN, doc["mapRunArn"], doc)

    def commit_many(self, batch: list) -> list:
        """Group commit: the store's ``commit_many``, noting map runs of every execution in the
        batch (once per execution); documents of refused executions are not written."""
        changed = [(exe, self.observe(exe, progress)) for exe, progress in _per_execution(batch)]
        refused = self.store.commit_many(batch)
        lost = {id(exe) for exe in refused}
        for exe, docs in changed:
            if id(exe) not in lost:
                for doc in docs:
                    self.store.put_resource(MAP_RUN, doc["mapRunArn"], doc)
        return refused

    def settings_updated(self, doc: dict) -> None:
        """UpdateMapRun changed a map run's settings: the open document this journal rewrites at
        each commit of the Map's frame takes them too (else it would write the old ones back)."""
        open_doc = self._open.get(doc["executionArn"], {}).get(doc["mapRunArn"])
        if open_doc is not None:
            open_doc.update((key, doc[key]) for key in _SETTINGS)

    def observe(self, exe, progress) -> list[dict]:
        """The map-run documents this commit changes (call before the store clears the events)."""
        open_runs = self._open.get(exe.arn)
        if open_runs is None and not self._may_run_maps(exe):
            return []
        events = [as_dict(e) for e in exe.events[progress.first_event:]]
        if open_runs is None and not any(e["type"].startswith("MapRun") for e in events):
            return []
        open_runs = self._open.setdefault(exe.arn, {})
        changed = self._events(exe, events, open_runs)
        for doc in open_runs.values():
            if doc["frameKey"] in progress.dirty and doc not in changed:
                refresh_counts(doc, exe.frames.get(doc["frameKey"]))
                changed.append(doc)
        if exe.finished:
            changed += self._abort_open(exe, open_runs)
            self._open.pop(exe.arn, None)
        return changed

    def _may_run_maps(self, exe) -> bool:
        """Has the execution's machine a distributed Map (the only source of MapRun events)?
        Known per revision, so that a machine without one is not scanned event by event (that
        scan cost about 5% of a 10,000-item inline Map). True when the machine is unknown."""
        known = self._distributed.get(exe.revision)
        if known is None:
            try:
                machine = self.machine_for(exe) if self.machine_for is not None else None
            except Exception:  # noqa: BLE001 - an unknown machine: scan its events, as before
                machine = None
            known = machine is None or _has_distributed_map(machine)
            if machine is not None:
                self._distributed[exe.revision] = known
        return known

    def _events(self, exe, events: list[dict], open_runs: dict) -> list[dict]:
        changed = []
        by_id = {e["id"]: e for e in events}
        for event in events:
            kind = event["type"]
            if kind == "MapRunStarted":
                doc = self._started(exe, event, by_id)
                open_runs[doc["mapRunArn"]] = doc
                changed.append(doc)
            elif kind in _END_STATUS:
                doc = self._ending(exe, event, open_runs)
                if doc is not None:
                    finish_map_run(doc, _END_STATUS[kind], event["timestamp"])
                    open_runs.pop(doc["mapRunArn"], None)
                    changed.append(doc)
        return changed

    def _started(self, exe, event: dict, by_id: dict) -> dict:
        entered = int(event["mapRunStartedEventDetails"]["mapRunArn"].rsplit(":", 1)[1])
        frame = next((f for f in exe.frames.values() if f.entered_id == entered and f.wait and f.wait.get("kind") == "children"), None)
        previous = by_id.get(event.get("previousEventId"), {})
        total = (previous.get("mapStateStartedEventDetails") or {}).get("length", 0)
        settings = None
        if (frame is None or not frame.wait) and self.machine_for is not None:
            settings = static_settings(self.machine_for(exe), map_run_label(event["mapRunStartedEventDetails"]["mapRunArn"]))
        doc = new_map_run(exe, event, frame, total, settings)
        runs = self.store.get_resource(RUNS_OF, exe.arn) or {"executionArn": exe.arn, "mapRuns": []}
        if doc["mapRunArn"] not in runs["mapRuns"]:
            runs["mapRuns"].append(doc["mapRunArn"])
            self.store.put_resource(RUNS_OF, exe.arn, runs)
        return doc

    def _ending(self, exe, event: dict, open_runs: dict) -> dict | None:
        """The open map run an end event closes: the one its frame started just before."""
        previous = event.get("previousEventId")
        for doc in open_runs.values():
            if doc["startedEventId"] == previous:
                return doc
        for arn in (self.store.get_resource(RUNS_OF, exe.arn) or {}).get("mapRuns", []):  # after a restart
            doc = self.store.get_resource(MAP_RUN, arn)
            if doc is not None and doc["status"] == "RUNNING" and doc["startedEventId"] == previous:
                return doc
        return next(iter(open_runs.values()), None)

    def _abort_open(self, exe, open_runs: dict) -> list[dict]:
        for doc in open_runs.values():
            finish_map_run(doc, "ABORTED", exe.stop_date)
        return list(open_runs.values())


class MapRunsMixin:
    """The Map run actions of :class:`stepflow.service.StepFunctions`."""

    def describe_map_run(self, mapRunArn: str = None, **_) -> dict:
        self.runner.before_reply()  # map-run documents are written when transitions commit
        doc = self._map_run(mapRunArn)
        self._live_counts(doc)
        keys = ("mapRunArn", "executionArn", "status", "startDate", "stopDate", "maxConcurrency", "toleratedFailurePercentage",
                "toleratedFailureCount", "itemCounts", "executionCounts", "redriveCount", "redriveDate")
        out = {k: doc[k] for k in keys if doc.get(k) is not None}
        out.setdefault("executionCounts", dict(doc["itemCounts"]))
        return out

    def list_map_runs(self, executionArn: str = None, maxResults: int = None, nextToken: str = None, **_) -> dict:
        require(executionArn=executionArn)
        self.runner.before_reply()
        self._execution(executionArn)
        arns = (self.store.get_resource(RUNS_OF, executionArn) or {}).get("mapRuns", [])
        docs = [d for d in (self.store.get_resource(MAP_RUN, a) for a in arns) if d is not None]
        page, token = paginate(docs, maxResults, nextToken)
        items = []
        for d in page:
            item = {k: d[k] for k in ("executionArn", "mapRunArn", "stateMachineArn", "startDate")}
            if d.get("stopDate") is not None:
                item["stopDate"] = d["stopDate"]
            items.append(item)
        return with_token({"mapRuns": items}, token)

    def update_map_run(self, mapRunArn: str = None, maxConcurrency: int = None, toleratedFailurePercentage: float = None,
                       toleratedFailureCount: int = None, **_) -> dict:
        doc = self._map_run(mapRunArn)
        if maxConcurrency is None and toleratedFailurePercentage is None and toleratedFailureCount is None:
            raise ApiError("ValidationException", "At least one of maxConcurrency, toleratedFailurePercentage or toleratedFailureCount must be specified")
        _check_update(maxConcurrency, toleratedFailurePercentage, toleratedFailureCount)
        if doc["status"] != "RUNNING":
            raise ApiError("ValidationException", f"Map Run {mapRunArn} is not RUNNING and cannot be updated")
        for key, value in zip(_SETTINGS, (maxConcurrency, toleratedFailurePercentage, toleratedFailureCount)):
            if value is not None:
                doc[key] = float(value) if key == "toleratedFailurePercentage" else int(value)
        self._apply_to_frame(doc)
        settings_updated = getattr(self.runner.journal, "settings_updated", None)
        if settings_updated is not None:  # the runner's journal is a MapRunJournal (it is in a Runtime)
            settings_updated(doc)
        self.store.put_resource(MAP_RUN, doc["mapRunArn"], doc)
        self.runner.before_reply()  # the Map's frame, with the new limits, is committed before the reply
        return {}

    # -- helpers ------------------------------------------------------------------------------

    def _map_run(self, arn: str | None) -> dict:
        require(mapRunArn=arn)
        if arn_kind(arn) != "mapRun":
            raise invalid_arn(arn)
        doc = self.store.get_resource(MAP_RUN, arn)
        if doc is None:
            raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'")
        return doc

    def _live_frame(self, doc: dict):
        return self._live(doc)[1]

    def _live(self, doc: dict) -> tuple:
        """(execution, Map frame) of a map run running in this process, or (None, None)."""
        exe = self.runner.active.get(doc["executionArn"])
        frame = exe.frames.get(doc.get("frameKey")) if exe is not None else None
        if frame is None or not frame.wait or frame.wait.get("kind") != "children":
            return None, None
        return exe, frame

    def _live_counts(self, doc: dict) -> None:
        if doc["status"] == "RUNNING":
            refresh_counts(doc, self._live_frame(doc))

    def _apply_to_frame(self, doc: dict) -> None:
        """New limits take effect in the running Map (from its next finished iteration on); the
        changed frame joins the runner's next group commit, so a resumed Map keeps them."""
        exe, frame = self._live(doc)
        if frame is None:
            return
        wait = frame.wait
        wait["limit"] = doc["maxConcurrency"] or wait["total"] or 1
        if doc["toleratedFailureCount"] or doc["toleratedFailurePercentage"] or wait.get("tolerated") is not None:
            wait["tolerated"] = [doc["toleratedFailureCount"], doc["toleratedFailurePercentage"]]
        self.runner.changed(exe, frame.key)


def _check_update(concurrency, percentage, count) -> None:
    def bad(field: str, value, constraint: str) -> ApiError:
        return ApiError("ValidationException", f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must have value {constraint}")

    if concurrency is not None and (isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 0):
        raise bad("maxConcurrency", concurrency, "greater than or equal to 0")
    if percentage is not None and (isinstance(percentage, bool) or not isinstance(percentage, (int, float)) or not 0 <= percentage <= 100):
        raise bad("toleratedFailurePercentage", percentage, "less than or equal to 100" if isinstance(percentage, (int, float)) and percentage > 100 else "greater than or equal to 0")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise bad("toleratedFailureCount", count, "greater than or equal to 0")
