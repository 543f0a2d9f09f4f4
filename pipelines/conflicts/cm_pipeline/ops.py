"""Operations the original documents do by hand (002_...: status SQL, stuck chunks, manual
resets), as functions behind ``python -m cm_pipeline status | reset-stuck | settings``."""

from __future__ import annotations

from cm_pipeline import db


def chunk_status(conn, run_id: str | None = None) -> dict:
    """Counts of pending / locked (running, live lease) / stuck (running, lease expired) / done /
    failed chunks of a run (default: the latest), and UpdateFlag rows left at 1."""
    return db.run_query(conn, "ops", "chunk_status", {"run_id": run_id})


def reset_stuck(conn, run_id: str | None = None) -> dict:
    """Chunks running past their lease go back to pending; orphaned UpdateFlag = 1 rows are cleared."""
    with conn.transaction():
        chunks = db.run(conn, "ops", "reset_stuck_chunks", {"run_id": run_id})
        flags = db.run(conn, "ops", "clear_update_flags", {})
    return {"chunks_reset": chunks, "update_flags_cleared": flags}


def show_settings(conn) -> dict:
    return db.run_query(conn, "ops", "settings", {})


def set_settings(conn, values: dict) -> dict:
    """Change the window (LookbackYears, LookaheadDays) or travel settings in conflict.settings."""
    allowed = {"lookback_years": "LookbackYears", "lookahead_days": "LookaheadDays",
               "min_overlap_minutes": "MinOverlapMinutes", "extra_distance_per": "ExtraDistancePer"}
    with conn.transaction():
        for key, value in values.items():
            if key not in allowed or value is None:
                continue
            db.run(conn, "ops", "set_" + key, {"value": value})
    return show_settings(conn)
