#!/usr/bin/env bash
# Fill .whl/ (ignored by git) with what benchmarks/gpu_check.py installs on the GPU
# machine, which has CUDA torch, nvcc and Python 3.12 but no network: the mmcv 2.1.0
# source (its CUDA ops are built there) and the Python 3.12 wheels of the rest of
# mmssl's stack that the machine lacks. Run it where pip reaches PyPI; carry .whl
# with the call (about 24 MiB). A wheel that gpu_check.py built and returned
# (mmcv-2.1.0-cp312-*.whl) can be put in .whl/ too: the next call skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${DEST:-.whl}
PYTHON=${PYTHON:-python3}
mkdir -p "$DEST"
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
           --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
"$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${PLATFORMS[@]}" -d "$DEST" \
    mmengine==0.10.7 mmdet==3.3.0 faiss-cpu addict yapf platformdirs termcolor \
    terminaltables pycocotools shapely
# the source archive; pip runs mmcv's setup.py for its metadata, which imports torch
"$PYTHON" -m pip download -q --no-deps --no-build-isolation --no-binary=:all: \
    -d "$DEST" mmcv==2.1.0
ls -la "$DEST"
du -sh "$DEST"
