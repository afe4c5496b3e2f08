#!/usr/bin/env bash
# Native (no Docker) local infrastructure for Interlock:
#   - Apache Kafka 4.x, single KRaft node (broker+controller in one JVM)
#   - Neo4j 5.26 LTS Community server
# Both run from pinned release jars resolved by Maven into deploy/lib (git-ignored).
#
# Usage: deploy/infra.sh fetch|up|down|status|env
#   fetch   resolve and copy the pinned jars (skipped when already present for the same pom)
#   up      fetch if needed, format KRaft storage once, start both, wait until healthy
#   down    stop both (SIGTERM, then SIGKILL after INFRA_STOP_TIMEOUT seconds)
#   status  pid, port and health of each component; exit 1 if one is not healthy
#   env     print `export` lines for the endpoints and generated credentials
#
# Settings (environment, with defaults):
#   INTERLOCK_DATA=<repo>/.data/infra   data, logs, pid files, generated secrets
#   KAFKA_PORT=9092                     SASL_PLAINTEXT/SCRAM-SHA-512 listener INTERNAL (services,
#                                       each as its own principal; see services/principals.py)
#   KAFKA_CONTROLLER_PORT=9093          KRaft controller listener (SASL_PLAINTEXT/PLAIN, loopback)
#   KAFKA_SASL_PORT=9094                SASL_SSL/SCRAM-SHA-512 listener EXTERNAL (national systems)
#   KAFKA_SASL_ENABLED=1                0 = no EXTERNAL listener (INTERNAL still authenticates)
#   KAFKA_EXTERNAL_TLS=1                0 = EXTERNAL in SASL_PLAINTEXT (no TLS)
#   KAFKA_INTERNAL_TLS=0                1 = INTERNAL in SASL_SSL too (the services verify the CA)
#   NEO4J_TLS=0                         1 = Bolt requires TLS (the driver verifies the CA)
#   The certificates: deploy/certs.sh (a local CA in $INTERLOCK_DATA/tls; `up` runs `ensure`).
#   NEO4J_BOLT_PORT=7687
#   NEO4J_HTTP_PORT=0                   >0 enables the Neo4j HTTP API on that port
#   KAFKA_HEAP=1g NEO4J_HEAP=1g NEO4J_PAGECACHE=512m
#   INFRA_START_TIMEOUT=180 INFRA_STOP_TIMEOUT=60   seconds
#   KAFKA_METADATA_SNAPSHOT_MS=60000    KRaft metadata snapshot interval (see server.properties)
#   INTERLOCK_PYTHON=<repo>/.venv/bin/python        needs confluent_kafka and neo4j (health checks)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY="$ROOT/deploy"
LIB="$DEPLOY/lib"

INTERLOCK_DATA="${INTERLOCK_DATA:-$ROOT/.data/infra}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-9094}"
KAFKA_SASL_ENABLED="${KAFKA_SASL_ENABLED:-1}"
NEO4J_BOLT_PORT="${NEO4J_BOLT_PORT:-7687}"
NEO4J_HTTP_PORT="${NEO4J_HTTP_PORT:-0}"
KAFKA_EXTERNAL_TLS="${KAFKA_EXTERNAL_TLS:-1}"
KAFKA_INTERNAL_TLS="${KAFKA_INTERNAL_TLS:-0}"
NEO4J_TLS="${NEO4J_TLS:-0}"
KAFKA_HEAP="${KAFKA_HEAP:-1g}"
NEO4J_HEAP="${NEO4J_HEAP:-1g}"
NEO4J_PAGECACHE="${NEO4J_PAGECACHE:-512m}"
INFRA_START_TIMEOUT="${INFRA_START_TIMEOUT:-180}"
INFRA_STOP_TIMEOUT="${INFRA_STOP_TIMEOUT:-60}"
PYTHON="${INTERLOCK_PYTHON:-$ROOT/.venv/bin/python}"
HOST=127.0.0.1

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA="java"
fi

KAFKA_DIR="$INTERLOCK_DATA/kafka"
NEO4J_DIR="$INTERLOCK_DATA/neo4j"
LOG_DIR="$INTERLOCK_DATA/logs"
KAFKA_PID="$INTERLOCK_DATA/kafka.pid"
NEO4J_PID="$INTERLOCK_DATA/neo4j.pid"
KAFKA_ADMIN_USER="admin"
KAFKA_ADMIN_PASSWORD_FILE="$INTERLOCK_DATA/kafka-admin.password"
KAFKA_SECRETS_DIR="$INTERLOCK_DATA/principals"
KAFKA_CONTROLLER_PASSWORD_FILE="$INTERLOCK_DATA/kafka-controller.password"
NEO4J_PASSWORD_FILE="$INTERLOCK_DATA/neo4j.password"
ENV_FILE="$INTERLOCK_DATA/infra.env"
TLS_DIR="$INTERLOCK_DATA/tls"
CA_FILE="$TLS_DIR/ca.pem"

log() { printf '[infra] %s\n' "$*" >&2; }
die() {
  printf '[infra] ERROR: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- helpers

need_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (Java 17+ required; set JAVA_HOME)"
  local v
  v="$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
  [[ "${v%%.*}" =~ ^[0-9]+$ && "${v%%.*}" -ge 17 ]] || die "Java 17+ required, found '${v}' ($JAVA)"
}

need_python() {
  [[ -x "$PYTHON" ]] || die "python not found at $PYTHON (create the venv, or set INTERLOCK_PYTHON)"
  "$PYTHON" -c 'import confluent_kafka, neo4j' 2>/dev/null ||
    die "$PYTHON lacks confluent_kafka and/or neo4j (needed for health checks)"
}

random_secret() {
  # 32 alphanumeric characters; finite input so pipefail stays happy.
  head -c 48 /dev/urandom | base64 -w0 | tr -d '/+=' | cut -c1-32
}

# Kafka cluster ids are 16 random bytes, base64url without padding (22 chars).
random_cluster_id() {
  head -c 16 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# pid from a pid file, only if that process is alive and is ours (cmdline check guards pid reuse)
live_pid() {
  local file="$1" marker="$2" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker" || return 1
  echo "$pid"
}

kafka_marker() { echo "$KAFKA_DIR/server.properties"; }
neo4j_marker() { echo "--home-dir=$NEO4J_DIR"; }

tail_logs() {
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    printf '[infra] ---- last lines of %s ----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

# Serialises up/down per data dir. Started JVMs must not inherit fd 9 (or 8): they would hold
# the lock for their whole life, hence the `8>&- 9>&-` on every background start.
lock() {
  mkdir -p "$INTERLOCK_DATA"
  exec 9>"$INTERLOCK_DATA/infra.lock"
  flock -w 300 9 || die "another infra.sh is holding $INTERLOCK_DATA/infra.lock"
}

# ---------------------------------------------------------------- fetch

fetch_one() {
  local name="$1" pom="$DEPLOY/$1/pom.xml" dest="$LIB/$1" stamp sum
  stamp="$dest/.fetched"
  sum="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (Maven 3.8+ is needed to fetch the $name jars)"
  log "fetching $name jars (mvn dependency:copy-dependencies)"
  rm -rf "$dest"
  mkdir -p "$dest"
  if ! mvn -q -B -f "$pom" dependency:copy-dependencies >"$LIB/$name-fetch.log" 2>&1; then
    tail -n 40 "$LIB/$name-fetch.log" >&2
    die "fetching $name jars failed (full log: $LIB/$name-fetch.log)"
  fi
  echo "$sum" >"$stamp"
}

cmd_fetch() {
  mkdir -p "$LIB"
  # one fetch at a time, whatever the data dir (test and dev infra share deploy/lib)
  exec 8>"$LIB/.fetch.lock"
  flock -w 900 8 || die "another fetch is holding $LIB/.fetch.lock"
  fetch_one kafka
  fetch_one neo4j
  exec 8>&-
}

# ---------------------------------------------------------------- secrets and config

protocol_of() { # protocol_of 0|1: SASL_PLAINTEXT or SASL_SSL
  if [[ "$1" == 1 ]]; then echo SASL_SSL; else echo SASL_PLAINTEXT; fi
}
INTERNAL_PROTOCOL="$(protocol_of "$KAFKA_INTERNAL_TLS")"
EXTERNAL_PROTOCOL="$(protocol_of "$KAFKA_EXTERNAL_TLS")"

ensure_secret() {
  local file="$1"
  if [[ ! -s "$file" ]]; then
    (
      umask 077
      random_secret >"$file"
    )
  fi
  chmod 600 "$file"
}

write_env_file() {
  (
    umask 077
    {
      echo "KAFKA_BOOTSTRAP=$HOST:$KAFKA_PORT"
      echo "KAFKA_SECURITY_PROTOCOL=$INTERNAL_PROTOCOL"
      echo "KAFKA_CA_FILE=$CA_FILE"
      echo "KAFKA_ADMIN_USER=$KAFKA_ADMIN_USER"
      echo "KAFKA_ADMIN_PASSWORD=$(cat "$KAFKA_ADMIN_PASSWORD_FILE")"
      echo "KAFKA_SECRETS_DIR=$KAFKA_SECRETS_DIR"
      if [[ "$KAFKA_SASL_ENABLED" == 1 ]]; then
        echo "KAFKA_SASL_BOOTSTRAP=$HOST:$KAFKA_SASL_PORT"
        echo "KAFKA_SASL_MECHANISM=SCRAM-SHA-512"
        echo "KAFKA_SASL_PROTOCOL=$EXTERNAL_PROTOCOL"
      fi
      echo "NEO4J_URI=bolt://$HOST:$NEO4J_BOLT_PORT"
      if [[ "$NEO4J_TLS" == 1 ]]; then
        echo "NEO4J_CA_FILE=$CA_FILE"
      fi
      echo "NEO4J_USER=neo4j"
      echo "NEO4J_PASSWORD=$(cat "$NEO4J_PASSWORD_FILE")"
    } >"$ENV_FILE.tmp"
    mv "$ENV_FILE.tmp" "$ENV_FILE"
  )
  chmod 600 "$ENV_FILE"
}

write_kafka_config() {
  mkdir -p "$KAFKA_DIR" "$LOG_DIR/kafka"
  local listeners advertised protomap
  listeners="INTERNAL://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT"
  advertised="INTERNAL://$HOST:$KAFKA_PORT"
  protomap="INTERNAL:$INTERNAL_PROTOCOL,CONTROLLER:SASL_PLAINTEXT"
  if [[ "$KAFKA_SASL_ENABLED" == 1 ]]; then
    listeners+=",EXTERNAL://$HOST:$KAFKA_SASL_PORT"
    advertised+=",EXTERNAL://$HOST:$KAFKA_SASL_PORT"
    protomap+=",EXTERNAL:$EXTERNAL_PROTOCOL"
  fi
  # the file holds the admin's password (inter-broker login): readable by its owner only
  (umask 077 && : >"$KAFKA_DIR/server.properties.tmp")
  cat >"$KAFKA_DIR/server.properties.tmp" <<EOF
# generated by deploy/infra.sh at every start; edit the script, not this file
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=$listeners
advertised.listeners=$advertised
listener.security.protocol.map=$protomap
inter.broker.listener.name=INTERNAL
log.dirs=$KAFKA_DIR/data

num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=168
log.segment.bytes=134217728
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
# Snapshot the KRaft metadata every minute (default: hourly) and keep a day of snapshots.
# Works around a Kafka 4.x bug (org.apache.kafka.image.ScramDelta.apply, seen in 4.1.2 and 4.4.0):
# when a broker restarts from a metadata image with no SCRAM users and the replayed log holds a
# user deletion, the other SCRAM credentials can be dropped (order-dependent). Once a snapshot
# with the admin user exists, restarts start from it and are safe (the admin is in the formatted
# bootstrap metadata; no listener is left that could restore it unauthenticated). Never delete a
# SCRAM user: national systems' revocation overwrites the password instead.
metadata.log.max.snapshot.interval.ms=${KAFKA_METADATA_SNAPSHOT_MS:-60000}
metadata.max.retention.ms=86400000

# Every client listener authenticates with SCRAM-SHA-512 (credentials in the KRaft metadata log);
# no listener but CONTROLLER (loopback, KRaft's own) accepts an unauthenticated client.
# INTERNAL: the services, each as svc-<role> with the ACLs of services/principals.py, and the
# broker itself (inter-broker, as the admin). EXTERNAL: national systems (ns-<team>).
# CONTROLLER (loopback, KRaft's own quorum and registrations) authenticates too, with SASL/PLAIN
# and a static user of its own: SCRAM credentials live in the metadata log the controller serves,
# so they cannot guard it. Super users: the admin and the controller; nothing is allowed to
# anyone else where no ACL says so, and no listener yields the ANONYMOUS principal.
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$(cat "$KAFKA_CONTROLLER_PASSWORD_FILE")" user_controller="$(cat "$KAFKA_CONTROLLER_PASSWORD_FILE")";
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_ADMIN_USER" password="$(cat "$KAFKA_ADMIN_PASSWORD_FILE")";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$KAFKA_ADMIN_USER;User:controller

# TLS (SASL_SSL listeners): the certificate of deploy/certs.sh, PEM key + chain; clients verify it
# against ca.pem (KAFKA_CA_FILE). The broker asks no client certificate: SCRAM authenticates.
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/server-bundle.pem
ssl.truststore.type=PEM
ssl.truststore.location=$CA_FILE
ssl.client.auth=none
ssl.endpoint.identification.algorithm=https
EOF
  if [[ "$KAFKA_SASL_ENABLED" == 1 ]]; then
    cat >>"$KAFKA_DIR/server.properties.tmp" <<EOF
listener.name.external.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.external.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
  fi
  mv "$KAFKA_DIR/server.properties.tmp" "$KAFKA_DIR/server.properties"

  cat >"$KAFKA_DIR/log4j2.properties" <<EOF
# generated by deploy/infra.sh
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $LOG_DIR/kafka/server.log
appender.file.filePattern = $LOG_DIR/kafka/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.authorizer.name = kafka.authorizer.logger
# INFO logs every refusal ("... is Denied Operation ..."), never a grant
logger.authorizer.level = INFO
EOF
}

kafka_classpath() { echo "$LIB/kafka/*"; }

kafka_format_if_needed() {
  if [[ -f "$KAFKA_DIR/data/meta.properties" ]]; then
    return 0
  fi
  mkdir -p "$KAFKA_DIR/data"
  [[ -s "$KAFKA_DIR/cluster.id" ]] || random_cluster_id >"$KAFKA_DIR/cluster.id"
  # the admin's SCRAM password goes in a java @argfile (mode 600, removed after), never on the
  # command line where any local user could read it; "=" keeps an id starting with "-" a value
  local argfile="$KAFKA_DIR/format.args" rc=0
  (
    umask 077
    printf '%s\n' kafka.tools.StorageTool format \
      "--cluster-id=$(cat "$KAFKA_DIR/cluster.id")" "--config=$KAFKA_DIR/server.properties" \
      --add-scram "\"SCRAM-SHA-512=[name=$KAFKA_ADMIN_USER,password=$(cat "$KAFKA_ADMIN_PASSWORD_FILE")]\"" \
      >"$argfile"
  )
  log "formatting KRaft storage in $KAFKA_DIR/data (cluster id $(cat "$KAFKA_DIR/cluster.id"))"
  "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
    -cp "$(kafka_classpath)" "@$argfile" >"$LOG_DIR/kafka-format.log" 2>&1 || rc=$?
  rm -f "$argfile"
  if ((rc != 0)); then
    tail_logs "$LOG_DIR/kafka-format.log"
    rm -rf "$KAFKA_DIR/data"
    die "kafka storage format failed"
  fi
}

write_neo4j_config() {
  mkdir -p "$NEO4J_DIR/conf" "$NEO4J_DIR/data" "$NEO4J_DIR/run" "$NEO4J_DIR/plugins" \
    "$NEO4J_DIR/import" "$LOG_DIR/neo4j"
  local http_enabled=false http_port=7474
  if ((NEO4J_HTTP_PORT > 0)); then
    http_enabled=true http_port="$NEO4J_HTTP_PORT"
  fi
  cat >"$NEO4J_DIR/conf/neo4j.conf" <<EOF
# generated by deploy/infra.sh at every start; edit the script, not this file
server.directories.data=$NEO4J_DIR/data
server.directories.run=$NEO4J_DIR/run
server.directories.plugins=$NEO4J_DIR/plugins
server.directories.import=$NEO4J_DIR/import
server.directories.lib=$LIB/neo4j
server.directories.logs=$LOG_DIR/neo4j
server.default_listen_address=$HOST
server.default_advertised_address=$HOST
server.bolt.enabled=true
server.bolt.listen_address=$HOST:$NEO4J_BOLT_PORT
server.bolt.advertised_address=$HOST:$NEO4J_BOLT_PORT
server.bolt.tls_level=$([[ "$NEO4J_TLS" == 1 ]] && echo REQUIRED || echo DISABLED)
dbms.ssl.policy.bolt.enabled=$([[ "$NEO4J_TLS" == 1 ]] && echo true || echo false)
dbms.ssl.policy.bolt.base_directory=$TLS_DIR
dbms.ssl.policy.bolt.private_key=server.key
dbms.ssl.policy.bolt.public_certificate=server.pem
dbms.ssl.policy.bolt.client_auth=NONE
server.http.enabled=$http_enabled
server.http.listen_address=$HOST:$http_port
server.https.enabled=false
dbms.security.auth_enabled=true
server.memory.pagecache.size=$NEO4J_PAGECACHE
server.memory.heap.initial_size=$NEO4J_HEAP
server.memory.heap.max_size=$NEO4J_HEAP
dbms.memory.transaction.total.max=256m
dbms.usage_report.enabled=false
db.tx_log.rotation.retention_policy=1 days
# shorter Bolt drain on shutdown (default waits about 10 s with no clients)
internal.server.bolt.thread_pool_shutdown_wait_time=1s
internal.server.bolt.connection_shutdown_wait_time=1s
EOF
}

neo4j_set_password_if_needed() {
  if [[ -d "$NEO4J_DIR/data/databases/system" ]]; then
    [[ -s "$NEO4J_PASSWORD_FILE" ]] ||
      abort_up "Neo4j data exists in $NEO4J_DIR but $NEO4J_PASSWORD_FILE is missing; remove $NEO4J_DIR to start afresh"
    return 0
  fi
  ensure_secret "$NEO4J_PASSWORD_FILE"
  log "setting the initial Neo4j password (stored in $NEO4J_PASSWORD_FILE)"
  if ! NEO4J_HOME="$NEO4J_DIR" NEO4J_CONF="$NEO4J_DIR/conf" "$JAVA" -Xmx256m -cp "$LIB/neo4j/*" \
    org.neo4j.cli.AdminTool dbms set-initial-password "$(cat "$NEO4J_PASSWORD_FILE")" \
    >"$LOG_DIR/neo4j-admin.log" 2>&1; then
    tail_logs "$LOG_DIR/neo4j-admin.log"
    abort_up "neo4j-admin dbms set-initial-password failed"
  fi
}

# ---------------------------------------------------------------- start

check_port_free() {
  local port="$1" what="$2"
  if port_open "$port"; then
    abort_up "port $port ($what) is already in use by another process; set the matching *_PORT variable"
  fi
}

start_kafka() {
  local pid
  if pid="$(live_pid "$KAFKA_PID" "$(kafka_marker)")"; then
    log "kafka already running (pid $pid)"
    return 0
  fi
  check_port_free "$KAFKA_PORT" KAFKA_PORT
  check_port_free "$KAFKA_CONTROLLER_PORT" KAFKA_CONTROLLER_PORT
  if [[ "$KAFKA_SASL_ENABLED" == 1 ]]; then
    check_port_free "$KAFKA_SASL_PORT" KAFKA_SASL_PORT
  fi
  ensure_secret "$KAFKA_ADMIN_PASSWORD_FILE"
  ensure_secret "$KAFKA_CONTROLLER_PASSWORD_FILE"
  write_kafka_config
  kafka_format_if_needed
  log "starting kafka on $HOST:$KAFKA_PORT (logs: $LOG_DIR/kafka)"
  # setsid: own session, so a Ctrl-C aimed at the caller (pytest, make) does not reach the broker
  setsid nohup "$JAVA" -server "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    "-Dkafka.logs.dir=$LOG_DIR/kafka" \
    "-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties" \
    -cp "$(kafka_classpath)" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >"$LOG_DIR/kafka.out" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$KAFKA_PID"
  STARTED+=(kafka)
}

start_neo4j() {
  local pid
  if pid="$(live_pid "$NEO4J_PID" "$(neo4j_marker)")"; then
    log "neo4j already running (pid $pid)"
    return 0
  fi
  check_port_free "$NEO4J_BOLT_PORT" NEO4J_BOLT_PORT
  if ((NEO4J_HTTP_PORT > 0)); then
    check_port_free "$NEO4J_HTTP_PORT" NEO4J_HTTP_PORT
  fi
  write_neo4j_config
  neo4j_set_password_if_needed
  log "starting neo4j on bolt://$HOST:$NEO4J_BOLT_PORT (logs: $LOG_DIR/neo4j)"
  # The JVM flags are those that Neo4j's own launcher adds from server.jvm.additional.
  setsid nohup "$JAVA" -server "-Xms$NEO4J_HEAP" "-Xmx$NEO4J_HEAP" \
    -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow -XX:+UnlockExperimentalVMOptions \
    -XX:+TrustFinalNonStaticFields -XX:+DisableExplicitGC \
    -Djdk.nio.maxCachedBufferSize=1024 -Dio.netty.tryReflectionSetAccessible=true \
    -Djdk.tls.ephemeralDHKeySize=2048 -Djdk.tls.rejectClientInitiatedRenegotiation=true \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED -Dlog4j2.disable.jmx=true \
    -Dfile.encoding=UTF-8 \
    -cp "$LIB/neo4j/*" org.neo4j.server.CommunityEntryPoint \
    "--home-dir=$NEO4J_DIR" "--config-dir=$NEO4J_DIR/conf" \
    >"$LOG_DIR/neo4j.out" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$NEO4J_PID"
  STARTED+=(neo4j)
}

# ---------------------------------------------------------------- health

# One python process per probe; prints nothing on success, the reason on failure.
probe() {
  local what="$1"
  "$PYTHON" - "$what" <<PY
import sys
what = sys.argv[1]
try:
    if what in ("kafka", "kafka-sasl"):
        # the project's one Kafka client helper (services/kit/kafka.py), as the admin
        sys.path.insert(0, "$ROOT")
        from services.kit.kafka import kafka_config, new_admin
        password = open("$KAFKA_ADMIN_PASSWORD_FILE").read().strip()
        port, protocol = (
            ("$KAFKA_PORT", "$INTERNAL_PROTOCOL") if what == "kafka"
            else ("$KAFKA_SASL_PORT", "$EXTERNAL_PROTOCOL"))
        md = new_admin(kafka_config(
            "$HOST:" + port, protocol=protocol, username="$KAFKA_ADMIN_USER",
            password=password, ca_file="$CA_FILE", conf={"log_level": 0},
        )).list_topics(timeout=5)
        if not md.brokers:
            raise RuntimeError("metadata has no broker")
    elif what == "neo4j":
        from neo4j import GraphDatabase
        password = open("$NEO4J_PASSWORD_FILE").read().strip()
        tls = {}
        if "$NEO4J_TLS" == "1":
            from neo4j import TrustCustomCAs
            tls = {"encrypted": True, "trusted_certificates": TrustCustomCAs("$CA_FILE")}
        with GraphDatabase.driver("bolt://$HOST:$NEO4J_BOLT_PORT", auth=("neo4j", password),
                                  connection_timeout=3, max_transaction_retry_time=0, **tls) as d:
            d.verify_connectivity()
except Exception as e:  # noqa: BLE001
    print(f"{type(e).__name__}: {e}".splitlines()[0][:300])
    sys.exit(1)
PY
}

kafka_healthy() {
  port_open "$KAFKA_PORT" || {
    echo "port $KAFKA_PORT closed"
    return 1
  }
  probe kafka || return 1
  if [[ "$KAFKA_SASL_ENABLED" == 1 ]]; then
    probe kafka-sasl || return 1
  fi
}

neo4j_healthy() {
  port_open "$NEO4J_BOLT_PORT" || {
    echo "port $NEO4J_BOLT_PORT closed"
    return 1
  }
  probe neo4j
}

# wait_healthy NAME PIDFILE MARKER CHECKFN LOG...
wait_healthy() {
  local name="$1" pidfile="$2" marker="$3" check="$4"
  shift 4
  local deadline=$((SECONDS + INFRA_START_TIMEOUT)) reason=""
  while ((SECONDS < deadline)); do
    if ! live_pid "$pidfile" "$marker" >/dev/null; then
      tail_logs "$@"
      abort_up "$name exited during startup"
    fi
    if reason="$($check 2>&1)"; then
      return 0
    fi
    sleep 1
  done
  tail_logs "$@"
  abort_up "$name not healthy after ${INFRA_START_TIMEOUT}s: ${reason##*$'\n'}"
}

# On a failed `up`, stop what this invocation started (a half-up infra is worse than none).
STARTED=()
abort_up() {
  if ((${#STARTED[@]} > 0)); then
    log "stopping what this 'up' started: ${STARTED[*]}"
    stop_components "${STARTED[@]}" || true
  fi
  die "$1"
}

cmd_up() {
  local t0=$SECONDS
  need_java
  need_python
  cmd_fetch
  lock
  mkdir -p "$LOG_DIR"
  chmod 700 "$INTERLOCK_DATA"
  INTERLOCK_DATA="$INTERLOCK_DATA" "$DEPLOY/certs.sh" ensure
  start_kafka
  start_neo4j
  wait_healthy kafka "$KAFKA_PID" "$(kafka_marker)" kafka_healthy \
    "$LOG_DIR/kafka.out" "$LOG_DIR/kafka/server.log"
  wait_healthy neo4j "$NEO4J_PID" "$(neo4j_marker)" neo4j_healthy \
    "$LOG_DIR/neo4j.out" "$LOG_DIR/neo4j/neo4j.log"
  write_env_file
  log "kafka and neo4j healthy after $((SECONDS - t0))s (endpoints: $ENV_FILE)"
}

# ---------------------------------------------------------------- stop

# stop_components kafka|neo4j...: SIGTERM, wait up to INFRA_STOP_TIMEOUT, then SIGKILL
stop_components() {
  local pids=() names=() pid name
  for name in "$@"; do
    if [[ "$name" == kafka ]] && pid="$(live_pid "$KAFKA_PID" "$(kafka_marker)")"; then
      pids+=("$pid") names+=(kafka)
    elif [[ "$name" == neo4j ]] && pid="$(live_pid "$NEO4J_PID" "$(neo4j_marker)")"; then
      pids+=("$pid") names+=(neo4j)
    fi
  done
  if ((${#pids[@]} == 0)); then
    return 1
  fi
  local i
  for i in "${!pids[@]}"; do
    log "stopping ${names[$i]} (pid ${pids[$i]})"
    kill -TERM "${pids[$i]}" 2>/dev/null || true
  done
  local deadline=$((SECONDS + INFRA_STOP_TIMEOUT)) alive
  while :; do
    alive=0
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then
        alive=1
      fi
    done
    if ((alive == 0)); then
      break
    fi
    if ((SECONDS >= deadline)); then
      for i in "${!pids[@]}"; do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
          log "${names[$i]} did not stop within ${INFRA_STOP_TIMEOUT}s; sending SIGKILL"
          kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
      done
      sleep 1
      break
    fi
    sleep 0.5
  done
  for name in "${names[@]}"; do
    rm -f "$INTERLOCK_DATA/$name.pid"
  done
}

cmd_down() {
  lock
  if stop_components kafka neo4j; then
    log "stopped"
  else
    log "nothing running in $INTERLOCK_DATA"
  fi
  rm -f "$KAFKA_PID" "$NEO4J_PID"
}

# ---------------------------------------------------------------- status / env

cmd_status() {
  local rc=0 pid reason
  if pid="$(live_pid "$KAFKA_PID" "$(kafka_marker)")"; then
    if [[ -x "$PYTHON" ]] && reason="$(kafka_healthy 2>&1)"; then
      reason=healthy
    else
      rc=1
    fi
  else
    pid=- reason="not running"
    rc=1
  fi
  local sasl=""
  if [[ "$KAFKA_SASL_ENABLED" == 1 ]]; then
    sasl=" sasl_port=$KAFKA_SASL_PORT"
  fi
  printf 'kafka  pid=%s port=%s controller_port=%s%s health=%s\n' \
    "$pid" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$sasl" "$reason"
  if pid="$(live_pid "$NEO4J_PID" "$(neo4j_marker)")"; then
    if [[ -x "$PYTHON" ]] && reason="$(neo4j_healthy 2>&1)"; then
      reason=healthy
    else
      rc=1
    fi
  else
    pid=- reason="not running"
    rc=1
  fi
  printf 'neo4j  pid=%s bolt_port=%s health=%s\n' "$pid" "$NEO4J_BOLT_PORT" "$reason"
  printf 'data   %s\n' "$INTERLOCK_DATA"
  return $rc
}

cmd_env() {
  if [[ -f "$ENV_FILE" ]]; then
    local line
    while IFS= read -r line; do
      [[ -n "$line" ]] && printf 'export %s=%q\n' "${line%%=*}" "${line#*=}"
    done <"$ENV_FILE"
  else
    # not started yet: endpoints only, no credentials
    printf 'export KAFKA_BOOTSTRAP=%s\n' "$HOST:$KAFKA_PORT"
    if [[ "$KAFKA_SASL_ENABLED" == 1 ]]; then
      printf 'export KAFKA_SASL_BOOTSTRAP=%s\n' "$HOST:$KAFKA_SASL_PORT"
    fi
    printf 'export NEO4J_URI=%s\nexport NEO4J_USER=neo4j\n' "bolt://$HOST:$NEO4J_BOLT_PORT"
    log "$ENV_FILE does not exist yet: run '$0 up' for the generated credentials"
  fi
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    echo "usage: $0 fetch|up|down|status|env" >&2
    exit 2
    ;;
esac
