"""The README's first example is real code: run it."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_first_example_runs():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, cwd=os.path.join(ROOT, "tests"))
    assert r.returncode == 0, r.stderr
    assert "[[7.]" in r.stdout.replace(" ", "") or "[[7.]\n[7.]]" in r.stdout
