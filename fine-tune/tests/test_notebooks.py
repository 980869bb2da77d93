"""The fine-tuning notebooks: valid, committed without outputs, and thin: their code cells import
only the project's modules (and the standard library) and define nothing, so they show what the
scripts do instead of doing it their own way. 01_data runs top to bottom on a small pairs file."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat
import pytest
from qa_format import Pair, write_pairs

FINE_TUNE = Path(__file__).resolve().parents[1]
REPO = FINE_TUNE.parent
NOTEBOOKS = ["01_data.ipynb", "02_train.ipynb", "03_evaluate.ipynb"]


def is_project_module(name: str) -> bool:
    top = name.split(".")[0]
    return (FINE_TUNE / f"{top}.py").is_file() or (REPO / top / "__init__.py").is_file()


def code_cells(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_valid_and_committed_without_outputs(name):
    notebook = nbformat.read(FINE_TUNE / name, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert cells
    for cell in cells:
        assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_code_cells_only_use_the_projects_functions(name):
    imported: set[str] = set()
    for source in code_cells(FINE_TUNE / name):
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module
                imported.add(node.module)
            assert not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ), f"{name} defines code of its own: put it in a module and import it"
    outside = {
        module
        for module in imported
        if not is_project_module(module) and module.split(".")[0] not in sys.stdlib_module_names
    }
    assert not outside, f"{name} imports {outside}: call the scripts' functions instead"
    assert any(is_project_module(module) for module in imported)


@pytest.mark.slow
def test_data_notebook_runs(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    pairs = [
        Pair(f"n{i}", f"a {genre.lower()} film about {topic}", {"genres": [genre]})
        for i, (genre, topic) in enumerate(
            [("Comedy", "a heist"), ("Drama", "grief"), ("Horror", "a cabin"), ("War", "pilots")]
            * 3
        )
    ]
    pairs_file = tmp_path / "pairs.jsonl"
    write_pairs(pairs, pairs_file)
    monkeypatch.setenv("NOTEBOOK_PAIRS", str(pairs_file))
    notebook = nbformat.read(FINE_TUNE / "01_data.ipynb", as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(FINE_TUNE)}},
    ).execute()
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "12 pairs from" in printed
    assert 'learned:     \'{"reference_titles"' in printed
    assert "<|im_end|>'" in printed  # the end-of-turn token is part of what is learned
    assert "shares its first" in printed
