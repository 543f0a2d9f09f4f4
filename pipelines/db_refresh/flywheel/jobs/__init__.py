"""The seven jobs of the db-refresh workflow, each ``python -m flywheel.jobs.<name> --ARG value``
(and a Glue job script under ``glue/``):

1. ``addressable_split_and_part``            5. ``create_part_addressable_ids_er_table``
2. ``infobase_split_and_part``               6. ``generate_data_monitor_report``
3. ``register_part_tables`` (3a and 3b)      7. ``generate_cleanrooms_report``
4. ``prepare_part_tables``

Each module has ``run(argv) -> dict`` (the counts it records in its ``_SUCCESS.json``; raises a
:class:`flywheel.errors.FlywheelError` on failure) and ``main(argv=None)``.
"""

JOBS = (
    "addressable_split_and_part",
    "infobase_split_and_part",
    "register_part_tables",
    "prepare_part_tables",
    "create_part_addressable_ids_er_table",
    "generate_data_monitor_report",
    "generate_cleanrooms_report",
)
