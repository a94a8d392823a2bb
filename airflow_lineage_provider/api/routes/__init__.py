"""Routes of the REST API, one module per group: ingest, lineage graphs, catalog, search and events."""
