#!/usr/bin/env bash
# The whole suite as groups, each in its own pytest process with its own platform session, so
# that a suite that restarts services (alerts with short deadlines, restart tests) cannot disturb
# another. Kafka and Neo4j are started once (by the first group's fixtures) and kept up for the
# rest; they are stopped at the end only if they were not already running before.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=.venv/bin/pytest
export INTERLOCK_KEEP_INFRA=1
test_infra=(env INTERLOCK_DATA="$PWD/.data/test-infra" KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093
            KAFKA_SASL_PORT=19094 NEO4J_BOLT_PORT=17687 deploy/infra.sh)
was_up=false
if [ -z "${KAFKA_BOOTSTRAP:-}" ] && "${test_infra[@]}" status >/dev/null 2>&1; then was_up=true; fi

failed=()
start=$(date +%s)
for group in "$@"; do
  echo "=== $group"
  IFS=+ read -ra paths <<< "$group"   # a+b: one pytest session (one platform) for both
  $PYTEST -q -p no:cacheprovider -rfE --durations=8 ${PYTEST_ARGS:-} "${paths[@]}"
  rc=$?
  if [ $rc -eq 5 ]; then echo "pytest ran no test in $group: failing"; rc=1; fi
  [ $rc -eq 0 ] || failed+=("$group")
done
echo "=== suite took $(( $(date +%s) - start ))s"

if [ -z "${KAFKA_BOOTSTRAP:-}" ] && [ "$was_up" = false ]; then "${test_infra[@]}" down >/dev/null 2>&1 || true; fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed groups: ${failed[*]}"
  exit 1
fi
echo "all groups passed"
