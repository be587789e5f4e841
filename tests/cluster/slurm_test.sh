#!/usr/bin/env bash
# The pipeline through a real SLURM scheduler (`make test-cluster`; needs root, installs Debian packages).
#
# Brings up a throwaway one-node cluster (munged, slurmctld, slurmd from the Debian packages slurm-wlm and munge;
# no accounting: job status through squeue with a long MinJobAge), all state in one temporary folder, then:
#   1. runs a reduced smoke graph (tests/cluster/reduced.yaml: prepare, train, evaluate, complexity, Table 9,
#      Figure 1) with `snakemake --executor slurm`, the training as two gloo processes under torchrun in one job;
#   2. scancels the training job once it has written a checkpoint; Snakemake restarts it and the test checks that
#      the restarted job resumed from that checkpoint's step;
#   3. checks with squeue that every job of the run went through the scheduler;
#   4. runs a two-process training in one sbatch job and checks that both ranks end with identical weights.
# Daemons are stopped by PID and the folder removed whatever happens (KEEP_STATE=1 keeps the folder).
# Nothing is written outside the folder (caches included) except /etc/slurm/slurm.conf, a link made only when that path is free
# (the job-step plugin's srun reads the config there) and removed at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${VPBENCH_BIN:-$ROOT/.venv/bin}
export PATH="$BIN:$PATH" PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
ETC_LINK=/etc/slurm/slurm.conf

say() { printf '[cluster-test %(%H:%M:%S)T] %s\n' -1 "$*"; }
FAILURE=  # repeated after the logs at teardown: a CI log that keeps only its tail still names the cause
die() { FAILURE=$*; say "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (it starts munged/slurmctld/slurmd and installs slurm-wlm and munge)"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

STATE=$(mktemp -d /tmp/vpbench-slurm.XXXXXX)
export XDG_CACHE_HOME=$STATE/cache  # Snakemake's source cache, matplotlib's font cache: inside the folder too
CONF=$STATE/slurm.conf
MADE_LINK=0
MADE_DIR=0
SNAKEMAKE_PID=
START=$SECONDS

stop_pid_file() {  # SIGTERM, then SIGKILL after 10 s, the daemon whose PID the file holds
    local file=$1 pid
    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
}

teardown() {
    local status=$?
    set +e
    # Snakemake first (SIGTERM: it submits nothing more and waits for its jobs), then the jobs, then the daemons.
    local running=
    [ -n "$SNAKEMAKE_PID" ] && kill -TERM "$SNAKEMAKE_PID" 2>/dev/null && running=$SNAKEMAKE_PID
    if [ -s "$STATE/slurmctld.pid" ]; then
        scancel --full --partition=test 2>/dev/null
        for _ in $(seq 30); do [ -z "$(squeue -h -t R,CG,PD 2>/dev/null)" ] && break; sleep 1; done
    fi
    if [ -n "$running" ]; then
        for _ in $(seq 30); do kill -0 "$running" 2>/dev/null || break; sleep 1; done
        kill -9 "$running" 2>/dev/null
    fi
    # anything a job left behind carries this cluster's SLURM_CONF in its environment (so do the daemons: spared)
    local daemons
    daemons=" $$ $(cat "$STATE/slurmd.pid" "$STATE/slurmctld.pid" 2>/dev/null | tr '\n' ' ')"
    for proc in /proc/[0-9]*; do
        [[ $daemons == *" ${proc#/proc/} "* ]] && continue
        { tr '\0' '\n' < "$proc/environ"; } 2>/dev/null | grep -qx "SLURM_CONF=$CONF" && kill -9 "${proc#/proc/}" 2>/dev/null
    done
    if [ "$status" != 0 ]; then
        for log in slurmctld.log slurmd.log snakemake.log; do
            [ -f "$STATE/$log" ] && { echo "--- last lines of $log"; tail -n 25 "$STATE/$log"; }
        done
    fi
    stop_pid_file "$STATE/slurmd.pid"
    stop_pid_file "$STATE/slurmctld.pid"
    stop_pid_file "$STATE/munge/munged.pid"
    [ "$MADE_LINK" = 1 ] && rm -f "$ETC_LINK"
    [ "$MADE_DIR" = 1 ] && rmdir /etc/slurm
    if [ "${KEEP_STATE:-0}" = 1 ]; then say "state kept in $STATE"; else rm -rf "$STATE"; fi
    say "torn down after $((SECONDS - START)) s (exit $status)${FAILURE:+; FAIL: $FAILURE}"
}
trap teardown EXIT
trap 'exit 130' INT TERM

free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# -- munge ---------------------------------------------------------------------------------------------------
mkdir -m 700 "$STATE/munge"
dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$STATE/munge/munge.key"
munged --force --key-file="$STATE/munge/munge.key" --socket="$STATE/munge/munge.socket" \
    --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/munge/munged.log" --seed-file="$STATE/munge/munged.seed"

# -- slurm.conf ----------------------------------------------------------------------------------------------
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))  # half the machine
mkdir -p "$STATE/ctld" "$STATE/spool"
cat > "$CONF" <<EOF
ClusterName=vpbench-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$STATE/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
# finished jobs stay visible to squeue (the executor's status command and this test's accounting)
MinJobAge=7200
# a request the node can never meet fails at submission instead of pending for ever
EnforcePartLimits=ALL
KillWait=5
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$CONF
if [ ! -e "$ETC_LINK" ] && [ ! -L "$ETC_LINK" ]; then
    [ -d /etc/slurm ] || { mkdir /etc/slurm && MADE_DIR=1; }
    ln -s "$CONF" "$ETC_LINK" && MADE_LINK=1
else
    die "$ETC_LINK exists: the job-step plugin's srun would read that configuration instead of this cluster's"
fi

slurmctld -f "$CONF" -i
slurmd -f "$CONF"
for _ in $(seq 60); do
    sinfo -h -o %t 2>/dev/null | grep -qx idle && break
    sleep 0.5
done
sinfo -h -o %t | grep -qx idle || die "the node did not come up: $(sinfo 2>&1)"
say "one-node SLURM up ($CPUS CPUs, $MEM_MB MB) in $((SECONDS - START)) s, state in $STATE"

# -- the reduced smoke graph through --executor slurm --------------------------------------------------------
WORK=$STATE/work
mkdir -p "$WORK"
ln -s "$ROOT/config" "$WORK/config"  # tables read config/paper/*.csv relative to the working folder
cat > "$STATE/paths.yaml" <<EOF
paths: {raw: $STATE/data/raw, prepared: $STATE/data/prepared, results: $STATE/results, reports: $STATE/reports}
official_weights: {dir: $STATE/results/official-standin}
EOF
TRAIN_DIR=$STATE/results/checkpoints/dmvfn-city
run_snakemake() {  # LOG CONFIGFILE... [-- TARGET...], in the background: the smoke config and the given ones
    local log=$1
    shift
    local configs=() targets=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do configs+=("$1"); shift; done
    [ $# -gt 0 ] && shift && targets=("$@")
    exec snakemake --snakefile "$ROOT/Snakefile" --directory "$WORK" --profile "$ROOT/workflow/profiles/slurm" \
        --configfile "$ROOT/config/smoke.yaml" "${configs[@]}" \
        --slurm-status-command squeue --slurm-init-seconds-before-status-checks 5 --seconds-between-status-checks 3 \
        --slurm-no-account --jobs 4 --latency-wait 5 ${targets[@]+-- "${targets[@]}"} > "$log" 2>&1
}
# Every job of a run's graph went through the scheduler: one SLURM job per submission, each listed by squeue
# (MinJobAge) with its rule and wildcards in the comment; the executor names all jobs of a run by the run's UUID.
# Beside the RESTARTS the test causes (scancel), a job that failed on its own and that Snakemake ran again
# (the profile's restart-times) is accounted for too, and shown with the end of its SLURM log: a retry is how the
# profile copes with a transient failure, but never a silent one.
check_accounted() {  # LOG RESTARTS
    local log=$1 restarts=$2 first submitted total completed expected local_jobs cancelled retried id state rule
    submitted=$(grep -c "has been submitted with SLURM jobid" "$log" || true)
    first=$(grep -oE "submitted with SLURM jobid [0-9]+" "$log" | head -n 1 | awk '{print $NF}')
    squeue -h -t all --name "$(squeue -h -t all -j "$first" -o %j)" -o '%i %T %k' | sort -n > "$log.jobs"
    say "jobs of the run in squeue (id state rule):"
    sed 's/^/    /' "$log.jobs"
    total=$(wc -l < "$log.jobs")
    completed=$(awk '$2 == "COMPLETED" {print $3}' "$log.jobs" | sort -u | wc -l)
    cancelled=$(awk '$2 == "CANCELLED"' "$log.jobs" | wc -l)
    retried=0
    while read -r id state rule; do
        [ "$state" = COMPLETED ] || [ "$state" = CANCELLED ] && continue
        awk -v rule="$rule" '$2 == "COMPLETED" && $3 == rule {found = 1} END {exit !found}' "$log.jobs" \
            || die "SLURM job $id ($rule) ended $state and never completed on a retry"
        retried=$((retried + 1))
        say "WARNING: SLURM job $id ($rule) ended $state and Snakemake ran it again (restart-times); its log ends:"
        tail -n 30 "$(grep -oE "SLURM jobid $id \(log: [^)]+" "$log" | sed 's/.*(log: //')" 2>&1 | sed 's/^/    | /' || true
    done < "$log.jobs"
    expected=$(grep -oE "^total +[0-9]+" "$log" | head -n 1 | awk '{print $2}')
    # the target rules without a command (all, compare) are done inside Snakemake itself, never submitted
    local_jobs=$(awk '/^Job stats:/ {stats = 1} stats && $1 ~ /^(all|compare)$/ && $2 ~ /^[0-9]+$/ {n += $2} /^total/ && stats {exit} END {print n + 0}' "$log")
    expected=$((expected - local_jobs))
    say "graph of $expected jobs to submit ($local_jobs target rule(s) without a command left out): $submitted submissions, $total SLURM jobs, $completed distinct jobs completed, $cancelled cancelled, $retried failed and retried"
    [ "$total" = "$submitted" ] && [ "$completed" = "$expected" ] && [ "$cancelled" = "$restarts" ] \
        && [ "$total" = $((expected + restarts + retried)) ] \
        || die "not every job of the graph completed through the scheduler (one SLURM job each, plus $restarts restarts and $retried retries)"
}
TARGETS=("$STATE/reports/tables/table9.md" "$STATE/reports/figures/fig1.png")
say "snakemake --executor slurm: ${TARGETS[*]##*/}"
RUN_START=$SECONDS
run_snakemake "$STATE/snakemake.log" "$ROOT/tests/cluster/reduced.yaml" "$STATE/paths.yaml" -- "${TARGETS[@]}" &
SNAKEMAKE_PID=$!

# Cancel the training job once it is running and has written a checkpoint.
CANCELLED=
while kill -0 "$SNAKEMAKE_PID" 2>/dev/null; do
    train_job=$(squeue -h -t R -o '%i %k' | awk '$2 ~ /^rule_train_/ {print $1; exit}')
    if [ -n "$train_job" ] && [ -f "$TRAIN_DIR/last.pt" ]; then
        scancel "$train_job"
        CANCELLED=$train_job
        break
    fi
    sleep 0.5
done
[ -n "$CANCELLED" ] || die "the training job was not seen running with a checkpoint (see snakemake.log)"
while squeue -h -j "$CANCELLED" -t R,CG -o %i 2>/dev/null | grep -q .; do sleep 0.5; done
CHECKPOINT_STEP=$(python -c "
from vpbench.training.checkpoints import load_training_checkpoint
print(load_training_checkpoint('$TRAIN_DIR/last.pt')['step'])")
say "scancelled training job $CANCELLED; its last checkpoint: step $CHECKPOINT_STEP"

wait "$SNAKEMAKE_PID" || die "snakemake failed (exit $?)"
SNAKEMAKE_PID=
RUN_SECONDS=$((SECONDS - RUN_START))
for target in "${TARGETS[@]}"; do [ -s "$target" ] || die "missing $target"; done
say "the reduced graph completed through SLURM in $RUN_SECONDS s"

# -- checks --------------------------------------------------------------------------------------------------
TRAIN_LOG=$STATE/results/logs/train/dmvfn-city.log
grep -q "resumed from step $CHECKPOINT_STEP)" "$TRAIN_LOG" \
    || die "the restarted training did not resume from step $CHECKPOINT_STEP: $(tail -n 3 "$TRAIN_LOG")"
say "restarted training: $(grep -o 'trained .*' "$TRAIN_LOG")"
python - "$TRAIN_DIR/final.pt" <<'EOF' || die "final.pt was not written by two processes"
import sys
from vpbench.training.checkpoints import load_training_checkpoint
final = load_training_checkpoint(sys.argv[1])
print(f"final.pt: step {final['step']}, written by {final['world_size']} processes (torchrun in one job)")
sys.exit(0 if final["world_size"] == 2 else 1)
EOF

check_accounted "$STATE/snakemake.log" 1
for rule in train evaluate table figure; do
    grep -q " COMPLETED rule_${rule}_" "$STATE/snakemake.log.jobs" || die "no completed $rule job"
done

# -- two gloo ranks in one sbatch job end with identical weights ---------------------------------------------
DDP=$STATE/ddp
mkdir -p "$DDP"
sbatch --wait --quiet --job-name=ddp-ranks --cpus-per-task=2 --ntasks=1 --mem=3000 --time=10 \
    --output="$DDP/job.log" --chdir="$WORK" --wrap "torchrun --standalone --nproc_per_node=2 \
    $ROOT/tests/cluster/ddp_ranks.py --spec $STATE/results/specs/dmvfn-city.json --out $DDP --steps 4 \
    && python $ROOT/tests/cluster/ddp_ranks.py --compare --out $DDP --ranks 2" \
    || die "the two-process training job failed: $(tail -n 20 "$DDP/job.log")"
say "one sbatch job, torchrun with 2 gloo processes: $(tail -n 1 "$DDP/job.log")"

say "PASS in $((SECONDS - START)) s (reduced graph through SLURM: $RUN_SECONDS s)"

# FULL_SMOKE=1: then the whole smoke graph (make smoke's) through the same cluster, timed and accounted for.
if [ "${FULL_SMOKE:-0}" = 1 ]; then
    cat > "$STATE/paths-full.yaml" <<EOF
paths: {raw: $STATE/full/raw, prepared: $STATE/full/prepared, results: $STATE/full/results, reports: $STATE/full/reports}
official_weights: {dir: $STATE/full/results/official-standin}
EOF
    say "the whole smoke graph through SLURM"
    FULL_START=$SECONDS
    run_snakemake "$STATE/full.log" "$STATE/paths-full.yaml" &
    SNAKEMAKE_PID=$!
    wait "$SNAKEMAKE_PID" || die "the smoke graph failed through SLURM"
    SNAKEMAKE_PID=
    say "the whole smoke graph completed through SLURM in $((SECONDS - FULL_START)) s"
    check_accounted "$STATE/full.log" 0
fi
