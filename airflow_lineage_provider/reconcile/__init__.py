"""Reconciliation: closing task runs whose terminal event a killed task process never wrote.

Runs in the API server (:class:`~.service.Reconciler`), the one long-lived process of ours that may
read Airflow's metadata DB; task processes never do.
"""
