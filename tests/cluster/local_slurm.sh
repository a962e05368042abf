#!/usr/bin/env bash
# A single-node SLURM on this machine, without systemd, for `make test-cluster` and
# bench/bench_slurm.py:
#   tests/cluster/local_slurm.sh start DIR [MIN_JOB_AGE]   write DIR/slurm.conf, start munged,
#                                                          slurmctld and slurmd with PID files in DIR
#   tests/cluster/local_slurm.sh stop DIR                  stop exactly the daemons whose PID files
#                                                          are in DIR, remove what start put outside DIR
# Needs Debian's slurm-wlm and munge and root (slurmd runs jobs as their user). Prints
# `export SLURM_CONF=...` on success; exits non-zero, naming what failed and its log, otherwise.
#
# The configuration lives in DIR, but the SLURM executor's jobstep plugin removes SLURM_CONF
# from the environment of the `srun` it runs inside each job (it keeps only a few SLURM_*
# variables), so srun reads the default /etc/slurm/slurm.conf. start therefore links
# /etc/slurm/slurm.conf to DIR/slurm.conf when no file is there (and refuses when one is: this
# machine then belongs to a real cluster, which we leave alone); stop removes that link only if
# it still points into DIR.
set -euo pipefail

action=${1:?usage: local_slurm.sh start|stop DIR [MIN_JOB_AGE]}
dir=${2:?usage: local_slurm.sh start|stop DIR [MIN_JOB_AGE]}
min_job_age=${3:-300}
default_conf=/etc/slurm/slurm.conf

running() {  # a process that has not exited (an exited one waiting to be reaped is state Z)
    [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

stop() {
    local name pid_file pid
    # Jobs still running (a run that was interrupted) are cancelled first: slurmd leaves its
    # job steps running when it stops. Only this cluster's jobs: the configuration is ours.
    if [ -f "$dir/slurm.conf" ] && [ -f "$dir/slurmctld.pid" ] && running "$(cat "$dir/slurmctld.pid")"; then
        SLURM_CONF="$dir/slurm.conf" scancel --user="$(id -un)" 2>/dev/null || true
        for _ in $(seq 100); do
            [ -z "$(SLURM_CONF="$dir/slurm.conf" squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    for name in slurmd slurmctld munged; do
        pid_file="$dir/$name.pid"
        [ -f "$pid_file" ] || continue
        pid=$(cat "$pid_file")
        # Only a process of that name: a stale PID file must not kill an unrelated process.
        if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do running "$pid" || break; sleep 0.1; done
            running "$pid" && kill -9 "$pid" 2>/dev/null || true
            echo "stopped $name (pid $pid)"
        fi
        rm -f "$pid_file"
    done
    if [ -L "$default_conf" ] && [ "$(readlink "$default_conf")" = "$dir/slurm.conf" ]; then
        rm -f "$default_conf"
        echo "removed the link $default_conf -> $dir/slurm.conf"
    fi
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq $((seconds * 5))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "local_slurm.sh: $what did not come up within ${seconds}s" >&2
    return 1
}

start() {
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chmod 700 "$dir"
    # A link left by a run that was killed before it could stop points to a directory gone since.
    if [ -L "$default_conf" ] && [ ! -e "$default_conf" ]; then
        rm -f "$default_conf"
    fi
    if [ -e "$default_conf" ] && ! { [ -L "$default_conf" ] && [ "$(readlink "$default_conf")" = "$dir/slurm.conf" ]; }; then
        echo "local_slurm.sh: $default_conf exists: this machine has a SLURM configuration of its own; not replacing it." >&2
        return 2
    fi
    mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
    chmod 700 "$dir/munge"

    # munge: a key and a socket of our own, so that a system munged (if any) is untouched.
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge/munge.key"
    munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed" || {
        echo "local_slurm.sh: munged failed to start; see $dir/munged.log" >&2; return 1; }
    wait_for 10 "munged (socket $dir/munge/munge.socket)" \
        sh -c "munge --socket='$dir/munge/munge.socket' -n | unmunge --socket='$dir/munge/munge.socket'" || return 1

    # One node with the machine's real CPUs and memory, as slurmd itself detects them.
    local node_line node cpus memory
    node_line=$(slurmd -C | head -1)
    node=$(sed -n 's/.*NodeName=\([^ ]*\).*/\1/p' <<<"$node_line")
    cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")
    memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
    cat >"$dir/slurm.conf" <<CONF
# Written by tests/cluster/local_slurm.sh: a single-node cluster for tests, no accounting database.
ClusterName=local
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
# No accounting storage, no accounting gathering: sacct cannot answer (the profile asks squeue).
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# squeue forgets a finished job after MinJobAge seconds; the executor trusts squeue only when
# this is at least 3 x slurm-init-seconds-before-status-checks.
MinJobAge=$min_job_age
NodeName=$node NodeHostname=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    mkdir -p "$(dirname "$default_conf")"
    ln -sfn "$dir/slurm.conf" "$default_conf"
    export SLURM_CONF="$dir/slurm.conf"

    slurmctld -f "$SLURM_CONF" || { echo "local_slurm.sh: slurmctld failed to start; see $dir/slurmctld.log" >&2; return 1; }
    wait_for 20 "slurmctld (log $dir/slurmctld.log)" scontrol ping || return 1
    slurmd -f "$SLURM_CONF" -N "$node" || { echo "local_slurm.sh: slurmd failed to start; see $dir/slurmd.log" >&2; return 1; }
    wait_for 30 "node $node (log $dir/slurmd.log)" \
        sh -c "sinfo -h -N -n '$node' -o %t | grep -Eq '^(idle|mix|alloc)'" || return 1
    echo "export SLURM_CONF=$SLURM_CONF"
}

case "$action" in
    # Any failing command of start stops what it had started (set -E: the trap reaches into functions).
    start) set -E; trap 'status=$?; trap - ERR; stop >&2; exit "$status"' ERR; start ;;
    stop) stop ;;
    *) echo "usage: local_slurm.sh start|stop DIR [MIN_JOB_AGE]" >&2; exit 2 ;;
esac
