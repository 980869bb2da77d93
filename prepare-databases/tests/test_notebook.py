"""The notebook is committed without outputs and runs top to bottom on the demo catalog."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "catalog_map.ipynb"


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.slow
def test_notebook_runs_and_saves_the_map(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    from scripts.stack import free_port

    port = free_port()
    for key, value in {
        "MARQUEE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": "",
        "QDRANT_URL": "",
        "MODEL_SERVICE_URL": f"http://127.0.0.1:{port}",
        "MPLBACKEND": "Agg",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    saved = tmp_path / "var" / "explore" / "map.json"
    assert saved.is_file()
    points = json.loads(saved.read_text())["points"]
    assert len(points) >= 300
    assert all(-1.0 <= p["x"] <= 1.0 and -1.0 <= p["y"] <= 1.0 for p in points)
