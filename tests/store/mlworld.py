"""A small ML history as OpenLineage events, for the model queries (plain dicts, as producers send them).

    source (postgres) -> ingest -> raw -> features -> features.csv -> train -> model -> score -> predictions
                                                                         \\-> evaluate -> metrics

``features`` runs twice (features v1, v2); ``train`` runs twice: the first (model v1, minute 30)
from a clean commit with a seed, the second (model v2, minute 130) from a dirty tree, another
learning rate and one more installed distribution. ``score`` reads model v1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_lineage_provider.core.digests import distributions_hash
from tests.store.events import at, new_run, run_event

MODEL_NS = "file"
MODEL = "/models/house/model.json"
MODEL_ID = f"dataset:{MODEL_NS}:{MODEL}"
SOURCE_ID = "dataset:postgres://db:5432:shop.public.houses"
RAW_ID = "dataset:file:/data/raw.csv"
FEATURES_ID = "dataset:file:/data/features.csv"
PREDICTIONS_ID = "dataset:file:/data/predictions.csv"
METRICS_ID = "dataset:file:/data/metrics.json"
DISTS_A = ["numpy==2.0.0", "apache-airflow==3.3.0"]
DISTS_B = [*DISTS_A, "scikit-learn==1.6.0"]
OL = "https://openlineage.io/spec/facets/1-0-1/DatasetTypeDatasetFacet.json#/$defs/DatasetTypeDatasetFacet"
OURS = "https://example.com/schemas/AirflowLineageMLFacets.json#/$defs/"


def _ds(node_id: str, **facets: Any) -> dict[str, Any]:
    _, rest = node_id.split(":", 1)
    if rest.startswith("postgres://"):
        namespace, name = "postgres://db:5432", rest.removeprefix("postgres://db:5432:")
    else:
        namespace, name = rest.split(":", 1)
    return {"namespace": namespace, "name": name, "facets": facets}


def _facet(schema: str, **values: Any) -> dict[str, Any]:
    return {"_producer": "https://example.com/tests", "_schemaURL": schema, **values}


def model(version: str, lr: float) -> dict[str, Any]:
    return _ds(
        MODEL_ID,
        datasetType=_facet(OL, datasetType="MODEL"),
        version=_facet(OL, datasetVersion=version),
        airflowLineage_model=_facet(
            OURS + "AirflowLineageModelDatasetFacet",
            name="house-prices",
            version=version,
            framework="python-ols",
            hyperparameters={"lr": lr, "epochs": 10},
        ),
    )


def repro(commit: str, dirty: bool, dists: list[str], seed: int | None, lr: float) -> dict[str, Any]:
    return _facet(
        OURS + "AirflowLineageReproducibilityRunFacet",
        code={
            "dagFile": "/dags/ml.py",
            "dagFileHash": "f" * 64 if not dirty else "e" * 64,
            "git": {
                "repository": "/dags",
                "commit": commit,
                "dirty": dirty,
                "diffHash": "d" * 64 if dirty else None,
            },
        },
        environment={
            "python": "3.11.7",
            "distributionsHash": distributions_hash(dists),
            "distributions": dists,
        },
        hardware={"cpuModel": "Test CPU", "cpuCount": 2, "memoryBytes": 2**33, "gpuCount": 0, "gpus": []},
        params={"lr": lr},
        seeds=[] if seed is None else [{"seed": seed, "libraries": ["random"]}],
    )


@dataclass
class World:
    events: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)

    def run(
        self, name: str, job: str, minute: float, inputs: list[Any], outputs: list[Any], **facets: Any
    ) -> None:
        run_id = self.runs[name] = new_run()
        self.events.append(run_event("START", job, run_id, minute=minute, inputs=inputs))
        self.events.append(
            run_event(
                "COMPLETE", job, run_id, minute=minute + 1, inputs=inputs, outputs=outputs, run_facets=facets
            )
        )


def world() -> World:
    w = World()
    snapshot = _facet(OL, datasetVersion="snapshot-2026-01-01")
    w.run("ingest", "ml.ingest", 0, [_ds(SOURCE_ID, version=snapshot)], [_ds(RAW_ID)])
    w.run("features1", "ml.features", 10, [_ds(RAW_ID)], [_ds(FEATURES_ID)])
    w.run(
        "train1",
        "ml.train",
        30,
        [_ds(FEATURES_ID)],
        [model("v1", 0.1)],
        airflowLineage_reproducibility=repro("a" * 40, False, DISTS_A, 42, 0.1),
    )
    metrics = _ds(
        METRICS_ID,
        datasetType=_facet(OL, datasetType="METRICS"),
        airflowLineage_metrics=_facet(
            OURS + "AirflowLineageMetricsDatasetFacet",
            values={"rmse": 12.5, "r2": 0.91},
            model={"namespace": MODEL_NS, "name": MODEL, "version": "v1"},
            dataset={"namespace": "file", "name": "/data/features.csv"},
        ),
    )
    w.run("evaluate1", "ml.evaluate", 40, [_ds(FEATURES_ID), _ds(MODEL_ID)], [metrics])
    w.run(
        "score",
        "ml.score",
        50,
        [_ds(MODEL_ID, version=_facet(OL, datasetVersion="v1"))],
        [_ds(PREDICTIONS_ID)],
    )
    w.run("features2", "ml.features", 110, [_ds(RAW_ID)], [_ds(FEATURES_ID)])
    w.run(
        "train2",
        "ml.train",
        130,
        [_ds(FEATURES_ID)],
        [model("v2", 0.2)],
        airflowLineage_reproducibility=repro("b" * 40, True, DISTS_B, None, 0.2),
    )
    return w


BETWEEN_TRAININGS = at(100)
BEFORE_ANY_MODEL = at(5)
