"""Figures the reliability tests measured (events sent, stored, duplicated, lost), for docs/reliability.md.

Each test prints one ``FIGURES {...}`` line (visible with ``pytest -s``) and, when
``LINEAGE_FIGURES_FILE`` is set, appends it to that file as JSON.
"""

from __future__ import annotations

import json
import os
from typing import Any


def report(test: str, **figures: Any) -> None:
    line = json.dumps({"test": test, **figures}, sort_keys=True)
    print(f"FIGURES {line}")
    path = os.environ.get("LINEAGE_FIGURES_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
