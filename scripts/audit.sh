#!/usr/bin/env bash
# Dependency audit: fails on known vulnerabilities in requirements.txt (pip-audit, PyPI
# advisory service / OSV). Needs network access to the advisory service. If pip-audit cannot
# look packages up it says "could not be audited"; we treat that as a FAILURE (exit 2) with a
# clear message, never as a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
PIP_AUDIT=${PIP_AUDIT:-.venv/bin/pip-audit}
[ -x "$PIP_AUDIT" ] || PIP_AUDIT=$(command -v pip-audit || true)
if [ -z "$PIP_AUDIT" ]; then
  echo "audit: pip-audit is not installed (pip install pip-audit)" >&2
  exit 2
fi
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$PIP_AUDIT" -r requirements.txt --progress-spinner off "$@" >"$OUT" 2>&1
STATUS=$?
cat "$OUT"
UNAUDITED=$(grep -c "could not be audited" "$OUT" || true)
if [ "$UNAUDITED" -gt 0 ]; then
  echo >&2
  echo "audit: FAILED - $UNAUDITED dependencies could not be audited: pip-audit could not" \
       "reach its vulnerability database (PyPI/OSV). This is not a pass; run it where the" \
       "advisory service is reachable (CI)." >&2
  exit 2
fi
if [ "$STATUS" -ne 0 ]; then
  echo "audit: FAILED - known vulnerabilities (or an error) above" >&2
  exit "$STATUS"
fi
echo "audit: no known vulnerabilities"
