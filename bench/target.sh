#!/usr/bin/env bash
# The benchmark's ImageShare server, driven by `npm run bench` through the peer harness:
#   bash bench/target.sh reset STATE_DIR   record the previous run's indexed count, stop it, wipe its
#                                          data folder, start a fresh server and wait for /healthz
#   bash bench/target.sh stop STATE_DIR    record the count and stop (after the last repetition)
# Environment: the IMAGESHARE_* variables of the benchmark server (data folder, ports).
set -euo pipefail
action=${1:?usage: target.sh reset|stop STATE_DIR}
state=${2:?usage: target.sh reset|stop STATE_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)

indexed_count() {
  curl -sf -H "authorization: Bearer $(cat "$IMAGESHARE_DATA_DIR/keys/cli-token")" \
    "http://127.0.0.1:$IMAGESHARE_HTTP_PORT/api/edge/studies" \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).reduce((a,x)=>a+x.numberOfInstances,0))}catch{console.log(0)}})' \
    || echo 0
}

if [ -f "$state/pid" ]; then
  pid=$(cat "$state/pid")
  if kill -0 "$pid" 2>/dev/null; then
    indexed_count >> "$state/indexed-counts"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pid"
fi
[ "$action" = stop ] && exit 0

rm -rf "$IMAGESHARE_DATA_DIR"
cd "$root"
nohup node bin/imageshare.mjs start > "$state/server.log" 2>&1 &
echo $! > "$state/pid"
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$IMAGESHARE_HTTP_PORT/healthz" > /dev/null 2>&1 && exit 0
  sleep 0.1
done
echo "ImageShare did not become ready; see $state/server.log" >&2
exit 1
