"""What every notebook generator shares: the common parameters, the notebook metadata, and a clean, stable write."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_notebook

ROOT = Path(__file__).resolve().parent.parent

PARAMS = '''# parameters: papermill overrides these; the defaults run on the bundled demo data
scheme = "../params/beijing_2016.yaml"
data = "../data/raw/demo"
output = "../reports/notebooks"
seed = 2016'''


def notebook(cells):
    """A notebook of these cells for the python3 kernel."""
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write(nb, name: str) -> None:
    """Write notebooks/NAME clean, with stable cell ids so that regenerating an unchanged notebook changes nothing."""
    for n, cell in enumerate(nb.cells):
        cell.id = f"{name[:2]}-{n:02d}"
    nbformat.validate(nb)
    nbformat.write(nb, str(ROOT / "notebooks" / name))
    print(f"wrote notebooks/{name}")
