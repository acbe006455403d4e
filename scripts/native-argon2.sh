#!/usr/bin/env bash
# Rebuild argon2-cffi-bindings for this machine's processor (-march=native). The portable
# wheel from PyPI uses SSE2 only; with AVX2 or AVX-512 the same argon2id check (same
# parameters, same hashes) takes about half the time, which is what bounds sign-ins per
# second. Optional: without a C compiler the portable wheel stays and everything works.
# LGSP_NATIVE_ARGON2=0 skips it. Usage: scripts/native-argon2.sh [path/to/venv/python]
set -u
[ "${LGSP_NATIVE_ARGON2:-1}" = "0" ] && exit 0
py="${1:-.venv/bin/python}"
version=$("$py" -c 'import importlib.metadata as m; print(m.version("argon2-cffi-bindings"))') || exit 0
echo "argon2: building argon2-cffi-bindings $version for this processor (LGSP_NATIVE_ARGON2=0 skips) …"
if CFLAGS="-O3 -march=native" ARGON2_CFFI_USE_SSE2=1 "$py" -m pip install --quiet --no-deps \
    --force-reinstall --no-cache-dir --no-binary argon2-cffi-bindings \
    "argon2-cffi-bindings==$version" >/dev/null 2>&1 \
    && "$py" -c 'import argon2; argon2.PasswordHasher(memory_cost=1024).hash("x")' 2>/dev/null; then
    echo "argon2: native build in use"
else
    echo "argon2: native build unavailable (no C compiler?); keeping the portable wheel"
    "$py" -m pip install --quiet --no-deps --force-reinstall "argon2-cffi-bindings==$version" >/dev/null 2>&1 || true
fi
exit 0
