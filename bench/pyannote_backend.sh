#!/usr/bin/env bash
# The pyannote.audio diarization backend in its own virtual environment.
#
# Creates (or reuses) .venv-pyannote beside the project's .venv, so the heavy extra (torch CUDA
# build, pyannote.audio, lightning, ...) never lands in the main environment; installs the FFmpeg
# shared libraries torchcodec needs when the system lacks them (Debian/Ubuntu, as root or through
# sudo), the pins in bench/requirements-pyannote.txt and Calmline itself without its dependencies;
# then runs the backend's tests (`pytest -m pyannote`). Prints how long each part took.
#
#   bash bench/pyannote_backend.sh [extra pytest arguments]
#
# Environment: PYTHON (interpreter for a new venv, default python3), PYANNOTE_VENV (default
# .venv-pyannote).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${PYANNOTE_VENV:-.venv-pyannote}
REQUIREMENTS=bench/requirements-pyannote.txt

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

have_ffmpeg_libs() {
    # torchcodec loads libavcodec, libavformat, libavutil, libavdevice, libavfilter, libswscale
    # and libswresample; libavdevice and libavfilter are the ones a minimal system lacks
    local lib
    for lib in libavcodec libavformat libavdevice libavfilter libswscale libswresample; do
        ldconfig -p | grep -q "${lib}\.so\.[0-9]" || return 1
    done
}

start=$(now)

step=$(now)
if have_ffmpeg_libs; then
    echo "FFmpeg shared libraries: present"
else
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        echo "FFmpeg shared libraries are missing and this user cannot install them:" >&2
        echo "install Debian's ffmpeg package (apt-get install ffmpeg), then run again" >&2
        exit 1
    fi
    echo "FFmpeg shared libraries: installing Debian's ffmpeg"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        ffmpeg >/dev/null
    echo "FFmpeg shared libraries: installed in $(since "$step") s"
fi

step=$(now)
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
pip_install() {
    # pip warns once per package about index locations a site's pip.conf names but this machine
    # lacks; those lines say nothing about this install
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2>&1 |
        { grep -v "^WARNING: Location '" || true; }
}
pip_install -r "$REQUIREMENTS"
# Calmline's own dependencies (faster-whisper, bundled ASR models, ...) are not needed here;
# the light ones the tests import are in the requirements file
pip_install --no-deps -e .
install_s=$(since "$step")
"$VENV/bin/python" - <<'EOF'
import importlib.metadata as m

# torchcodec raises here when the FFmpeg libraries or the torch build do not fit
import torchcodec.decoders  # noqa: F401

print(", ".join(f"{p} {m.version(p)}" for p in ("torch", "torchaudio", "torchcodec", "pyannote.audio")))
EOF
echo "install: ${install_s} s"

step=$(now)
status=0
"$VENV/bin/python" -m pytest -m pyannote tests/test_diarization_pyannote.py "$@" || status=$?
echo "tests: $(since "$step") s (exit $status)"
echo "total: $(since "$start") s"
exit "$status"
