#!/usr/bin/env bash
# Makes sure a RabbitMQ broker answers at $MQBENCH_URL (default
# amqp://guest:guest@localhost:5672/). When none answers and the URL points
# at this machine, it starts one: the docker-compose service where a Docker
# engine runs, else an installed rabbitmq-server. Otherwise it says how to
# get one and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

url="${MQBENCH_URL:-amqp://guest:guest@localhost:5672/}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"
port=5672
[[ "$hostport" == *:* ]] && port="${hostport##*:}"
[[ "$url" == amqps://* && "$hostport" != *:* ]] && port=5671

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; }

wait_for() {
  for _ in $(seq 1 "$1"); do
    answers && return 0
    sleep 1
  done
  return 1
}

if answers; then
  exit 0
fi
case "$host" in
  localhost|127.*|::1|\[::1\]) ;;
  *) echo "broker.sh: no broker answers at $host:$port, and it is not on this machine; start it there or set MQBENCH_URL" >&2; exit 1 ;;
esac

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  echo "broker.sh: starting RabbitMQ with docker compose" >&2
  docker compose up -d --wait rabbitmq
  wait_for 60 && exit 0
fi
if command -v rabbitmq-server >/dev/null 2>&1; then
  echo "broker.sh: starting the installed rabbitmq-server" >&2
  rabbitmq-server -detached >/dev/null 2>&1 || true
  if command -v rabbitmqctl >/dev/null 2>&1; then
    timeout 90 rabbitmqctl -q await_startup >/dev/null 2>&1 || true
  fi
  wait_for 60 && exit 0
  echo "broker.sh: rabbitmq-server did not open port $port within 60s; see its logs (/var/log/rabbitmq)" >&2
  exit 1
fi
cat >&2 <<MSG
broker.sh: no RabbitMQ answers at $host:$port and none could be started here.
Get one with either of:
  docker compose up -d rabbitmq            (with a Docker engine; uses docker-compose.yml)
  sudo apt-get install rabbitmq-server     (Debian/Ubuntu; then rerun this command)
or point MQBENCH_URL at a broker you have.
MSG
exit 1
