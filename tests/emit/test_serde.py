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
    Run,
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

from airflow_lineage_provider.capture import events, facets, reproducibility
from airflow_lineage_provider.capture.lineage import DatasetEntry, Lineage
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


def _info(task: str = "load") -> TaskRunInfo:
    dag_run = DagRunInfo("pipeline", "manual__1", WHEN, None, "airflow")
    return TaskRunInfo(dag_run, task, 1, -1, "airflow.providers.standard.operators.bash.BashOperator", None)


def _lineage() -> Lineage:
    lineage = Lineage()
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
    schema = schema_dataset.SchemaDatasetFacet(fields)
    lineage.add_inputs([DatasetEntry("sqlite://x", "raw", {"schema": schema})])
    lineage.add_outputs([DatasetEntry("sqlite://x", "clean", {"columnLineage": column})])
    lineage.add_job_facets({"sql": sql_job.SQLJobFacet(query="SELECT 1")})
    lineage.add_run_facets(
        {
            "odd": OddRunFacet(),
            "reproducibility": reproducibility.AirflowLineageReproducibilityRunFacet(
                environment={"distributions": ["a==1", "b==2"], "imageDigest": None},
                params={"p": [1, None, {"q": None}]},
            ),
            "extractionError": facets.extraction_error(2, [facets.failure("x", ValueError("bad"))]),
        }
    )
    return lineage


def _events() -> dict[str, Any]:
    dag_run = _info().dag_run
    return {
        "task start": events.task_event(_info(), RunState.START),
        "task complete with lineage": events.task_event(_info(), RunState.COMPLETE, _lineage()),
        "task failure": events.task_event(_info(), RunState.FAIL, _lineage(), ValueError("boom")),
        "dag run": events.dag_event(dag_run, RunState.FAIL, "a task failed"),
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


def test_to_dict_of_a_task_event_is_plain_json() -> None:
    event = events.task_event(_info(), RunState.COMPLETE, _lineage())
    found = to_dict(event)
    assert found["eventType"] == "COMPLETE"
    odd = found["run"]["facets"]["odd"]
    assert odd["pair"] == [1, ["x"]]  # a tuple becomes a list; None and dicts left empty are dropped
    assert odd["nested"] == {"keep": {}, "list": [0]}
    assert (odd["colour"], odd["size"], odd["day"]) == ("red", "big", "2026-01-02")
    assert "missing" not in odd
    assert json.loads(json.dumps(found)) == found
