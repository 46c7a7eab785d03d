"""Sphinx configuration: numpydoc API reference, a sphinx-gallery of examples/, the Markdown user guide."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The gallery runs the examples in this process (and their Dask/Ray workers inherit this): offline, plots off screen.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Progress bars vanish when done in a terminal; captured, each update would be a line on the page. (A bar that
# refreshes for its postfix, as training's does, still draws: the examples leave `verbose` off.)
os.environ.setdefault("TQDM_DELAY", "1e9")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import skgliclass  # noqa: E402

project = "skgliclass"
author = "the skgliclass developers"
copyright = "2026, the skgliclass developers"
release = version = skgliclass.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
default_role = "literal"  # `x` in docstrings and example comments is code
myst_heading_anchors = 3

autosummary_generate = True
templates_path = ["_templates"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Every public name documents its parameters, returns and an example (checked as warnings, which fail the build).
numpydoc_validation_checks = {"PR01", "RT01", "EX01"}
numpydoc_validation_exclude = {r"\.__init__$", r"\.set_\w+_request$", r"^skgliclass\.GLiClassConfig\.\w+$"}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": "True",  # every example runs: its printed output and figures go on its page
    # An example that raises (its closing asserts included) is reported after all have run, and fails the build.
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "capture_repr": (),  # the pages show what the examples print, not the value of a cell's last line
    "download_all_examples": False,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = "skgliclass"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
suppress_warnings = ["myst.header"]
