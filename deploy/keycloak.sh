#!/usr/bin/env bash
# Keycloak for federated sign-in, natively (no container): the test countries' identity providers.
#
#   deploy/keycloak.sh fetch    resolve the pinned keycloak-quarkus-dist with Maven (once)
#   deploy/keycloak.sh up       start it (start-dev, in-memory H2) with the realms of
#                               deploy/keycloak/realms imported; wait until they answer
#   deploy/keycloak.sh down     stop it
#   deploy/keycloak.sh status   say whether it answers
#   deploy/keycloak.sh env      print the variables a gateway needs to trust its realms
#                               (KEYCLOAK_URL, INTERLOCK_OIDC_ISSUERS): eval "$(deploy/keycloak.sh env)"
#
# Realms: nl-police (NL-KLPD) and ro-police (RO-DIICOT), users anna.devries, joost.bakker and
# ioana.popa (password demo), a public client interlock-web (authorization code + PKCE S256).
# The database is in memory: every start imports the realms afresh, so a test's key rotation
# does not outlive the process.
#
# Environment: INTERLOCK_DATA (default .data/infra), KEYCLOAK_PORT (default 8180; the management
# port is KEYCLOAK_PORT+1), JAVA_HOME. The admin password is generated into
# $INTERLOCK_DATA/keycloak/admin.password (0600) and reaches Keycloak through the environment,
# never the command line.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY="$ROOT/deploy"
LIB="$DEPLOY/lib"
INTERLOCK_DATA="${INTERLOCK_DATA:-$ROOT/.data/infra}"
KC_DATA="$INTERLOCK_DATA/keycloak"
KEYCLOAK_PORT="${KEYCLOAK_PORT:-8180}"
KEYCLOAK_HOST=127.0.0.1
KEYCLOAK_URL="http://$KEYCLOAK_HOST:$KEYCLOAK_PORT"
KEYCLOAK_HEAP="${KEYCLOAK_HEAP:-512m}"
START_TIMEOUT="${KEYCLOAK_START_TIMEOUT:-240}"
REALMS=(nl-police ro-police)

log() { echo "[keycloak] $*" >&2; }
die() { echo "[keycloak] ERROR: $*" >&2; exit 1; }

version() { sed -n 's:.*<keycloak.version>\(.*\)</keycloak.version>.*:\1:p' "$DEPLOY/keycloak/pom.xml"; }

java_bin() {
  local candidate v
  for candidate in "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)"; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    v="$("$candidate" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
    if [[ "${v%%.*}" =~ ^[0-9]+$ && "${v%%.*}" -ge 17 ]]; then
      echo "$candidate"
      return 0
    fi
  done
  die "Keycloak $(version) needs Java 17 or newer (found none; install openjdk-17-jdk-headless or set JAVA_HOME)"
}

cmd_fetch() {
  local ver dest stamp sum
  ver="$(version)"
  dest="$LIB/keycloak"
  stamp="$dest/.fetched"
  sum="$(sha256sum "$DEPLOY/keycloak/pom.xml" | cut -d' ' -f1)"
  mkdir -p "$LIB"
  exec 8>"$LIB/.fetch.lock"
  flock -w 900 8 || die "another fetch is holding $LIB/.fetch.lock"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" && -x "$dest/keycloak-$ver/bin/kc.sh" ]]; then
    exec 8>&-
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (Maven 3.8+ is needed to fetch Keycloak)"
  command -v unzip >/dev/null 2>&1 || die "unzip not found (apt-get install unzip)"
  log "fetching Keycloak $ver (mvn dependency:copy-dependencies, about 170 MB once)"
  rm -rf "$dest"
  mkdir -p "$dest"
  if ! mvn -q -B -f "$DEPLOY/keycloak/pom.xml" dependency:copy-dependencies >"$LIB/keycloak-fetch.log" 2>&1; then
    tail -n 40 "$LIB/keycloak-fetch.log" >&2
    die "fetching Keycloak failed (full log: $LIB/keycloak-fetch.log)"
  fi
  unzip -q "$dest/keycloak-quarkus-dist-$ver.zip" -d "$dest"
  rm -f "$dest/keycloak-quarkus-dist-$ver.zip"
  echo "$sum" >"$stamp"
  exec 8>&-
}

pid_alive() { [[ -f "$KC_DATA/keycloak.pid" ]] && kill -0 "$(cat "$KC_DATA/keycloak.pid")" 2>/dev/null; }

answers() {
  local realm
  for realm in "${REALMS[@]}"; do
    curl -fsS -o /dev/null --max-time 3 "$KEYCLOAK_URL/realms/$realm/.well-known/openid-configuration" || return 1
  done
}

cmd_up() {
  cmd_fetch
  local ver java home password
  ver="$(version)"
  java="$(java_bin)"
  mkdir -p "$KC_DATA"
  if pid_alive && answers; then
    log "already up at $KEYCLOAK_URL"
    return 0
  fi
  pid_alive && cmd_down
  home="$KC_DATA/home-$ver"
  if [[ ! -x "$home/bin/kc.sh" ]]; then
    # a home of its own: Keycloak writes its build (lib/quarkus) and data inside its home
    rm -rf "$KC_DATA"/home-*
    cp -r "$LIB/keycloak/keycloak-$ver" "$home"
  fi
  rm -rf "$home/data/import"
  mkdir -p "$home/data/import"
  cp "$DEPLOY"/keycloak/realms/*.json "$home/data/import/"
  if [[ ! -f "$KC_DATA/admin.password" ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$KC_DATA/admin.password")
  fi
  password="$(cat "$KC_DATA/admin.password")"
  log "starting Keycloak $ver on $KEYCLOAK_URL (logs: $KC_DATA/keycloak.log)"
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$java")")")" \
  JAVA_OPTS_KC_HEAP="-Xms128m -Xmx$KEYCLOAK_HEAP" \
  KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$password" \
    setsid nohup "$home/bin/kc.sh" start-dev --db=dev-mem --import-realm \
      --http-host="$KEYCLOAK_HOST" --http-port="$KEYCLOAK_PORT" \
      --http-management-port="$((KEYCLOAK_PORT + 1))" \
      >"$KC_DATA/keycloak.log" 2>&1 8>&- 9>&- &
  echo $! >"$KC_DATA/keycloak.pid"
  local waited=0
  until answers; do
    pid_alive || { tail -n 30 "$KC_DATA/keycloak.log" >&2; die "Keycloak exited during start"; }
    (( waited >= START_TIMEOUT )) && { tail -n 30 "$KC_DATA/keycloak.log" >&2; die "Keycloak not up after ${START_TIMEOUT}s"; }
    sleep 1
    waited=$((waited + 1))
  done
  log "up after ${waited}s: realms ${REALMS[*]}"
}

cmd_down() {
  if pid_alive; then
    local pid
    pid="$(cat "$KC_DATA/keycloak.pid")"
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 -- "-$pid" 2>/dev/null || true
    log "stopped"
  fi
  rm -f "$KC_DATA/keycloak.pid"
}

cmd_status() {
  if pid_alive && answers; then echo "keycloak: up at $KEYCLOAK_URL"; else echo "keycloak: down"; return 1; fi
}

cmd_env() {
  local issuers
  issuers="[{\"name\":\"nl-police\",\"label\":\"Politie (NL, test IdP)\",\"issuer\":\"$KEYCLOAK_URL/realms/nl-police\",\"teams\":[\"NL-KLPD\"],\"claims\":{\"member\":\"preferred_username\",\"team\":\"team\"},\"client_id\":\"interlock-web\"},"
  issuers+="{\"name\":\"ro-police\",\"label\":\"Poliția (RO, test IdP)\",\"issuer\":\"$KEYCLOAK_URL/realms/ro-police\",\"teams\":[\"RO-DIICOT\"],\"claims\":{\"member\":\"preferred_username\",\"team\":\"team\"},\"client_id\":\"interlock-web\"}]"
  echo "export KEYCLOAK_URL='$KEYCLOAK_URL'"
  echo "export KEYCLOAK_ADMIN_PASSWORD_FILE='$KC_DATA/admin.password'"
  echo "export INTERLOCK_OIDC_ISSUERS='$issuers'"
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 fetch|up|down|status|env" >&2; exit 2 ;;
esac
