"""``airflow-lineage``, the command line (the console script runs :func:`.main.main`).

* ``main``: the parser, error handling and exit codes, and the read and load commands;
* ``operations``: ``status``, ``replay``, ``prune``, ``erase``;
* ``models``: the model commands (provenance, impact, reproducible, diff, approvals, verify, audit);
* ``doctor``: ``doctor``, the installation checks;
* ``completion``: shell tab completion;
* ``formats``: how answers print: ``--format``, JSON, the terminal, progress bars;
* ``views``: the rich trees, tables and ``key: value`` listings of answers;
* ``diagram``: graphs as Graphviz DOT and Mermaid;
* ``eventfiles``: OpenLineage events as JSON-lines files.
"""
