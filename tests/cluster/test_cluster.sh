#!/usr/bin/env bash
# make test-cluster: the workflow through profiles/cluster on a single-node SLURM started on
# this machine, checked against a local run (tests/cluster/cluster_run.py says what is checked).
#
# Installs Debian's slurm-wlm and munge when missing (as root, with apt-get); where that is not
# possible it prints "SKIPPED: <reason>" and exits 0, so a skip is always visible in the output.
# The daemons it starts (munged, slurmctld, slurmd, with PID files in a scratch directory) are
# stopped on every exit, and only those.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
python="$root/.venv/bin/python"

skip() {
    echo "SKIPPED: make test-cluster: $*"
    exit 0
}

commands=(munged slurmctld slurmd sbatch squeue scontrol srun)
missing=()
for command in "${commands[@]}"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("$command")
done
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" = 0 ] || skip "${missing[*]} not installed, and installing slurm-wlm and munge needs root (this is uid $(id -u))"
    command -v apt-get >/dev/null 2>&1 || skip "${missing[*]} not installed, and there is no apt-get to install slurm-wlm and munge"
    echo "Installing slurm-wlm and munge (missing: ${missing[*]})"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
[ "$(id -u)" = 0 ] || skip "slurmd runs jobs as their user and must run as root (this is uid $(id -u))"
if [ -e /etc/slurm/slurm.conf ]; then
    skip "/etc/slurm/slurm.conf exists ($(readlink -f /etc/slurm/slurm.conf)): this machine has a SLURM of its own (or another test-cluster is running), which this test leaves alone"
fi
"$python" -c "import snakemake_executor_plugin_slurm" 2>/dev/null || {
    echo "FAILED: make test-cluster: the SLURM executor plugin is not installed in .venv; run make cluster-env" >&2
    exit 1
}

# squeue is the status command (no accounting database here); the executor trusts it only when
# MinJobAge is at least 3 x slurm-init-seconds-before-status-checks. A longer MinJobAge (1 h)
# also keeps every finished job visible to `scontrol show job` for the check of its state.
init_seconds=$("$python" -c "import yaml; print(yaml.safe_load(open('profiles/cluster/config.yaml'))['slurm-init-seconds-before-status-checks'])")
min_job_age=$((3 * init_seconds > 3600 ? 3 * init_seconds : 3600))

work=$(mktemp -d /tmp/migrant_health_slurm.XXXXXX)
finish() {
    status=$?
    tests/cluster/local_slurm.sh stop "$work/slurm" || true
    if [ "$status" = 0 ]; then
        rm -rf "$work"
    else
        echo "The runs' files and the daemons' logs are kept in $work" >&2
    fi
    exit "$status"
}
trap finish EXIT
# The checks run in the background so that a TERM or INT reaches them (bash runs a trap only
# after its foreground command ends); they stop their Snakemake run, which cancels its jobs.
child=
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"; exit 143' INT TERM

eval "$(tests/cluster/local_slurm.sh start "$work/slurm" "$min_job_age")"
echo "SLURM started: $SLURM_CONF (MinJobAge $min_job_age s); $(sinfo -h -o '%P %D node(s), %c CPUs, %m MB')"
"$python" tests/cluster/cluster_run.py "$work" &
child=$!
wait "$child"
