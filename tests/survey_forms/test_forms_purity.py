"""The forms package is pure: importing and using it loads no web, database or network code."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("flask", "sqlalchemy", "redis", "psycopg", "requests", "urllib3", "rq", "server")

SCRIPT = """
import sys
import survey_forms
from survey_forms.builtin import compile_builtin_forms
forms = compile_builtin_forms()
survey_forms.validate_submission(forms["child_survey"], {"name": "x"})
print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_importing_and_compiling_loads_no_framework():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    assert "survey_forms" in loaded and "pyxform" in loaded
    assert loaded.isdisjoint(FORBIDDEN), loaded & set(FORBIDDEN)


def test_validation_alone_does_not_even_load_pyxform():
    script = (
        "import sys, survey_forms; "
        "print('pyxform' in sys.modules, 'flask' in sys.modules, 'sqlalchemy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False", "False"]


def test_no_module_imports_a_framework():
    for path in (ROOT / "survey_forms").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
