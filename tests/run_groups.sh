#!/usr/bin/env bash
# The whole suite as groups, each in its own pytest process with its own platform session, so
# that a suite that restarts services (alerts with short deadlines, restart tests) cannot disturb
# another. Kafka and Neo4j are started once (by the first group's fixtures) and kept up for the
# rest; they are stopped at the end only if they were not already running before.
#
# A group written "beside:group" runs beside the groups that follow it instead of before them (its
# output is printed when it ends): for groups that assert no timing and start no platform the
# others share, e.g. the unit tests, or Keycloak's group beside the benchmark's smoke run.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=.venv/bin/pytest
export INTERLOCK_KEEP_INFRA=1
test_infra=(env INTERLOCK_DATA="$PWD/.data/test-infra" KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093
            KAFKA_SASL_PORT=19094 NEO4J_BOLT_PORT=17687 deploy/infra.sh)
was_up=false
if [ -z "${KAFKA_BOOTSTRAP:-}" ] && "${test_infra[@]}" status >/dev/null 2>&1; then was_up=true; fi
test_keycloak=(env INTERLOCK_DATA="$PWD/.data/test-keycloak" KEYCLOAK_PORT=18180 deploy/keycloak.sh)
keycloak_was_up=false   # the oidc group's Keycloak (tests/integration/oidc/conftest.py), likewise
if [ -z "${KEYCLOAK_URL:-}" ] && "${test_keycloak[@]}" status >/dev/null 2>&1; then keycloak_was_up=true; fi

side_dir=$(mktemp -d)
trap 'rm -rf "$side_dir"' EXIT
failed=()
side=()
start=$(date +%s)

run_group() {  # run_group GROUP: one pytest session; its exit code, 5 (no test ran) as a failure
  local paths rc
  IFS=+ read -ra paths <<< "$1"   # a+b: one pytest session (one platform) for both
  $PYTEST -q -p no:cacheprovider -rfE --durations=8 ${PYTEST_ARGS:-} "${paths[@]}"
  rc=$?
  if [ $rc -eq 5 ]; then echo "pytest ran no test in $1: failing"; rc=1; fi
  return $rc
}

for group in "$@"; do
  if [[ $group == beside:* ]]; then
    group=${group#beside:}
    n=${#side[@]}
    ( began=$(date +%s); run_group "$group"; rc=$?
      echo "(beside the others; took $(( $(date +%s) - began ))s)"; exit $rc
    ) >"$side_dir/$n.log" 2>&1 &
    side+=("$!:$group")
    echo "=== $group (beside the next groups)"
    continue
  fi
  echo "=== $group"
  group_start=$(date +%s)
  run_group "$group" || failed+=("$group")
  echo "(took $(( $(date +%s) - group_start ))s)"
done
for i in "${!side[@]}"; do
  pid=${side[$i]%%:*} group=${side[$i]#*:}
  wait "$pid"; rc=$?
  echo "=== $group (ran beside)"
  cat "$side_dir/$i.log"
  [ $rc -eq 0 ] || failed+=("$group")
done
echo "=== suite took $(( $(date +%s) - start ))s"

if [ -z "${KAFKA_BOOTSTRAP:-}" ] && [ "$was_up" = false ]; then "${test_infra[@]}" down >/dev/null 2>&1 || true; fi
if [ -z "${KEYCLOAK_URL:-}" ] && [ "$keycloak_was_up" = false ]; then "${test_keycloak[@]}" down >/dev/null 2>&1 || true; fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed groups: ${failed[*]}"
  exit 1
fi
echo "all groups passed"
