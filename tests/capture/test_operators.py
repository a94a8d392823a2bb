"""Operators' own OpenLineage methods: which one runs for which event, and what a failure costs."""

from __future__ import annotations

from typing import Any

from airflow.providers.openlineage.extractors import OperatorLineage
from airflow.sdk import BaseOperator
from openlineage.client.event_v2 import Dataset
from openlineage.client.facet_v2 import sql_job

from airflow_lineage_provider.capture.lineage import Lineage
from airflow_lineage_provider.capture.operators import add_operator_lineage


def returning(name: str) -> OperatorLineage:  # type: ignore[type-arg]
    return OperatorLineage(
        inputs=[Dataset(namespace="s3://b", name=f"{name}.in")],
        outputs=[Dataset(namespace="s3://b", name=f"{name}.out")],
        job_facets={"sql": sql_job.SQLJobFacet(query=name)},
    )


class CompleteOnly(BaseOperator):
    def execute(self, context: Any) -> None:
        return None

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return returning("complete")


class StartOnly(BaseOperator):
    def execute(self, context: Any) -> None:
        return None

    def get_openlineage_facets_on_start(self) -> Any:
        return returning("start")


def found(task: Any, event_type: str) -> Lineage:
    lineage = Lineage()
    add_operator_lineage(lineage, task, task_instance=None, event_type=event_type)
    return lineage


def test_failure_falls_back_to_the_completion_method() -> None:
    lineage = found(CompleteOnly(task_id="t"), "FAIL")

    assert set(lineage.inputs) == {("s3://b", "complete.in")}
    assert set(lineage.outputs) == {("s3://b", "complete.out")}
    assert lineage.job_facets["sql"]["query"] == "complete"


def test_completion_falls_back_to_the_start_method() -> None:
    assert set(found(StartOnly(task_id="t"), "COMPLETE").outputs) == {("s3://b", "start.out")}


def test_start_calls_only_the_start_method() -> None:
    assert found(CompleteOnly(task_id="t"), "START").inputs == {}
    assert set(found(StartOnly(task_id="t"), "START").inputs) == {("s3://b", "start.in")}


def test_an_operator_without_openlineage_methods_adds_nothing() -> None:
    class Plain(BaseOperator):
        def execute(self, context: Any) -> None:
            return None

    lineage = found(Plain(task_id="t"), "COMPLETE")

    assert (lineage.inputs, lineage.attempted, lineage.errors) == ({}, 0, [])
