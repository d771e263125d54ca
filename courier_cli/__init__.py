"""`courier`, the workstation command line: API keys, `doctor`, video analysis of local
files, and the local stack. Not part of the Lambda layer: it runs where the operator
is, with the operator's AWS credentials, and may import `infra` and `devstack`."""

import sys
from pathlib import Path

#: The repository the CLI is installed from (editable): your workers (functions/<name>/worker.py)
#: live at its root, beside this package, and the catalogue finds them there whatever folder
#: a command runs in.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))
