"""README's Python section runs as written, from the repository's root."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_notebook_runs(monkeypatch, capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    [notebook] = [b for b in blocks if b.startswith("# README notebook")]
    monkeypatch.chdir(ROOT)
    (ROOT / "target").mkdir(exist_ok=True)
    exec(compile(notebook, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "BacktestResult(" in out and "delta_band.low=" in out
    assert (ROOT / "target" / "report.html").read_text().startswith("<!doctype html>")
