#!/usr/bin/env sh
# Writes constraints/airflow-X.Y.txt: every package pinned for one Airflow
# release, for `make compat AIRFLOW=X.Y.Z`. PyPI is the only index we reach, so
# instead of Airflow's published constraints we let pip resolve
# apache-airflow==X.Y.Z with our package and its test extra in a throw-away
# venv, our own direct dependencies held at constraints.txt's versions where
# they fit, and freeze the result.
#   sh scripts/compat-constraints.sh 3.1.8
set -eu
version=${1:?usage: compat-constraints.sh AIRFLOW_VERSION (e.g. 3.1.8)}
minor=$(echo "$version" | cut -d. -f1,2)
python=${PYTHON:-python3}
out="constraints/airflow-$minor.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Our direct dependencies (runtime and the test extra), pinned as constraints.txt has them.
grep -iE '^(requests|zeep|aiohttp|pytest|pytest-mock|pytest-asyncio|azure-ai-translation-document|requests-ntlm|playwright)==' \
    constraints.txt >"$tmp/ours.txt"

"$python" -m venv "$tmp/venv"
pip="$tmp/venv/bin/python -m pip --disable-pip-version-check"
$pip install --quiet --upgrade "pip>=24"
# Not editable, so the freeze names only what pip fetched from PyPI.
if ! $pip install --quiet -c "$tmp/ours.txt" "apache-airflow==$version" ".[test]"; then
    echo "compat-constraints: our pins from constraints.txt do not fit Airflow $version; resolving them freely" >&2
    $pip install --quiet "apache-airflow==$version" ".[test]"
fi
{
    echo "# Airflow $version with airflow-provider-docstatus[test], resolved by"
    echo "# scripts/compat-constraints.sh $version on $("$tmp/venv/bin/python" -V) ($(date -u +%Y-%m-%d))."
    $pip freeze --all | grep -viE '^(airflow-provider-docstatus|pip|setuptools|wheel)(==| @)'
} >"$out"
echo "wrote $out ($(grep -vc '^#' "$out") packages)"
