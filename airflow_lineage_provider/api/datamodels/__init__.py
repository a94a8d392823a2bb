"""Request and response models of the REST API (Marquez API v1 shapes plus our extensions)."""
