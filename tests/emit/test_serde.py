"""The one-pass serialiser gives exactly what openlineage-python's ``Serde.to_dict`` gives."""

from __future__ import annotations

import enum
import json
import uuid
from datetime import date, datetime, timezone
from typing import Any

import attr
import pytest
from openlineage.client.event_v2 import (
    DatasetEvent,
    InputDataset,
    Job,
    JobEvent,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    StaticDataset,
)
from openlineage.client.facet_v2 import (
    RunFacet,
    column_lineage_dataset,
    schema_dataset,
    sql_job,
)
from openlineage.client.serde import Serde

from airflow_lineage_provider.capture import events
from airflow_lineage_provider.capture.lineage import Lineage
from airflow_lineage_provider.capture.runinfo import DagRunInfo, TaskRunInfo
from airflow_lineage_provider.emit.serde import to_dict

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Colour(enum.Enum):
    RED = "red"


class Size(str, enum.Enum):
    BIG = "big"


@attr.define
class OddRunFacet(RunFacet):
    """A facet with every kind of value the serialiser must treat as Serde does."""

    when: datetime = WHEN
    day: date = date(2026, 1, 2)
    ident: uuid.UUID = uuid.UUID(int=7)
    colour: Colour = Colour.RED
    size: Size = Size.BIG
    missing: str | None = None
    pair: tuple[Any, ...] = (1, None, {}, {"a": None}, ("x",))
    only: frozenset[str] = frozenset({"one"})
    nested: dict[str, Any] = attr.field(factory=lambda: {"keep": {}, "drop": None, "list": [None, {}, 0]})
    empty: list[Any] = attr.field(factory=list)


def _ol_run_event(event_type: RunState) -> RunEvent:
    """A run event as openlineage-python builds it (what operators' methods and producers hand over)."""
    fields = [schema_dataset.SchemaDatasetFacetFields(name="id", type="INTEGER", description=None)]
    column = column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            "id": column_lineage_dataset.Fields(
                inputFields=[column_lineage_dataset.InputField("sqlite://x", "raw", "id")],
                transformationType="IDENTITY",
                transformationDescription="",
            )
        }
    )
    return RunEvent(
        eventType=event_type,
        eventTime=WHEN.isoformat(),
        run=Run(runId=str(uuid.UUID(int=3)), facets={"odd": OddRunFacet()}),
        job=Job(namespace="n", name="j", facets={"sql": sql_job.SQLJobFacet(query="SELECT 1")}),
        inputs=[
            InputDataset("sqlite://x", "raw", facets={"schema": schema_dataset.SchemaDatasetFacet(fields)})
        ],
        outputs=[OutputDataset("sqlite://x", "clean", facets={"columnLineage": column})],
        producer="p",
    )


def _events() -> dict[str, Any]:
    return {
        "run event": _ol_run_event(RunState.COMPLETE),
        "dataset event": DatasetEvent(
            eventTime=WHEN.isoformat(), producer="p", dataset=StaticDataset("n", "d")
        ),
        "job event": JobEvent(
            eventTime=WHEN.isoformat(),
            producer="p",
            job=Job(namespace="n", name="j"),
            inputs=[InputDataset("n", "d", facets={}, inputFacets={})],
        ),
        "a facet alone": OddRunFacet(),
        "a dict holding attrs objects and tuples": {"run": Run(runId=str(uuid.UUID(int=1))), "t": (1, None)},
    }


@pytest.mark.parametrize("name", list(_events()))
def test_to_dict_gives_what_serde_gives(name: str) -> None:
    event = _events()[name]
    expected = Serde.to_dict(event)
    found = to_dict(event)
    assert found == expected
    assert repr(found) == repr(expected)  # same types and key order, not only equal values
    if name != "a dict holding attrs objects and tuples":  # Serde leaves those objects as they are
        assert json.dumps(found, sort_keys=True) == Serde.to_json(event)


def test_a_facet_an_operator_returns_is_plain_json_in_the_task_event() -> None:
    lineage = Lineage()
    lineage.add_run_facets({"odd": OddRunFacet()})
    dag_run = DagRunInfo("pipeline", "manual__1", WHEN, None, "airflow")
    info = TaskRunInfo(dag_run, "load", 1, -1, "airflow.providers.standard.operators.bash.BashOperator", None)
    found = events.task_event(info, "COMPLETE", lineage)
    assert found["eventType"] == "COMPLETE"
    odd = found["run"]["facets"]["odd"]
    assert odd["pair"] == [1, ["x"]]  # a tuple becomes a list; None and dicts left empty are dropped
    assert odd["nested"] == {"keep": {}, "list": [0]}
    assert (odd["colour"], odd["size"], odd["day"]) == ("red", "big", "2026-01-02")
    assert "missing" not in odd
    assert json.loads(json.dumps(found)) == found
