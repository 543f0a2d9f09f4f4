"""refresh-publish: publish the staged snapshot and switch ``current`` to it.

Copies ``staging/<snapshot>/`` to ``snapshots/<snapshot>/`` and replaces the ``current`` link
atomically (readers see the old snapshot or the new one, never half of one). The function has
ReservedConcurrentExecutions 1, so two runs never publish at once. Returns ``{path, previous}``.
"""

import os
import shutil

import warehouse


def publish(event, context):
    snapshot = event["snapshot_date"]
    source, target = warehouse.staging(snapshot), warehouse.root() / "snapshots" / snapshot
    if not (source / "warehouse.db").is_file():
        raise FileNotFoundError(f"nothing staged for {snapshot} in {source}")
    shutil.copytree(source, target, dirs_exist_ok=True)
    link = warehouse.current()
    previous = os.readlink(link) if link.is_symlink() else None
    temporary = link.with_name(f".current-{context.aws_request_id}")
    os.symlink(target, temporary)
    os.replace(temporary, link)
    print(f"published {snapshot}: current -> {target} (was {previous})")
    return {"path": str(target), "previous": previous}
