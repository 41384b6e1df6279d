"""Rule tests live one folder down: make the shared helpers of tests/ (``_cli``) importable."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
