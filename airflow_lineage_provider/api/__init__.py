"""The REST API of the lineage store, mounted by the plugin at ``/lineage`` in the Airflow API server.

Only the API server imports this package (through the plugin's lazy ``fastapi_apps``); task
processes never do.
"""
