#!/usr/bin/env bash
# Interlock's local certificate authority and the server certificate of the broker, Neo4j's Bolt
# and the gateway (one certificate for 127.0.0.1 and localhost: every listener binds to loopback).
#
# Usage: deploy/certs.sh ensure|rotate|rotate-ca|show   (INTERLOCK_DATA as for deploy/infra.sh)
#   ensure     make what is missing: the CA (10 years), the server key and certificate (397 days);
#              a server certificate that expires within 30 days, or that the CA did not sign, is
#              made anew. Idempotent; deploy/infra.sh up runs it.
#   rotate     a new server key and certificate from the same CA (clients notice nothing); restart
#              the infra to serve it: deploy/certs.sh rotate && deploy/infra.sh down && deploy/infra.sh up
#   rotate-ca  a new CA and server certificate; every client must be given the new ca.pem
#   show       subject, issuer, validity and fingerprint of each
#
# Files in $INTERLOCK_DATA/tls (the dir 0700, keys 0600):
#   ca.pem, ca.key               the CA; ca.pem is what clients trust (KAFKA_CA_FILE, NEO4J_CA_FILE)
#   server.pem, server.key       the server certificate (chain: server then CA) and its PKCS#8 key
#   server-bundle.pem            key + chain in one file (Kafka's PEM keystore)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INTERLOCK_DATA="${INTERLOCK_DATA:-$ROOT/.data/infra}"
TLS_DIR="${INTERLOCK_TLS_DIR:-$INTERLOCK_DATA/tls}"
CA_DAYS="${CA_DAYS:-3650}"
SERVER_DAYS="${SERVER_DAYS:-397}"
RENEW_SECONDS=$((30 * 24 * 3600))

log() { printf '[certs] %s\n' "$*" >&2; }
die() {
  printf '[certs] ERROR: %s\n' "$*" >&2
  exit 1
}

command -v openssl >/dev/null 2>&1 || die "openssl not found (apt-get install openssl)"

make_ca() {
  log "making a new CA in $TLS_DIR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -days "$CA_DAYS" -subj "/O=Interlock/CN=Interlock local CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$TLS_DIR/ca.key.tmp" -out "$TLS_DIR/ca.pem.tmp" 2>/dev/null
  mv "$TLS_DIR/ca.key.tmp" "$TLS_DIR/ca.key"
  mv "$TLS_DIR/ca.pem.tmp" "$TLS_DIR/ca.pem"
}

make_server() {
  log "making a new server certificate (127.0.0.1, localhost) signed by the CA"
  local ext="$TLS_DIR/server.ext"
  cat >"$ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EOF
  # RSA: Neo4j's Bolt and every Kafka client accept it
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TLS_DIR/server.key.tmp" 2>/dev/null
  openssl req -new -key "$TLS_DIR/server.key.tmp" -subj "/O=Interlock/CN=localhost" \
    -out "$TLS_DIR/server.csr" 2>/dev/null
  openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
    -CAcreateserial -days "$SERVER_DAYS" -sha256 -extfile "$ext" \
    -out "$TLS_DIR/server.crt.tmp" 2>/dev/null
  cat "$TLS_DIR/server.crt.tmp" "$TLS_DIR/ca.pem" >"$TLS_DIR/server.pem.tmp"
  cat "$TLS_DIR/server.key.tmp" "$TLS_DIR/server.pem.tmp" >"$TLS_DIR/server-bundle.pem.tmp"
  mv "$TLS_DIR/server.key.tmp" "$TLS_DIR/server.key"
  mv "$TLS_DIR/server.pem.tmp" "$TLS_DIR/server.pem"
  mv "$TLS_DIR/server-bundle.pem.tmp" "$TLS_DIR/server-bundle.pem"
  rm -f "$TLS_DIR/server.csr" "$TLS_DIR/server.crt.tmp" "$ext"
}

server_ok() {
  [[ -s "$TLS_DIR/server.pem" && -s "$TLS_DIR/server.key" && -s "$TLS_DIR/server-bundle.pem" ]] || return 1
  openssl x509 -in "$TLS_DIR/server.pem" -noout -checkend "$RENEW_SECONDS" >/dev/null 2>&1 || return 1
  openssl verify -CAfile "$TLS_DIR/ca.pem" "$TLS_DIR/server.pem" >/dev/null 2>&1
}

prepare() {
  mkdir -p "$TLS_DIR"
  chmod 700 "$TLS_DIR"
  umask 077
  exec 7>"$TLS_DIR/.lock"
  flock -w 60 7 || die "another certs.sh holds $TLS_DIR/.lock"
}

cmd_ensure() {
  prepare
  if [[ ! -s "$TLS_DIR/ca.pem" || ! -s "$TLS_DIR/ca.key" ]]; then
    make_ca
  fi
  server_ok || make_server
  chmod 600 "$TLS_DIR"/*.key "$TLS_DIR/server-bundle.pem"
  chmod 644 "$TLS_DIR/ca.pem" "$TLS_DIR/server.pem"
}

cmd_show() {
  local f
  for f in ca.pem server.pem; do
    [[ -s "$TLS_DIR/$f" ]] || {
      echo "$f: missing"
      continue
    }
    printf '%s: ' "$f"
    openssl x509 -in "$TLS_DIR/$f" -noout -subject -issuer -enddate -fingerprint -sha256 | tr '\n' ' '
    echo
  done
}

case "${1:-}" in
  ensure) cmd_ensure ;;
  rotate)
    prepare
    [[ -s "$TLS_DIR/ca.pem" ]] || make_ca
    make_server
    ;;
  rotate-ca)
    prepare
    make_ca
    make_server
    ;;
  show) cmd_show ;;
  *)
    echo "usage: $0 ensure|rotate|rotate-ca|show" >&2
    exit 2
    ;;
esac
