#!/usr/bin/env bash
# Runs a RabbitMQ 4.x broker as a second node on this machine, beside the
# distribution's RabbitMQ 3.x, without touching that one.
#
# Debian 12 ships RabbitMQ 3.10 only; Debian 13 (trixie) ships 4.0 with
# Erlang 27. So this script debootstraps a minimal trixie root once (cached
# outside the checkout), installs rabbitmq-server in it, and runs the node
# from that root with chroot, as its own Erlang node (rabbit4@localhost) on
# its own ports. The chroot shares the host's network, so the node answers on
# 127.0.0.1:$MQBENCH_RABBITMQ4_PORT. Its data (/var/lib/rabbitmq) and logs
# (/var/log/rabbitmq) live inside the root.
#
# The node refuses the deprecated features that RabbitMQ 4.3 refuses by
# default, so tests run against it see the behaviour of a current broker:
# declaring a transient (non-durable) non-exclusive queue closes the
# connection with 541 INTERNAL_ERROR naming transient_nonexcl_queues, and
# basic.qos with global=true is answered qos-ok but the prefetch is applied
# per consumer, not per channel.
#
#   scripts/rabbitmq4.sh build    build the root once (a complete root is reused)
#   scripts/rabbitmq4.sh start    build if needed, start the node, wait until it is up
#   scripts/rabbitmq4.sh stop     stop the node, unmount what start mounted
#   scripts/rabbitmq4.sh status   exit 0 if the node answers; print its version
#   scripts/rabbitmq4.sh url      print the node's AMQP URL
#
# Environment:
#   MQBENCH_RABBITMQ4_ROOT        the root (default $XDG_CACHE_HOME/mqbench/rabbitmq4-trixie,
#                                 $XDG_CACHE_HOME defaulting to ~/.cache)
#   MQBENCH_RABBITMQ4_PORT        AMQP port (default 5673); the Erlang
#                                 distribution port is this + 20000 and the
#                                 management port (if enabled) this + 10000
#   MQBENCH_RABBITMQ4_MANAGEMENT  1 enables the management plugin (HTTP API and
#                                 UI on 127.0.0.1:port+10000, guest/guest);
#                                 default off: it adds about 2 s to a start,
#                                 and its statistics take CPU from benchmarks.
#                                 A running node keeps its setting: stop, start.
#   MQBENCH_RABBITMQ4_TIMEOUT     seconds start waits for the node (default 120)
#   MQBENCH_DEBIAN_MIRROR         Debian mirror (default http://deb.debian.org/debian)
#
# Needs root (debootstrap, chroot, mount) and Debian's package mirror.
set -euo pipefail

NODENAME=rabbit4@localhost
PORT="${MQBENCH_RABBITMQ4_PORT:-5673}"
TIMEOUT="${MQBENCH_RABBITMQ4_TIMEOUT:-120}"
MANAGEMENT="${MQBENCH_RABBITMQ4_MANAGEMENT:-0}"
MIRROR="${MQBENCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=trixie
ROOT="${MQBENCH_RABBITMQ4_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/mqbench/rabbitmq4-trixie}"

die() { echo "rabbitmq4.sh: $*" >&2; exit 1; }
say() { echo "rabbitmq4.sh: $*" >&2; }

if ! [[ "$PORT" =~ ^[0-9]+$ ]] || (( PORT == 0 || PORT + 20000 > 65535 )); then
  die "MQBENCH_RABBITMQ4_PORT must be a port number <= 45535 (the distribution port is port + 20000), not '$PORT'"
fi
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "MQBENCH_RABBITMQ4_TIMEOUT must be a number of seconds, not '$TIMEOUT'"
DIST_PORT=$((PORT + 20000))
MGMT_PORT=$((PORT + 10000))
URL="amqp://guest:guest@127.0.0.1:$PORT/"

# The root path is compared with the mount table and removed with rm -rf when
# a build was interrupted, so it must be absolute, canonical (mountinfo shows
# real paths, not symlinks) and free of whitespace (mountinfo escapes it).
case "$ROOT" in /*) ;; *) ROOT="$PWD/$ROOT" ;; esac
ROOT="$(realpath -m -- "$ROOT")"
[[ "$ROOT" != / && "$ROOT" != *[[:space:]]* ]] || die "unusable root '$ROOT'"
MARKER="$ROOT/.mqbench-rabbitmq4-complete"   # written only after a successful install
LOCK="$ROOT.lock"                            # beside the root: survives its removal
NODE_LOG="$ROOT/var/log/rabbitmq/$NODENAME.log"
STDOUT_LOG="$ROOT/var/log/rabbitmq/mqbench-stdout.log"
PID_FILE="/var/lib/rabbitmq/mnesia/$NODENAME.pid"   # inside the root (the package's default)

# What the node needs from the host's kernel inside the root: /proc only.
# Without it the node still boots and serves AMQP, but its memory monitor
# crashes (it reads /proc/self/status and /proc/meminfo: no memory alarm),
# the free-disk monitor reports NaN (df reads /proc/self/mounts: no disk
# alarm) and `rabbitmqctl status` fails. /dev is not needed: debootstrap
# makes the static nodes (null, zero, random, urandom, tty, ...) in the
# root's /dev. /sys is not needed either (the VM counts CPUs with sysconf).
# A fresh proc instance rather than a bind mount of the host's /proc, so no
# sub-mounts (binfmt_misc) come along.
RUNTIME_MOUNTS=(proc)

# --- helpers ---------------------------------------------------------------

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot and mount need it)"; }

# Mount points at or under the root, deepest first (so nested ones go first).
mounts_under_root() {
  awk -v r="$ROOT" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

unmount_all() {
  local m
  for m in $(mounts_under_root); do
    umount "$m" 2>/dev/null || { say "umount $m is busy; detaching it lazily"; umount -l "$m"; }
  done
  [[ -z "$(mounts_under_root)" ]] || die "could not unmount: $(mounts_under_root | tr '\n' ' ')"
}

# Mounts a fresh instance of a kernel file system (proc, sysfs) on the root's
# directory of that name, unless something is mounted there already.
mount_kernel_fs() {
  local what="$1" dir="$ROOT/$1" type="$1"
  [[ "$what" == sys ]] && type=sysfs
  mkdir -p "$dir"
  mountpoint -q "$dir" || mount -t "$type" "$type" "$dir"
}

# Runs a command inside the root with a clean, fixed environment: the host's
# locale may not exist in the root, and the RabbitMQ variables make every CLI
# call address this node (rabbit4@localhost), never the host's rabbit@localhost.
# ERL_EPMD_ADDRESS keeps an epmd that this node may start on loopback, as the
# host's own RabbitMQ configures it.
ROOT_ENV=(
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb
  DEBIAN_FRONTEND=noninteractive
  RABBITMQ_NODENAME="$NODENAME"
  RABBITMQ_NODE_PORT="$PORT"
  RABBITMQ_DIST_PORT="$DIST_PORT"
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_listen_min $DIST_PORT -kernel inet_dist_listen_max $DIST_PORT -kernel inet_dist_use_interface {127,0,0,1}"
  ERL_EPMD_ADDRESS=127.0.0.1
)
in_root() { chroot "$ROOT" /usr/bin/env -i "${ROOT_ENV[@]}" "$@"; }

# PIDs of the processes running inside the root (their root directory is it),
# the broker's Erlang VM and its helpers. An epmd started from the root is
# left out: it outlives the node by design and may by then also serve the
# host's 3.x node (see start_node), so this script never stops it.
root_pids() {
  local p
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/root" 2>/dev/null)" == "$ROOT" ]] || continue
    [[ "$(basename "$(readlink "$p/exe" 2>/dev/null)")" == epmd ]] && continue
    echo "${p#/proc/}"
  done
}

# Speaks the first step of AMQP 0-9-1 to 127.0.0.1:$PORT and prints the
# version from the Connection.Start the server answers with; fails if nothing
# answers or the answer is not RabbitMQ's. Cheap (no CLI boot), so start polls
# with it. The server-properties table holds "version" as a long string:
# 'S', a 4-byte length, the text; turning the non-printable bytes into line
# breaks leaves "versionS" on one line and the version on the next.
amqp_version() {
  local props
  # shellcheck disable=SC2016 # $1 expands in the inner bash
  props="$(timeout 5 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "AMQP\x00\x00\x09\x01" >&3
      dd bs=16384 count=1 status=none <&3' _ "$PORT" 2>/dev/null | tr -c '[:print:]' '\n')" || return 1
  grep -qx 'RabbitMQ' <<<"$props" || return 1
  local version
  version="$(awk 'found && NF { print; exit } /versionS$/ { found = 1 }' <<<"$props")"
  echo "${version:-?}"
}

# Whether the listener on 127.0.0.1:$PORT belongs to a process in the root:
# 0 yes, 1 no (another broker, e.g. the host's 3.x on 5672), 2 unknown (ss
# shows owners only to root). The node's name alone cannot tell: the CLI
# reaches rabbit4@localhost whatever port the AMQP answer came from.
port_is_ours() {
  local owners p
  owners="$(ss -Hltnp "sport = :$PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)" || true
  [[ -n "$owners" ]] || return 2
  for p in $owners; do
    [[ "$(readlink "/proc/$p/root" 2>/dev/null)" == "$ROOT" ]] && return 0
  done
  return 1
}

# The AMQP port the running node was started with (from its config file).
running_port() {
  sed -n 's/^listeners\.tcp\.default = 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$ROOT/etc/rabbitmq/rabbitmq.conf" 2>/dev/null
}

erlang_version() {
  # shellcheck disable=SC2016 # expands inside the root
  in_root sh -c 'cat "$(ls -d /usr/lib/erlang/releases/*/ | sort -V | tail -n 1)OTP_VERSION"' 2>/dev/null || echo '?'
}

show_logs() {
  local f
  for f in "$STDOUT_LOG" "$NODE_LOG"; do
    [[ -s "$f" ]] || continue
    echo "--- last lines of $f:" >&2
    tail -n 40 "$f" >&2
  done
}

# --- build -----------------------------------------------------------------

build() {
  need_root
  if [[ -f "$MARKER" ]]; then
    return 0
  fi
  mkdir -p "$(dirname "$ROOT")"
  if [[ -e "$ROOT" ]]; then
    # No marker: an interrupted build. Anything it (or debootstrap) mounted
    # goes first: rm -rf through a mounted /proc or /dev would be harmful,
    # and --one-file-system is a second guard.
    say "removing the incomplete root $ROOT (an earlier build did not finish)"
    [[ -z "$(root_pids)" ]] || die "processes still run inside the incomplete root $ROOT: $(root_pids | tr '\n' ' ')"
    unmount_all
    rm -rf --one-file-system -- "$ROOT"
  fi

  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap on the host"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null 2>&1 || {
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
    }
  fi
  # An older debootstrap may lack a script for trixie; trixie's is sid's.
  local script=()
  [[ -e "/usr/share/debootstrap/scripts/$SUITE" ]] || script=(/usr/share/debootstrap/scripts/sid)

  say "debootstrapping Debian $SUITE into $ROOT (several hundred MB; a few minutes)"
  mkdir -p "$ROOT"
  # debootstrap mounts proc and sys in the target itself and unmounts them on
  # exit; an interrupted run may leave them, which the next build cleans up.
  debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" "${script[@]}" >"$ROOT.debootstrap.log" 2>&1 || {
    tail -n 30 "$ROOT.debootstrap.log" >&2; unmount_all; die "debootstrap failed (whole log: $ROOT.debootstrap.log)"
  }

  # Nothing installed into the root may start a service (there is no init in
  # it, and a started broker would be the wrong node with the wrong ports).
  printf '#!/bin/sh\n# mqbench: no service starts inside this root during package installs\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  cp /etc/hosts "$ROOT/etc/hosts"
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"   # apt in the root resolves the mirror's name

  # The package would create its rabbitmq user with the root's next free
  # uid, which on the host may be another user's (here: postgres), so host
  # tools (ps, top, pkill -u) would misname the broker. When the host has a
  # rabbitmq user, the root's gets the same uid and gid.
  local uid gid
  if uid="$(id -u rabbitmq 2>/dev/null)" && gid="$(id -g rabbitmq 2>/dev/null)" \
     && ! in_root getent passwd "$uid" >/dev/null && ! in_root getent group "$gid" >/dev/null; then
    in_root groupadd --system --gid "$gid" rabbitmq
    in_root useradd --system --uid "$uid" --gid rabbitmq --home-dir /var/lib/rabbitmq \
      --no-create-home --shell /usr/sbin/nologin --comment 'RabbitMQ messaging server' rabbitmq
  fi

  say "installing rabbitmq-server into the root"
  # Maintainer scripts expect /proc (rabbitmq-server's postinst runs ps).
  mount_kernel_fs proc
  if ! { in_root apt-get update -q && in_root apt-get install -y -q --no-install-recommends rabbitmq-server; } \
       >"$ROOT.apt.log" 2>&1; then
    tail -n 30 "$ROOT.apt.log" >&2; unmount_all; die "installing rabbitmq-server failed (whole log: $ROOT.apt.log)"
  fi
  in_root apt-get clean
  unmount_all
  [[ -x "$ROOT/usr/lib/rabbitmq/bin/rabbitmq-server" || -x "$ROOT/usr/sbin/rabbitmq-server" ]] \
    || die "rabbitmq-server is missing from the root after its install"

  # shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
  in_root dpkg-query -W -f '${Version}\n' rabbitmq-server >"$MARKER"
  rm -f "$ROOT.debootstrap.log" "$ROOT.apt.log"
  say "built $ROOT (rabbitmq-server $(cat "$MARKER"))"
}

# --- start -----------------------------------------------------------------

# The node's configuration, rewritten at every start so a changed port or
# management setting takes effect.
write_config() {
  local etc="$ROOT/etc/rabbitmq"
  mkdir -p "$etc"
  {
    echo "# Written by mqbench's scripts/rabbitmq4.sh at every start; edits are lost."
    echo "listeners.tcp.default = 127.0.0.1:$PORT"
    echo "loopback_users.guest = true"
    echo "# Refuse what RabbitMQ 4.3 refuses by default."
    echo "deprecated_features.permit.transient_nonexcl_queues = false"
    echo "deprecated_features.permit.global_qos = false"
    if [[ "$MANAGEMENT" == 1 ]]; then
      # Only when the plugin is enabled: the schema of a disabled plugin is
      # not loaded, and its keys would make the node refuse the file.
      echo "management.tcp.ip = 127.0.0.1"
      echo "management.tcp.port = $MGMT_PORT"
    fi
  } >"$etc/rabbitmq.conf"
  # The same settings as in_root passes, for anyone who runs the CLI in the
  # root by hand (chroot ROOT rabbitmqctl status): without NODENAME it would
  # address rabbit@localhost, which is the host's 3.x node.
  cat >"$etc/rabbitmq-env.conf" <<EOF
# Written by mqbench's scripts/rabbitmq4.sh at every start; edits are lost.
NODENAME=$NODENAME
NODE_PORT=$PORT
DIST_PORT=$DIST_PORT
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_listen_min $DIST_PORT -kernel inet_dist_listen_max $DIST_PORT -kernel inet_dist_use_interface {127,0,0,1}"
EOF
  if [[ "$MANAGEMENT" == 1 ]]; then
    echo '[rabbitmq_management].' >"$etc/enabled_plugins"
  else
    echo '[].' >"$etc/enabled_plugins"
  fi
  # The wrapper switches to the rabbitmq user with su, whose pam_limits
  # drops the soft open-file limit to 1024 (about 900 connections). Ask for
  # 65536, what Debian's systemd unit gives the broker, but no more than our
  # hard limit: without CAP_SYS_RESOURCE (as in some sandboxes) raising the
  # hard limit fails with EPERM, and pam_limits then leaves 1024.
  local nofile hard
  hard="$(ulimit -Hn)"
  nofile=65536
  [[ "$hard" == unlimited ]] || (( hard >= nofile )) || nofile="$hard"
  mkdir -p "$ROOT/etc/security/limits.d"
  printf '# Written by mqbench scripts/rabbitmq4.sh at every start\nrabbitmq - nofile %s\n' "$nofile" \
    >"$ROOT/etc/security/limits.d/mqbench-rabbitmq.conf"
  # The node resolves "localhost" and the CLI its host's name through the
  # root's /etc/hosts: keep it the host's (it may have changed since build).
  cp /etc/hosts "$ROOT/etc/hosts"
}

port_in_use() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

start_node() {
  need_root
  build
  local version
  if version="$(amqp_version)"; then
    # A RabbitMQ answers on the port; it must be this node, fully booted.
    local ours=0
    port_is_ours || ours=$?
    if (( ours == 1 )) || ! in_root timeout 60 rabbitmqctl -q await_startup --timeout 30 >/dev/null 2>&1; then
      die "RabbitMQ $version answers on 127.0.0.1:$PORT but it is not $NODENAME from $ROOT; choose another MQBENCH_RABBITMQ4_PORT"
    fi
    echo "RabbitMQ $version ($NODENAME) already running at $URL"
    return 0
  fi

  local started=$SECONDS
  if [[ -n "$(root_pids)" && "$(running_port)" != "$PORT" ]]; then
    die "$NODENAME runs with AMQP port $(running_port), not $PORT; stop it first (scripts/rabbitmq4.sh stop)"
  fi
  if [[ -z "$(root_pids)" ]]; then
    port_in_use "$PORT" && die "127.0.0.1:$PORT is taken by something that does not speak AMQP; choose another MQBENCH_RABBITMQ4_PORT"
    port_in_use "$DIST_PORT" && die "127.0.0.1:$DIST_PORT (the Erlang distribution port, AMQP port + 20000) is taken; choose another MQBENCH_RABBITMQ4_PORT"
    for m in "${RUNTIME_MOUNTS[@]}"; do mount_kernel_fs "$m"; done
    write_config
    mkdir -p "$(dirname "$STDOUT_LOG")"
    # Detached from this shell: its own session (no SIGHUP when the caller's
    # terminal goes), all standard streams redirected (a caller capturing our
    # output with $(...) must not wait for the broker to exit), and the lock's
    # fd 9 closed (a flock is held as long as any process has the fd open, so
    # an inheriting broker would block every later start and stop).
    # The Debian wrapper /usr/sbin/rabbitmq-server switches to the root's
    # rabbitmq user, whose home (/var/lib/rabbitmq) holds the node's own
    # Erlang cookie; the CLI called through in_root switches the same way.
    # If no epmd runs (the host's 3.x node not started yet), this node starts
    # one from the root; it keeps running after stop, like any epmd, and the
    # host's node will use it when it starts (epmd's protocol is stable).
    setsid chroot "$ROOT" /usr/bin/env -i "${ROOT_ENV[@]}" /usr/sbin/rabbitmq-server </dev/null >"$STDOUT_LOG" 2>&1 9>&- &
  else
    say "a node from $ROOT is already running but not answering yet; waiting for it"
  fi

  # Wait until AMQP answers, then until the node says it has fully booted
  # (plugins and all; AMQP opens a little before the boot is complete).
  until version="$(amqp_version)"; do
    if [[ -z "$(root_pids)" ]] && (( SECONDS - started > 3 )); then
      show_logs; unmount_all; die "the node exited during startup"
    fi
    if (( SECONDS - started >= TIMEOUT )); then
      show_logs; stop_node >/dev/null 2>&1 || true
      die "the node did not answer on 127.0.0.1:$PORT within ${TIMEOUT}s (it was stopped)"
    fi
    sleep 0.5
  done
  local left=$(( TIMEOUT - (SECONDS - started) )); (( left >= 5 )) || left=5
  if ! in_root timeout $((left + 10)) rabbitmqctl -q await_startup --timeout "$left" >/dev/null 2>&1; then
    show_logs; stop_node >/dev/null 2>&1 || true
    die "rabbitmqctl await_startup for $NODENAME failed (the node was stopped)"
  fi
  local mgmt=""
  [[ "$MANAGEMENT" == 1 ]] && mgmt=", management http://127.0.0.1:$MGMT_PORT/"
  echo "RabbitMQ $version (Erlang $(erlang_version), $NODENAME) started at $URL in $((SECONDS - started))s$mgmt"
}

# --- stop ------------------------------------------------------------------

# Waits up to $1 seconds for the processes in the root to exit.
wait_gone() {
  local deadline=$((SECONDS + $1))
  while [[ -n "$(root_pids)" ]] && (( SECONDS < deadline )); do sleep 0.5; done
}

stop_node() {
  need_root
  if [[ -d "$ROOT" && -n "$(root_pids)" ]]; then
    # rabbitmqctl stop with the pid file returns once the VM has exited.
    in_root timeout 90 rabbitmqctl -q stop "$PID_FILE" >/dev/null 2>&1 \
      || say "rabbitmqctl stop failed; ending the node's processes"
    wait_gone 10
    # Whatever still runs inside the root is the node or its helpers
    # (only processes whose root directory is this root, by PID).
    local pids
    mapfile -t pids < <(root_pids)
    if (( ${#pids[@]} )); then
      kill -TERM "${pids[@]}" 2>/dev/null || true
      wait_gone 10
      mapfile -t pids < <(root_pids)
      (( ${#pids[@]} == 0 )) || kill -KILL "${pids[@]}" 2>/dev/null || true
      wait_gone 5
    fi
    echo "stopped $NODENAME"
  else
    echo "$NODENAME is not running"
  fi
  [[ -d "$ROOT" ]] && unmount_all
  return 0
}

# --- main ------------------------------------------------------------------

lock() {
  mkdir -p "$(dirname "$ROOT")"
  exec 9>"$LOCK"
  # Serialises build, start and stop: two callers must not debootstrap into
  # the same root or launch two nodes. A build can take minutes.
  flock -w 1800 9 || die "timed out waiting for $LOCK"
}

case "${1:-}" in
  build)  need_root; lock; build ;;
  start)  need_root; lock; start_node ;;
  stop)   need_root; lock; stop_node ;;
  status)
    ours=0
    if version="$(amqp_version)" && { port_is_ours || ours=$?; (( ours != 1 )); }; then
      echo "RabbitMQ $version at $URL"
    elif [[ -n "${version:-}" ]]; then
      echo "RabbitMQ $version answers at 127.0.0.1:$PORT, but it is not $NODENAME from $ROOT" >&2; exit 1
    else
      echo "no RabbitMQ answers at 127.0.0.1:$PORT" >&2; exit 1
    fi ;;
  url)    echo "$URL" ;;
  ctl)    # rabbitmqctl against this node (tests read queues through it)
    shift; need_root; in_root rabbitmqctl "$@" ;;
  *) echo "usage: $0 build|start|stop|status|url|ctl ARGS…" >&2; exit 2 ;;
esac
