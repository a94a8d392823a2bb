"""Delivery of OpenLineage events: emitters behind one small seam (``base``, ``registry``), the time
budget they run in (``budget``), the outbox a task process appends to (``spool``, ``outbox``) and the
deliverer that stores what it holds (``deliverer``).

Nothing is imported here: a task process imports the few modules its path needs, each costing it
startup time.
"""
