"""The model commands of ``airflow-lineage``, run as a user runs them, against a store of the ML world."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from airflow_lineage_provider import LineageStore, reports
from tests.cli.shell import cli
from tests.store.mlworld import FEATURES_ID, MODEL_ID, PREDICTIONS_ID, RAW_ID, SOURCE_ID, World, world


@pytest.fixture
def ml_store(tmp_path: Path) -> tuple[str, World]:
    url = f"sqlite:///{tmp_path / 'ml.db'}"
    store = LineageStore.from_url(url)
    w = world()
    store.record_many(w.events)
    store.close()
    return url, w


def test_provenance_prints_runs_and_exact_versions_back_to_the_source(ml_store: tuple[str, World]) -> None:
    url, w = ml_store

    result = cli("provenance", PREDICTIONS_ID, "--store-url", url)

    assert result.returncode == 0, result.stderr
    assert f"read {MODEL_ID} @ v1, made by run {w.runs['train1']}" in result.stdout
    assert result.stdout.splitlines()[-1] == f"sources: {SOURCE_ID}"


def test_impact_json_lists_both_model_versions(ml_store: tuple[str, World]) -> None:
    url, w = ml_store

    result = cli("impact", RAW_ID, "--json", "--store-url", url)

    assert result.returncode == 0, result.stderr
    models = json.loads(result.stdout)["models"]
    assert {(m["version"], m["runId"]) for m in models} == {
        ("v1", w.runs["train1"]),
        ("v2", w.runs["train2"]),
    }


def test_reproducible_and_diff_print_what_is_missing_and_what_changed(ml_store: tuple[str, World]) -> None:
    url, w = ml_store

    checklist = cli("reproducible", MODEL_ID, "--store-url", url)
    diff = cli("diff", w.runs["train1"], w.runs["train2"], "--store-url", url)

    assert checklist.returncode == 0, checklist.stderr
    assert "NOT REPRODUCIBLE" in checklist.stdout and "[no ] seed recorded" in checklist.stdout
    assert diff.returncode == 0, diff.stderr
    assert "params:\n  lr: 0.1 -> 0.2" in diff.stdout
    assert f"  {FEATURES_ID}:" in diff.stdout


def test_approve_then_approvals_lists_it_and_verify_passes(ml_store: tuple[str, World]) -> None:
    url, w = ml_store

    approve = cli(
        "approve",
        MODEL_ID,
        "--by",
        "alice",
        "--reason",
        "holdout ok",
        "--framework",
        "sr-11-7",
        "--store-url",
        url,
    )
    listed = cli("approvals", MODEL_ID, "--json", "--store-url", url)
    verify = cli("verify", "--store-url", url)

    assert approve.returncode == 0, approve.stderr
    assert approve.stdout.strip() == f"approved {MODEL_ID} version v2 by alice"
    assert [(a["approvedBy"], a["framework"], a["version"]) for a in json.loads(listed.stdout)] == [
        ("alice", "sr-11-7", "v2")
    ]
    assert verify.returncode == 0 and verify.stdout.startswith(
        f"hash chain verified: {len(w.events) + 1} events"
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["approve", RAW_ID, "--by", "a", "--reason", "r"], 2, "is not a model"),
        (["approve", "dataset:file:/nope", "--by", "a", "--reason", "r"], 1, "no node dataset:file:/nope"),
        (
            ["approve", MODEL_ID, "--by", "a", "--reason", "r", "--framework", "fda"],
            2,
            "invalid choice: 'fda'",
        ),
        (["approve", MODEL_ID, "--reason", "r"], 2, "the following arguments are required: --by"),
        (["diff", "run:not-a-uuid", MODEL_ID], 2, "is not a UUID"),
        (["reproducible", MODEL_ID, "--version", "v9"], 1, "version v9"),
    ],
)
def test_bad_input_gets_one_clear_error_line(
    ml_store: tuple[str, World], args: list[str], code: int, message: str
) -> None:
    url, _ = ml_store

    result = cli(*args, "--store-url", url)

    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_exits_1_naming_the_event_row_edited_by_hand(ml_store: tuple[str, World]) -> None:
    url, _ = ml_store
    engine = create_engine(url)
    with engine.begin() as conn:
        target = conn.execute(text("SELECT id FROM lineage_events ORDER BY id LIMIT 1 OFFSET 4")).scalar()
        conn.execute(
            text("UPDATE lineage_events SET payload = json_set(payload, '$.eventTime', :t) WHERE id = :id"),
            {"t": "2020-01-01T00:00:00+00:00", "id": target},
        )
    engine.dispose()

    result = cli("verify", "--json", "--store-url", url)

    assert result.returncode == 1
    answer = json.loads(result.stdout)
    assert answer["ok"] is False and answer["firstBadEventId"] == target and answer["checked"] == 4


def test_audit_writes_markdown_html_and_json(ml_store: tuple[str, World], tmp_path: Path) -> None:
    url, w = ml_store
    outputs = {fmt: tmp_path / f"audit.{fmt}" for fmt in ("markdown", "html", "json")}

    for fmt, path in outputs.items():
        result = cli(
            "audit", MODEL_ID, "--version", "v1", "--format", fmt, "-o", str(path), "--store-url", url
        )
        assert result.returncode == 0, result.stderr

    markdown = outputs["markdown"].read_text(encoding="utf-8")
    assert markdown.startswith("# Audit report: /models/house/model.json @ v1")
    # the world's files are not on this machine: nothing to fingerprint again, nothing changed
    assert (
        "Verdict: **reproducible**; event log verified; artifacts: 0 of 4 match what was recorded, 4 not "
        in markdown
    )
    assert w.runs["train1"] in markdown
    assert "<h2>Approvals</h2>" in outputs["html"].read_text(encoding="utf-8")
    assert json.loads(outputs["json"].read_text(encoding="utf-8"))["training"]["runId"] == w.runs["train1"]


def test_the_audit_escapes_stored_values_in_markdown_and_html(ml_store: tuple[str, World]) -> None:
    url, _ = ml_store
    store = LineageStore.from_url(url)
    store.ml.approve(MODEL_ID, "<script>alert(1)</script>", "a | b *bold* [x](javascript:y)", version="v1")
    audit = store.ml.audit(MODEL_ID, version="v1")
    store.close()

    page = reports.audit_html(audit)
    markdown = reports.audit_markdown(audit)

    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\<script\\>" in markdown and "a \\| b \\*bold\\* \\[x\\](javascript:y)" in markdown
    assert "| a | b" not in markdown


def test_the_audit_shows_every_hyperparameter_whole(ml_store: tuple[str, World]) -> None:
    url, _ = ml_store
    store = LineageStore.from_url(url)
    audit = store.ml.audit(MODEL_ID, version="v1")
    store.close()
    long_value = {"layers": list(range(60)), "note": "x" * 120}
    audit["modelFacet"]["hyperparameters"]["architecture"] = long_value

    markdown = reports.audit_markdown(audit)

    assert "| epochs | 10 |" in markdown
    assert reports.md(json.dumps(long_value, sort_keys=True)) in markdown
