#!/usr/bin/env bash
# Install mmssl with its stack into a virtual environment (default: .venv in the
# repository root). Idempotent: steps already done are skipped.
#
#   VENV=.venv                 where the environment goes
#   PYTHON=python3             the interpreter that makes it
#   TORCH_SPEC=torch==2.13.0   the torch to install
#   MMSSL_WHEELS=../shared/wheels   prebuilt mmcv wheels, by cp<XY>-torch<version>-<variant>/
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
MMSSL_WHEELS=${MMSSL_WHEELS:-../shared/wheels}
MMCV_VERSION=2.1.0

log() { echo "[mmssl install] $*"; }

[ -x "$VENV/bin/python" ] || { log "creating $VENV"; "$PYTHON" -m venv "$VENV"; }
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip 'setuptools>=77,<82' wheel

if ! python -c 'import torch' 2>/dev/null; then
    log "installing $TORCH_SPEC"
    pip install -q "$TORCH_SPEC"
fi

have_mmcv() {
    python - <<'PY' 2>/dev/null
import mmcv, mmcv.ops  # noqa: F401  (compiled ops are needed by mmdet)
assert mmcv.__version__ == '2.1.0'
PY
}
if ! have_mmcv; then
    tag=$(python -c 'import sys, torch; v = torch.__version__.replace("+", "-"); print(f"cp{sys.version_info[0]}{sys.version_info[1]}-torch{v}")')
    wheel=$(ls "$MMSSL_WHEELS/$tag"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n 1 || true)
    if [ -n "$wheel" ]; then
        log "installing prebuilt mmcv from $wheel"
        pip install -q "$wheel"
    else
        log "no prebuilt mmcv for $tag: building mmcv $MMCV_VERSION from source (30-50 min on 2 cores)"
        pip install -q ninja psutil
        MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} pip install -q --no-build-isolation "mmcv==$MMCV_VERSION"
    fi
fi

log "installing mmengine, mmdet and mmssl"
pip install -q 'mmengine==0.10.7' 'mmdet==3.3.0'
# a regular (not editable) install: `mim train mmssl` finds mmssl/.mim/{configs,tools}
pip install -q --no-build-isolation '.[tests]'
if ! command -v mim >/dev/null 2>&1; then
    pip install -q openmim
    # openmim pulls openxlab, which pins an old setuptools; torch needs a new one
    pip install -q 'setuptools>=77,<82' 2>/dev/null || true
fi
python -c 'import mmssl, mmdet, mmcv; print("mmssl", mmssl.__version__, "mmdet", mmdet.__version__, "mmcv", mmcv.__version__)'
