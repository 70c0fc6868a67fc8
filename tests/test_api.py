"""The Python API: same numbers as the command line, one error class, docs that run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.files import SUMMARY_FILE

DOCS = Path(__file__).resolve().parent.parent / "docs"
SMALL = 600  # households: population=small


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args, f"hydra.run.dir={cwd}/run"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def test_simulate_gives_the_summary_of_the_command_line_bit_for_bit(tmp_path):
    done = run_cli("population=small", "policy=all", "seed=5", "years=3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = sim.simulate(["population=small", "policy=all"], seed=5, years=3)
    written = (tmp_path / "run" / SUMMARY_FILE).read_text()
    assert written == json.dumps(result.summary, indent=2) + "\n"


def test_the_keywords_and_a_dict_are_the_same_overrides():
    by_keywords = sim.simulate({"policy": "safety_net"}, seed=2, households=SMALL, years=2)
    by_strings = sim.simulate(
        ["policy=safety_net", "seed=2", f"population.households={SMALL}", "years=2"]
    )
    assert by_keywords.summary == by_strings.summary
    assert by_keywords.config == by_strings.config
    assert len(by_keywords.timeseries) == 24 and len(by_keywords.households) == SMALL


@pytest.mark.parametrize(
    "override", ["policy=nonexistent", "shocks.hospitalisation_rate=1.5", "population.colour=red"]
)
def test_bad_overrides_raise_config_error_with_the_line_of_the_command_line(tmp_path, override):
    done = run_cli("population=small", override, cwd=tmp_path)
    assert done.returncode == 2
    cli_line = done.stderr.strip()
    assert cli_line.startswith("error: ") and "\n" not in cli_line
    with pytest.raises(sim.ConfigError) as raised:
        sim.simulate(["population=small", override])
    assert f"error: {raised.value}" == cli_line


@pytest.mark.parametrize(
    ("overrides", "keywords", "named"),
    [
        (["seed=1"], {"seed": 2}, "seed"),
        (["seed=0,1"], {}, "seed=0,1"),
        (["--cfg"], {}, "--cfg"),
        (["seed=[1,2"], {}, "seed=[1,2"),
    ],
)
def test_every_refusal_is_one_config_error_naming_the_override(overrides, keywords, named):
    with pytest.raises(sim.ConfigError) as raised:
        sim.simulate(overrides, **keywords)
    message = str(raised.value)
    assert message.startswith(named) and "\n" not in message


def test_import_sim_is_cheap_and_leaves_matplotlib_alone():
    code = (
        "import sys, sim\n"
        "heavy = [m for m in ('matplotlib', 'pandas', 'hydra', 'mesa', 'sim.engine') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        f"sim.simulate(households={SMALL}, years=1)\n"
        "assert 'matplotlib' not in sys.modules\n"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr


def test_plot_returns_a_figure_and_keeps_the_chosen_backend():
    code = (
        "import matplotlib, sim\n"
        f"figure = sim.simulate(households={SMALL}, years=2).plot()\n"
        "from matplotlib.figure import Figure\n"
        "assert isinstance(figure, Figure) and len(figure.axes) == 4\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
    )
    done = python(code, MPLBACKEND="svg")
    assert done.returncode == 0, done.stderr


def test_save_writes_the_run_folder_and_nothing_before(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = sim.simulate(["policy=monitoring"], seed=1, households=SMALL, years=2)
    assert list(tmp_path.iterdir()) == []
    folder = result.save(tmp_path / "run")
    assert (folder / SUMMARY_FILE).read_text() == json.dumps(result.summary, indent=2) + "\n"
    for name in ("timeseries.parquet", "households.parquet", "provenance.json"):
        assert (folder / name).exists(), name
    overrides = (folder / ".hydra" / "overrides.yaml").read_text()
    assert "policy=monitoring" in overrides and "seed=1" in overrides
    done = subprocess.run(
        [sys.executable, "-m", "sim.compare", str(tmp_path), "--no-plots"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def test_compare_runs_pairs_on_seed_and_reads_results_and_folders_alike(tmp_path):
    seeds = range(3)
    base = [sim.simulate(["policy=none"], seed=s, households=SMALL, years=3) for s in seeds]
    relief = [
        sim.simulate(["policy=medical_relief"], seed=s, households=SMALL, years=3) for s in seeds
    ]
    table = sim.compare_runs([*relief, *base]).set_index("scenario")
    assert set(table.index) == {"policy=none", "policy=medical_relief"}
    row = table.loc["policy=medical_relief"]
    pairs = zip(relief, base, strict=True)
    by_hand = [r.summary["relapse_rate"] - b.summary["relapse_rate"] for r, b in pairs]
    assert row["n_pairs"] == 3
    assert row["relapse_rate_diff"] == pytest.approx(sum(by_hand) / 3, abs=1e-15)
    assert table.loc["policy=none", "relapse_rate_diff"] == 0.0

    folders = [r.save(tmp_path / f"run{i}") for i, r in enumerate([*relief, *base])]
    from_folders = sim.compare_runs(folders).set_index("scenario")
    assert from_folders["relapse_rate_diff"].to_dict() == table["relapse_rate_diff"].to_dict()


def test_compare_runs_fills_an_override_a_run_leaves_at_its_default():
    plain = sim.simulate(seed=0, households=SMALL, years=2)
    relief = sim.simulate(["policy=medical_relief"], seed=0, households=SMALL, years=2)
    table = sim.compare_runs([plain, relief])
    assert sorted(table["scenario"]) == ["policy=medical_relief", "policy=none"]
    assert table.set_index("scenario").loc["policy=none", "is_baseline"]


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.S | re.M)


def test_every_snippet_of_the_api_doc_runs_in_order(tmp_path, monkeypatch):
    blocks = python_blocks((DOCS / "api.md").read_text())
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/api.md, python block {number}", "exec"), namespace)
    # What the walkthrough promises, checked on what it computed:
    assert (tmp_path / "runs" / "medical_relief" / SUMMARY_FILE).exists()
    assert (tmp_path / "medical_relief.png").stat().st_size > 0
    table = namespace["table"].set_index("scenario")
    assert table.loc["policy=medical_relief", "n_pairs"] == 4
    assert len(namespace["by_rate"]) == 3
    sweep = namespace["sweep"]
    assert (sweep.runs["status"] == "ok").sum() == 4
    assert set(sweep.summary["scenario"]) == {"policy=none", "policy=safety_net"}


def test_help_lists_groups_policies_and_experiments_and_points_to_the_docs(tmp_path):
    from sim.config import CONFIG_DIR
    from sim.policies import REGISTRY

    done = subprocess.run(
        [sys.executable, "-m", "sim", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) < 60  # a page, not the whole composed config
    groups = {
        line.split(":")[0]: line.split(":", 1)[1]
        for line in lines
        if ": " in line and not line.startswith(" ")
    }
    assert set(REGISTRY) <= {name.strip() for name in groups["policies"].split(",")}
    for group in ("experiment", "policy", "population", "shocks"):
        options = {name.strip() for name in groups[group].split(",")}
        assert options == {p.stem for p in (CONFIG_DIR / group).glob("*.yaml")}, group
    for doc in ("README.md", "docs/model.md", "docs/api.md", "docs/explorer.md"):
        assert doc in done.stdout
    assert not list(tmp_path.iterdir())  # help runs nothing
