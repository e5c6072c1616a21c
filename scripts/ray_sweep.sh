#!/usr/bin/env bash
# A small archgym sweep on a local Ray cluster bound to the loopback interface.
#
#   pip install -e ".[ray]"                 # once: Hydra's Ray launcher and Ray
#   scripts/ray_sweep.sh [SWEEP_DIR]        # default multirun/ray-demo
#
# Starts a one-node Ray cluster with `ray start --head --node-ip-address=127.0.0.1`, runs
# random and rw x 2 seeds on the DRAM env through Hydra's Ray launcher (each run is a Ray task), runs the same sweep again to show that complete runs are skipped, prints the report
# table, and stops the cluster. To run on a real cluster, start Ray on each machine
# (`ray start --head` on one, `ray start --address=HEAD:PORT` on the others) and pass
# hydra/launcher=ray_cluster hydra.launcher.ray.init.address=HEAD:PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RAY=${RAY:-$(dirname "$PY")/ray}
PORT=${RAY_PORT:-6390}
SWEEP=${1:-multirun/ray-demo}
export RAY_USAGE_STATS_ENABLED=0
export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0   # Ray's loopback-only mode: every server binds to 127.0.0.1
export RAY_AUTH_MODE=token                   # the head and the sweep driver share ~/.ray/auth_token

"$RAY" start --head --node-ip-address=127.0.0.1 --port="$PORT" --include-dashboard=false --num-cpus=2 \
    --disable-usage-stats
trap '"$RAY" stop' EXIT
echo "== Ray servers listening (all must be on 127.0.0.1)"
ss -ltnp | grep -E 'gcs_server|raylet|ray::' | awk '{print $4, $6}' | sed 's/,fd=[0-9]*//'
if ss -ltnp | grep -E 'gcs_server|raylet|ray::' | awk '{print $4}' | grep -vqE '^(\[::ffff:)?127\.0\.0\.1'; then
    echo "a Ray server listens beyond loopback" >&2; exit 1
fi

sweep() {
    "$PY" -m archgym.cli run --multirun hydra/launcher=ray_cluster hydra.launcher.ray.init.address="127.0.0.1:$PORT" \
        env=dram_random agent=random,rw seed=0,1 budget=20 +env.kwargs.n_requests=2000 progress=false \
        hydra.sweep.dir="$SWEEP"
}
echo "== sweep on Ray (127.0.0.1:$PORT)"
sweep
echo "== the same sweep again: every run is already complete"
sweep 2>&1 | grep -E "skipping|Launching|#[0-9]" || true
echo "== report"
"$PY" -m archgym.cli report "$SWEEP"
