"""The wheel: built from pyproject.toml, it carries the prompts, the bench book, the sources list and the example
sessions, and once installed in a fresh virtual environment it ingests and answers from outside the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_NOTE

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "rag", "corpus", "prompts", "sessions")
ART26 = "Is Article 26 of the CoE Convention binding?"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of what the repository ships (so the build leaves nothing in the checkout)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)]
    built = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert "warning" not in built.stderr.lower(), built.stderr
    (path,) = dist.glob("rag_nonpunishment-*.whl")
    print(f"\nwheel: {path.name}, {path.stat().st_size / 1024:.0f} KiB")
    return path


def test_the_wheel_carries_what_the_program_reads(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected_data = {
        *(f"rag/_data/prompts/{p.name}" for p in (REPO / "prompts").glob("*.txt")),
        *(f"rag/_data/sessions/{p.name}" for p in (REPO / "sessions").glob("*.yaml")),
        *(f"rag/_data/corpus/{p.relative_to(REPO / 'corpus')}" for p in (REPO / "corpus").rglob("*") if p.is_file()),
    }
    assert "rag/_data/corpus/sources.yaml" in expected_data and len(expected_data) > 30
    assert expected_data <= names, sorted(expected_data - names)
    assert {"rag/__main__.py", "rag/py.typed", "rag/faces/cli.py"} <= names
    assert not any("__pycache__" in n or n.startswith(("tests/", "bench/")) for n in names)
    assert wheel.stat().st_size < 1_000_000  # code and Markdown notes only: no model, no index


def test_the_wheel_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(meta_name).decode())
        licence = zf.read(meta_name.replace("METADATA", "licenses/LICENSE")).decode()
        entry_points = zf.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    import rag

    assert meta["Version"] == rag.__version__
    assert meta["License-Expression"] == "Apache-2.0" and "Apache License" in licence and "Version 2.0" in licence
    assert {"Homepage", "Source", "Issues", "Documentation"} <= {u.split(",")[0] for u in meta.get_all("Project-URL")}
    classifiers = meta.get_all("Classifier")
    assert "Intended Audience :: Legal Industry" in classifiers and "Operating System :: OS Independent" in classifiers
    requires = meta.get_all("Requires-Dist")
    assert any(r.startswith("portalocker") for r in requires) and not any(r.startswith("fcntl") for r in requires)
    assert "rag = rag.faces.cli:main" in entry_points


def test_packaged_data_wins_over_the_checkout(tmp_path: Path) -> None:
    """Installed, rag reads rag/_data/NAME; in a checkout (no rag/_data) the top-level folders."""
    shutil.copytree(REPO / "rag", tmp_path / "rag", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "rag" / "_data" / "prompts").mkdir(parents=True)
    code = "from rag.core.resources import data_dir; print(data_dir('prompts')); print(data_dir('corpus'))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [str(tmp_path / "rag" / "_data" / "prompts"), str(tmp_path / "corpus")]


@pytest.mark.slow
def test_installed_wheel_ingests_and_answers_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "RAG_", "VIRTUAL_ENV"))}
    for what in (["torch==2.13.0"], [str(wheel)]):  # torch first: this machine's CPU wheel, as the Makefile does
        done = subprocess.run([*pip, *what], env=env, capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env |= {"RAG_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config")}

    def rag(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(venv / "bin" / "rag"), *args]
        return subprocess.run(cmd, cwd=elsewhere, env=env | extra, capture_output=True, text=True, timeout=900)

    site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    ingested = rag("ingest", "--json")
    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)
    assert report["chunks"] > 100 and not report["failed"]
    assert all(p.startswith(str(site / "rag" / "_data" / "corpus")) for p in report["added"])

    asked = rag("ask", ART26, "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert not answer["refused"] and "[1]" in answer["answer"]
    assert answer["citations"][0]["doc_id"] == "coe-convention"
    assert answer["citations"][0]["pinpoint"] == "Article 26"

    listed = rag("corpus", "list", "--json")  # the sources list came with the package
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) >= 10
    examples = rag("session", "examples", "--path", "judges-basics")
    assert examples.stdout.strip() == str(site / "rag" / "_data" / "sessions" / "judges-basics.yaml")
    prompts = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "from rag.answer.prompts import load_prompts; load_prompts()"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert prompts.returncode == 0, prompts.stderr
    version = subprocess.run([str(venv / "bin" / "python"), "-m", "rag", "--version"], env=env, capture_output=True)
    assert version.returncode == 0 and version.stdout.startswith(b"rag ")

    own = tmp_path / "own-corpus"  # RAG_CORPUS still overrides the packaged bench book
    own.mkdir()
    (own / "sample.md").write_text(SAMPLE_NOTE)
    theirs = rag("ingest", "--json", RAG_CORPUS=str(own), RAG_HOME=str(tmp_path / "home2"))
    assert theirs.returncode == 0, theirs.stderr
    assert json.loads(theirs.stdout)["added"] == [str(own / "sample.md")]
