"""Capture: turn Airflow task and DAG run state changes into OpenLineage run events.

``listener`` receives Airflow's listener calls; ``extractors`` gathers inputs and outputs from the
operator's OpenLineage methods, hook lineage (``sql`` parses the SQL hooks ran) and the task's
assets; ``events`` and ``facets`` build the events; ``emit`` delivers them.
"""
