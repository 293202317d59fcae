import os
import sys
from pathlib import Path

# preflight runs from a checkout: the program's packages sit beside it.
_ROOT = Path(__file__).resolve().parent.parent
for _path in (_ROOT, _ROOT / "finops"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from preflight.cli import main  # noqa: E402

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:
    # The reader (e.g. `| head`) closed the pipe: not an error of ours. Silence the final flush.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 0
sys.exit(code)
