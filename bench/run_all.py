"""Run every benchmark in bench/ (each compares minformers with the reference in one run)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for script in sorted(HERE.glob("bench_*.py")):
    print(f"== {script.name}", flush=True)
    subprocess.run([sys.executable, str(script)], check=True, cwd=HERE)
