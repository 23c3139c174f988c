#!/usr/bin/env sh
# Writes constraints/airflow-X.Y.txt: every package pinned for one Airflow
# release, for `make compat AIRFLOW=X.Y.Z`. PyPI is the only index we reach, so
# instead of Airflow's published constraints we let pip resolve
# apache-airflow==X.Y.Z with our package and its test extra in a throw-away
# venv, and freeze the result. Our own direct dependencies are held at
# constraints.txt's versions; every other package there is an upper bound (no
# newer than what `make test` proves with Airflow 3.3.2), since the newest
# release of a library can break an older Airflow (pydantic 2.14.4 breaks the
# execution API models of Airflow 3.2.2 and 3.3.2).
#   sh scripts/compat-constraints.sh 3.1.8
set -eu
version=${1:?usage: compat-constraints.sh AIRFLOW_VERSION (e.g. 3.1.8)}
minor=$(echo "$version" | cut -d. -f1,2)
python=${PYTHON:-python3}
out="constraints/airflow-$minor.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Our direct dependencies (runtime and the test extra) pinned as constraints.txt has them;
# the rest of constraints.txt, except Airflow itself, as upper bounds.
ours='^(requests|zeep|aiohttp|pytest|pytest-mock|pytest-asyncio|azure-ai-translation-document|requests-ntlm|playwright|ruff|apache-airflow-providers-openlineage|apache-airflow-providers-celery|psycopg2-binary|asyncpg)=='
grep -iE "$ours" constraints.txt >"$tmp/ours.txt"
grep -viE "$ours|^apache-airflow(-core|-task-sdk)?==" constraints.txt | sed 's/==/<=/' >>"$tmp/ours.txt"

# What a newer library breaks in an older Airflow, as its leg found it.
held=""
case "$minor" in
    3.0 | 3.1 | 3.2)
        # svcs 26's lifespan removes app.state.svcs_registry, which Airflow before 3.3
        # sets itself: every in-process execution API call (airflow dags test) fails.
        held="svcs<26" ;;
esac
case "$minor" in
    3.0 | 3.1)
        # Before 3.2 the UI shows a provider's connection form fields only through
        # wtforms (which the FAB provider brings): the leg tests the form with it.
        held="$held wtforms" ;;
esac

"$python" -m venv "$tmp/venv"
pip="$tmp/venv/bin/python -m pip --disable-pip-version-check"
$pip install --quiet --upgrade "pip>=24"
# Not editable, so the freeze names only what pip fetched from PyPI.
if ! $pip install --quiet -c "$tmp/ours.txt" "apache-airflow==$version" ".[test]" $held; then
    echo "compat-constraints: constraints.txt's versions do not fit Airflow $version; resolving freely" >&2
    $pip install --quiet "apache-airflow==$version" ".[test]" $held
fi
{
    echo "# Airflow $version with airflow-provider-docstatus[test], resolved by"
    echo "# scripts/compat-constraints.sh $version on $("$tmp/venv/bin/python" -V) ($(date -u +%Y-%m-%d))."
    $pip freeze --all | grep -viE '^(airflow-provider-docstatus|pip|setuptools|wheel)(==| @)'
} >"$out"
echo "wrote $out ($(grep -vc '^#' "$out") packages)"
