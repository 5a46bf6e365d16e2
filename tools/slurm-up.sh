#!/usr/bin/env bash
# Start a one-node Slurm cluster on this machine (Debian's slurm-wlm and
# munge), for tools/slurm-test.R and for trying studies on a scheduler by
# hand. Run as root. Safe to run again: a cluster that this script started
# with the same configuration is left running; otherwise its daemons are
# stopped and started afresh.
#
#   tools/slurm-up.sh          start (or confirm) the cluster, wait until the node is idle
#   tools/slurm-up.sh --down   stop the daemons this script started
#
# The node is this machine as `slurmd -C` sees it (its CPUs and memory);
# jobs run as separate processes (no cgroups, which containers often lack),
# so two one-CPU jobs run side by side on two cores. Finished jobs are
# written by jobcomp/filetxt, so `sacct --completion` lists them without a
# database daemon.
set -euo pipefail

conf=/etc/slurm/slurm.conf
marker="# written by moerates tools/slurm-up.sh"
logdir=/var/log/slurm
jobcomp=$logdir/jobcomp.log
ctld_pid=/run/slurmctld.pid
slurmd_pid=/run/slurmd.pid
munge_pid=/run/munge/munged.pid
wait_seconds=${SLURM_UP_WAIT:-90}

say() { echo "slurm-up: $*"; }
die() { echo "slurm-up: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it starts munged, slurmctld and slurmd)."

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_daemon() {
  local name=$1 pidfile=$2 pid
  if pid_alive "$pidfile"; then
    pid=$(cat "$pidfile")
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    say "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
}

if [ "${1:-}" = "--down" ]; then
  stop_daemon slurmd "$slurmd_pid"
  stop_daemon slurmctld "$ctld_pid"
  stop_daemon munged "$munge_pid"
  exit 0
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# --- munge: the key, then the daemon (as the munge user, as Debian runs it)
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already running"
else
  rm -f /run/munge/munge.socket.2.lock
  runuser -u munge -- munged --pid-file="$munge_pid"
  for _ in $(seq 50); do
    munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -n </dev/null | unmunge >/dev/null || die "munged did not start"
  say "munged started"
fi

# --- slurm.conf for this machine
host=$(hostname -s)
node=$(slurmd -C | head -n 1)
case "$node" in NodeName=*) ;; *) die "slurmd -C did not describe this node: $node" ;; esac
new_conf=$(mktemp)
cat >"$new_conf" <<EOF
$marker
ClusterName=moerates
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$ctld_pid
SlurmdPidFile=$slurmd_pid
SlurmctldLogFile=$logdir/slurmctld.log
SlurmdLogFile=$logdir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$jobcomp
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=600
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

if [ -f "$conf" ] && ! grep -qxF "$marker" "$conf"; then
  die "$conf exists and was not written by this script; move it away to start the test cluster."
fi

running=false
if pid_alive "$ctld_pid" && pid_alive "$slurmd_pid" && cmp -s "$new_conf" "$conf" &&
   scontrol ping 2>/dev/null | grep -q "is UP"; then
  running=true
fi

if $running; then
  rm -f "$new_conf"
  say "slurmctld and slurmd already running with this configuration"
else
  stop_daemon slurmd "$slurmd_pid"
  stop_daemon slurmctld "$ctld_pid"
  install -m 0644 "$new_conf" "$conf"
  rm -f "$new_conf"
  install -d -o slurm -g slurm -m 0755 /var/spool/slurmctld "$logdir"
  install -d -m 0755 /var/spool/slurmd
  touch "$jobcomp" && chown slurm:slurm "$jobcomp"
  # -c: start from a clean state (no jobs left from an earlier cluster)
  slurmctld -c || die "slurmctld did not start; see $logdir/slurmctld.log"
  slurmd || die "slurmd did not start; see $logdir/slurmd.log"
  say "slurmctld and slurmd started ($node)"
fi

state=""
for _ in $(seq $((wait_seconds * 2))); do
  state=$(sinfo -h -N -n "$host" -o %T 2>/dev/null | head -n 1 || true)
  case "$state" in
    idle|mixed|allocated) break ;;
    down*|drain*) scontrol update NodeName="$host" State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.5
done
case "$state" in
  idle|mixed|allocated) ;;
  *)
    tail -n 20 "$logdir/slurmctld.log" "$logdir/slurmd.log" >&2 || true
    die "node $host is '${state:-unknown}' after ${wait_seconds} s, not idle"
    ;;
esac
sinfo
