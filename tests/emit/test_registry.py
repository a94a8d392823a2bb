"""Emitters are chosen by kind, or by dotted class path for an emitter of your own."""

from __future__ import annotations

import pytest

from airflow_lineage_provider.emit.direct import DirectEmitter
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from airflow_lineage_provider.emit.registry import create_emitter
from airflow_lineage_provider.exceptions import ConfigError


def test_kinds_build_their_emitters() -> None:
    assert type(create_emitter("direct")) is DirectEmitter
    assert type(create_emitter("accumulating")) is AccumulatingEmitter


def test_a_dotted_path_builds_that_class() -> None:
    assert (
        type(create_emitter("airflow_lineage_provider.emit.memory.AccumulatingEmitter"))
        is AccumulatingEmitter
    )


@pytest.mark.parametrize(
    "kind", ["kafka", "no.such.module.Emitter", "airflow_lineage_provider.emit.memory.Nope", "builtins.dict"]
)
def test_an_unknown_or_unfit_kind_is_a_config_error(kind: str) -> None:
    with pytest.raises(ConfigError, match="emitter"):
        create_emitter(kind)
