#!/usr/bin/env bash
# The one list of system packages Interlock needs (Debian names), checked or installed.
#
#   deploy/prerequisites.sh check     exit 1 with one message naming what is missing and the
#                                     command that installs it (run by `make install` / `make test`)
#   deploy/prerequisites.sh install   install what is missing with apt-get (run by .ci/run as root)
#   deploy/prerequisites.sh list      print the list (package: what needs it)
#
# README.md's prerequisites name the same packages; tests/unit/test_prerequisites.py checks that.
set -euo pipefail

# command that must exist | Debian package | what needs it
PREREQUISITES=(
  "java|openjdk-17-jdk-headless|Kafka and Neo4j run on Java 17; the Java example consumer"
  "javac|openjdk-17-jdk-headless|the Java example consumer (contracts/examples/java)"
  "mvn|maven|fetches the Kafka and Neo4j jars; builds the Java example consumer"
  "python3|python3|the services and the test suite (3.11)"
  "python3 -c 'import venv, ensurepip'|python3-venv|make install's virtual environment"
  "npm|npm|the web UI's JavaScript packages and the AsyncAPI parser"
  "chromium|chromium|the end-to-end tests (headless Chromium via Playwright)"
  "kcat|kcat|the integration tests that read feeds as a plain Kafka client does"
  "pdftotext|poppler-utils|the end-to-end test that reads the evaluation report's PDF back"
  "openssl|openssl|the local CA and TLS certificates (deploy/certs.sh)"
  "unzip|unzip|unpacks the Keycloak distribution (deploy/keycloak.sh, federated sign-in tests)"
  "curl|curl|deploy/keycloak.sh waits until Keycloak's realms answer"
)

missing() {
  local entry probe pkg seen=" "
  for entry in "${PREREQUISITES[@]}"; do
    IFS='|' read -r probe pkg _ <<< "$entry"
    if [[ "$probe" == *" "* ]]; then
      bash -c "$probe" >/dev/null 2>&1 && continue
    else
      command -v "$probe" >/dev/null 2>&1 && continue
    fi
    [[ "$seen" == *" $pkg "* ]] || seen+="$pkg "
  done
  echo "$seen" | xargs
}

case "${1:-check}" in
  list)
    for entry in "${PREREQUISITES[@]}"; do
      IFS='|' read -r _ pkg why <<< "$entry"
      printf '%-24s %s\n' "$pkg" "$why"
    done
    ;;
  check)
    need="$(missing)"
    if [ -n "$need" ]; then
      echo "Interlock needs system packages that are missing: $need" >&2
      echo "Install them with:  sudo apt-get install -y --no-install-recommends $need" >&2
      echo "(or run deploy/prerequisites.sh install as root; the list: deploy/prerequisites.sh list)" >&2
      exit 1
    fi
    ;;
  install)
    need="$(missing)"
    if [ -n "$need" ]; then
      echo "installing: $need"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      # shellcheck disable=SC2086 # a list of package names
      apt-get install -y -qq --no-install-recommends $need
    fi
    ;;
  *)
    echo "usage: $0 check|install|list" >&2
    exit 2
    ;;
esac
