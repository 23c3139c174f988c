#!/usr/bin/env sh
# One leg of the Airflow version matrix (`make compat AIRFLOW=X.Y.Z`): a venv
# of its own, .venv-compat-X.Y, installed from constraints/airflow-X.Y.txt,
# then the unit, simulator, integration and `airflow dags test` suites (not the
# deployment, browser or benchmark tests). More pytest arguments may follow:
#   sh scripts/compat.sh 3.1.8 -m "not dagtest"
set -eu
version=${1:?usage: compat.sh AIRFLOW_VERSION [PYTEST_ARGS...]}
shift
minor=$(echo "$version" | cut -d. -f1,2)
python=${PYTHON:-python3}
constraints="constraints/airflow-$minor.txt"
venv=".venv-compat-$minor"

if ! grep -qx "apache-airflow==$version" "$constraints" 2>/dev/null; then
    echo "compat: $constraints does not pin apache-airflow==$version;" \
        "write it with: make compat-constraints AIRFLOW=$version" >&2
    exit 2
fi

# Installed afresh for each content of the constraints file and pyproject.toml,
# so the venv holds exactly what the constraints say.
stamp="$venv/.installed"
want=$(cat "$constraints" pyproject.toml | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    start=$(date +%s)
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
    # -r too: the leg gets every package the file pins (a leg may pin more than we require, e.g. wtforms on 3.1)
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$constraints" -c "$constraints" -e ".[test]"
    echo "$want" >"$stamp"
    echo "compat: $venv installed in $(( $(date +%s) - start )) s"
fi
installed=$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("apache-airflow"))')
if [ "$installed" != "$version" ]; then
    echo "compat: $venv has Airflow $installed, not $version" >&2
    exit 2
fi

echo "compat: Airflow $version ($venv)"
start=$(date +%s)
status=0
"$venv/bin/python" -m pytest tests/unit tests/simulator tests/integration tests/dagtest -m "not deployment" "$@" || status=$?
echo "compat: Airflow $version: pytest exit $status in $(( $(date +%s) - start )) s"
exit $status
