"""Map: run the item processor once per item, at most MaxConcurrency at a time.

Iterations are child frames created when the Map starts (the ones beyond the concurrency limit
wait as NOT_STARTED); each finished iteration starts the next. Failures beyond the tolerated
count/percentage stop the rest and fail the Map state."""

from __future__ import annotations

from stepflow.asl import jsonata_eval
from stepflow.asl.json_text import dumps
from stepflow.asl.model import JSONATA
from stepflow.engine.policy import will_retry
from stepflow.engine.snapshot import NOT_STARTED, SUCCEEDED
from stepflow.engine.states.base import emit_unchained
from stepflow.engine.states.children import ChildrenHandler, child_key_prefix
from stepflow.errors import (
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    StatesError,
)


class MapHandler(ChildrenHandler):
    def start(self, run, frame, state) -> None:
        scope = run.scope(frame, state)
        try:
            items = _items(state, state.items(scope))
        except StatesError as failure:  # a JSONata Items error: AWS adds MapStateFailed after EvaluationFailed
            run.state_failed(frame, state, failure.error, failure.cause, evaluation=True, failed_event="MapStateFailed")
            return
        limit = _max_concurrency(state, scope)
        inputs = _iteration_inputs(state, scope, items)
        distributed = state.mode == "DISTRIBUTED"
        run.emit(frame, "MapStateStarted", {"length": len(inputs)})
        tolerated = _tolerance(state, scope)
        if distributed:
            run.emit(frame, "MapRunStarted", {"mapRunArn": _map_run_arn(run, frame, state)})
        if limit == 0:
            limit = len(inputs) if distributed else run.limits.map_concurrency
        frame.wait = {
            "kind": "children", "total": len(inputs), "next": 0, "running": 0, "done": 0,
            "failed": 0, "limit": max(1, limit), "tolerated": tolerated,
        }
        run.touch(frame)
        if not inputs:
            self._succeed(run, frame, state, [])
            return
        self._spawn(run, frame, state, inputs, distributed)

    def _spawn(self, run, frame, state, inputs, distributed: bool) -> None:
        """One child frame per iteration. When the limit lets every iteration run at once, each
        starts as it is made (as ``_launch`` would start it, without the NOT_STARTED round trip);
        otherwise they wait as NOT_STARTED and ``_launch`` starts the first ones."""
        wait = frame.wait
        at_once = wait["limit"] >= len(inputs)
        children = run.spawn_all(frame, state.processor.key, child_key_prefix(frame, state), inputs, at_once)
        if distributed:
            for child in children:
                child.silent = True
        if at_once:
            emit, name = run.emit, state.name
            for child in children:
                emit(child, "MapIterationStarted", (name, child.index))  # compact details: history.as_dict
        if at_once:
            wait["running"] = wait["next"] = len(inputs)
        else:
            self._launch(run, frame, state)

    def _launch(self, run, frame, state) -> None:
        """Start NOT_STARTED iterations, in index order, up to the concurrency limit."""
        wait = frame.wait
        running, index, limit, total = wait["running"], wait["next"], wait["limit"], wait["total"]
        if running >= limit or index >= total:
            return
        frames, prefix = run.exe.frames, child_key_prefix(frame, state)
        while running < limit and index < total:
            child = frames.get(f"{prefix}{index}]")
            index += 1
            if child is None or child.status != NOT_STARTED:
                continue
            running += 1
            run.activate(child, frame)
            run.emit(child, "MapIterationStarted", (state.name, child.index))
        wait["running"], wait["next"] = running, index

    def child_count(self, frame, state) -> int:
        return frame.wait.get("total", 0) if frame.wait else 0

    def child_done(self, run, frame, state, child) -> None:
        wait = frame.wait
        if wait is None or wait.get("kind") != "children" or wait.get("stopped"):
            return
        wait["running"] -= 1
        run.mark_dirty(frame.key)
        last = child.last_event
        if child.status == SUCCEEDED:
            wait["done"] += 1
            iteration_event = run.emit(child, "MapIterationSucceeded", (state.name, child.index))
        else:
            wait["failed"] += 1
            iteration_event = run.emit(child, "MapIterationFailed", (state.name, child.index))
            if _over_tolerance(wait):
                frame.last_event = last  # AWS links MapStateFailed to the iteration's last state event
                self._fail(run, frame, state, child)
                return
        # AWS links the next MapIterationStarted to the finished iteration's last state event,
        # and MapStateSucceeded to the last MapIteration* event.
        frame.last_event = last
        if wait["done"] + wait["failed"] == wait["total"]:
            frame.last_event = iteration_event
            results = _results(run.remove_frames(self.child_keys(frame, state)))  # every iteration is there
            self._succeed(run, frame, state, results)
            return
        if wait["next"] < wait["total"]:  # else every iteration has started: no call
            self._launch(run, frame, state)

    def _succeed(self, run, frame, state, results) -> None:
        if state.mode == "DISTRIBUTED":
            run.emit(frame, "MapRunSucceeded", None)
        emit_unchained(run, frame, "MapStateSucceeded")
        frame.wait = None
        scope = run.scope(frame, state)
        output, assigned = state.io.output(scope, results)
        run.exit_state(frame, state, output, assigned, None if state.end else state.next)

    def _fail(self, run, frame, state, child) -> None:
        """Too many failures: stop the running iterations; the Map state fails."""
        wait = frame.wait
        wait["stopped"] = True
        for key in self.child_keys(frame, state):
            aborted = run.exe.frames.get(key)
            if run.abort_frame(aborted):
                run.emit(aborted, "MapIterationAborted", (state.name, aborted.index))
        error, cause = child.error, child.cause
        if wait["tolerated"] is not None:
            error, cause = EXCEED_TOLERATED_FAILURE_THRESHOLD, "The specified tolerated failure threshold was exceeded"
        if state.mode == "DISTRIBUTED":
            run.emit(frame, "MapRunFailed", {"error": error, "cause": cause} if cause else {"error": error})
        if not will_retry(state.retry, error, frame.retries):  # not between attempts, as in AWS
            run.emit(frame, "MapStateFailed", None)
        run.state_failed(frame, state, error, cause)

    def revive(self, run, frame, state) -> None:
        """Redrive: successful iterations keep their output; failed, aborted and never-started
        ones run again (from the state where they stopped), within the concurrency limit."""
        wait = frame.wait
        wait.pop("stopped", None)
        done = 0
        for key in self.child_keys(frame, state):
            child = run.exe.frames.get(key)
            if child is None:
                continue
            if child.status == SUCCEEDED:
                done += 1
            elif child.status != NOT_STARTED:
                _reset_for_redrive(run, child)
        wait.update(done=done, failed=0, running=0, next=0)
        run.emit(frame, "MapStateStarted", {"length": wait["total"]})
        self._launch(run, frame, state)


def _reset_for_redrive(run, child) -> None:
    """An unsuccessful iteration waits for a slot again; when launched it revives where it stopped."""
    child.status = NOT_STARTED
    child.error = child.cause = None
    run.touch(child)


def _results(children) -> list:
    """The Map's output: each iteration's output, or its error output if it failed."""
    return [child.output if child.status == SUCCEEDED else _iteration_result(child) for child in children]


def _iteration_result(child):
    if child.status == SUCCEEDED:
        return child.output
    out = {"Error": child.error}
    if child.cause is not None:
        out["Cause"] = child.cause
    return out


def _over_tolerance(wait) -> bool:
    tolerated = wait["tolerated"]
    if tolerated is None:
        return True
    count, percentage = tolerated
    failed, total = wait["failed"], wait["total"]
    if count is not None and failed > count:
        return True
    if percentage is not None and total and failed * 100.0 / total > percentage:
        return True
    return False


def _items(state, value):
    if isinstance(value, list):
        return value
    source = getattr(state.items, "source", None)
    if state.query_language == JSONATA and source is not None:
        jsonata_eval.expect_type(value, "array", source, "Items")
    error = QUERY_EVALUATION_ERROR if state.query_language == JSONATA else RUNTIME
    raise StatesError(error, f"Map state input must be an array but was: {dumps(value)}")


def _max_concurrency(state, scope) -> int:
    if state.max_concurrency is None:
        return 0
    value = state.max_concurrency(scope)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        if isinstance(value, float) and value.is_integer() and value >= 0:
            return int(value)
        _bad_number(state.max_concurrency, "MaxConcurrency", value, state)
    return value


def _tolerance(state, scope):
    if state.tolerated_failure_count is None and state.tolerated_failure_percentage is None:
        return None
    count = _number(state, state.tolerated_failure_count, scope, "ToleratedFailureCount", integer=True)
    pct = _number(state, state.tolerated_failure_percentage, scope, "ToleratedFailurePercentage", integer=False)
    if pct is not None and not 0 <= pct <= 100:
        _bad_number(state.tolerated_failure_percentage, "ToleratedFailurePercentage", pct, state)
    return [count, pct]


def _number(state, evaluator, scope, field, integer: bool):
    if evaluator is None:
        return None
    value = evaluator(scope)
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and value >= 0
    if ok and integer and isinstance(value, float):
        ok = value.is_integer()
    if not ok:
        _bad_number(evaluator, field, value, state)
    return int(value) if integer else value


def _bad_number(evaluator, field, value, state):
    source = getattr(evaluator, "source", field)
    if state.query_language == JSONATA:
        raise StatesError(
            QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{source}' specified for the field '{field}' returned an unexpected result type. "
            f"Expected 'integer', but was '{type(value).__name__}' for value: {value}",
        )
    raise StatesError(
        RUNTIME, f"The {field}Path field refers to value \"{dumps(value)}\" which is not a valid integer: {source}"
    )


def _iteration_inputs(state, scope, items):
    selector = state.item_selector
    if selector is None:
        values = items
    else:
        values = [selector(scope, index, item) for index, item in enumerate(items)]
    if state.item_batcher:
        values = _batches(state, scope, values)
    return values


def _batches(state, scope, values):
    config = state.item_batcher
    size = config.get("MaxItemsPerBatch") or len(values) or 1
    base = config.get("BatchInput")
    batches = [{"Items": values[i : i + size]} for i in range(0, len(values), size)]
    if base is not None:  # AWS passes BatchInput as its own field next to Items
        batches = [{"BatchInput": base, **batch} for batch in batches]
    return batches


def _map_run_arn(run, frame, state) -> str:
    exe = run.exe
    prefix, _, rest = exe.arn.partition(":execution:")
    label = state.label or state.name
    return f"{prefix}:mapRun:{rest}/{label}:{frame.entered_id}"
