#!/usr/bin/env bash
# Install gunicorn_h1c, gunicorn's HTTP/1.1 parser in C (picohttpparser), which gunicorn
# uses on its own when present (http_parser "auto"). PyPI ships it as source only, so it
# needs a C compiler. Optional: without one gunicorn keeps its pure Python parser and
# everything works. LGSP_NATIVE_HTTP_PARSER=0 skips it.
# Usage: scripts/native-http-parser.sh [path/to/venv/python]
set -u
[ "${LGSP_NATIVE_HTTP_PARSER:-1}" = "0" ] && exit 0
py="${1:-.venv/bin/python}"
"$py" -c 'import gunicorn_h1c' 2>/dev/null && exit 0
echo "gunicorn: building the C HTTP parser gunicorn_h1c (LGSP_NATIVE_HTTP_PARSER=0 skips) …"
if "$py" -m pip install --quiet "gunicorn_h1c>=0.6,<1" >/dev/null 2>&1 \
    && "$py" -c 'import gunicorn_h1c' 2>/dev/null; then
    echo "gunicorn: C HTTP parser in use"
else
    echo "gunicorn: C HTTP parser unavailable (no C compiler?); keeping the Python parser"
fi
exit 0
