#!/bin/bash
# Throw-away fresh Debian 12 (or, with DISTRO=ubuntu, Ubuntu 24.04) servers for the deploy tests
# (tests/test_deploy.py, bench/deploy.py).
# Each target = debootstrap rootfs (from a cached tarball, on tmpfs) booted with
# systemd-nspawn (real systemd as PID 1, journald, dbus, logind, sshd) in its own
# network namespace, attached to a private bridge on the host.  apt inside the targets
# goes through an apt-cacher-ng bound to the bridge address: no NAT, no route out.
#
# Host needs: root, debootstrap, systemd-container, apt-cacher-ng, dnsmasq-base,
# iproute2, openssh-client, util-linux (nsenter).  The host does NOT need systemd as PID 1.
#
#   testhost.sh build            # debootstrap once -> $CACHE (tarball, ~210 MB; one per DISTRO)
#   testhost.sh net-up           # bridge 10.$NET.0.1/24 + apt proxy + DNS (shared by all targets)
#   IDX=2 testhost.sh up         # target 10.$NET.0.2: fresh rootfs, netns, boot, wait for sshd
#   IDX=2 testhost.sh ssh CMD    # run CMD as root on the target
#   IDX=2 testhost.sh down       # orderly poweroff, delete netns/veth, rootfs
#   testhost.sh net-down         # stop apt proxy, delete bridge
set -euo pipefail

# Every host tool, with the Debian package that provides it: a missing one is named with its
# package instead of failing later with "command not found" in the middle of a boot.
need_tools() {
  local missing=() pair tool pkg
  for pair in debootstrap:debootstrap systemd-nspawn:systemd-container apt-cacher-ng:apt-cacher-ng \
              dnsmasq:dnsmasq-base nsenter:util-linux flock:util-linux ip:iproute2 \
              ssh:openssh-client ssh-keygen:openssh-client tar:tar curl:curl gpg:gpg; do
    tool=${pair%%:*}; pkg=${pair#*:}
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "testhost: missing host tools; install them with: apt-get install -y $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')" >&2
    exit 3
  fi
  [ "$(id -u)" = 0 ] || { echo "testhost: must run as root (network namespaces, nspawn)" >&2; exit 3; }
}

NET=${NET:-213}                                   # 10.$NET.0.0/24 private network
IDX=${IDX:-2}                                     # target's last octet (2..254)
NAME=${NAME:-testhost$IDX}                           # machine name = hostname = netns name
DISTRO=${DISTRO:-debian}                          # debian (12, bookworm) | ubuntu (24.04, noble)
case "$DISTRO" in
  debian) SUITE=bookworm; MIRROR=${MIRROR:-http://deb.debian.org/debian}
          CACHE=${CACHE:-/var/tmp/testhost-rootfs.tar} ;;
  ubuntu) SUITE=noble; MIRROR=${MIRROR:-http://archive.ubuntu.com/ubuntu}
          CACHE=${CACHE:-/var/tmp/testhost-rootfs-noble.tar} ;;
  *) echo "testhost: DISTRO must be debian or ubuntu, not $DISTRO" >&2; exit 2 ;;
esac
# Ubuntu's archive key (2018), checked by fingerprint: Debian 12 has no ubuntu-keyring package,
# so the keyring comes from Ubuntu's own archive and is trusted only if it holds this key.
UBUNTU_KEY=F6ECB3762474EDA9D21B7022871920D1991BC93C
UBUNTU_KEYRING_DEB=pool/main/u/ubuntu-keyring/ubuntu-keyring_2023.11.28.1_all.deb
ROOT=${ROOT:-/var/tmp/$NAME-root}                 # rootfs of this target (deleted by down)
ROOT_TMPFS=${ROOT_TMPFS:-1}                       # 1: rootfs on tmpfs (RAM): extract 0.5 s vs 1-9 s on disk
TMPFS_SIZE=${TMPFS_SIZE:-3G}
RUN=${RUN:-/tmp/testhost-net$NET}                    # state: pid files, logs, ssh key
STATE=$RUN/$NAME
ACNG_CACHE=${ACNG_CACHE:-/var/tmp/testhost-acng-cache}  # apt-cacher-ng cache, persists between runs
ACNG_PORT=${ACNG_PORT:-3142}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
DNS_UPSTREAM=${DNS_UPSTREAM:-}                    # e.g. the host's resolver; empty: only local names
BR=thbr$NET
HOST_IP=10.$NET.0.1
TARGET_IP=10.$NET.0.$IDX
NS=$NAME
VETH=vp$NET-$IDX                                  # host side of the veth pair (<= 15 chars)
MAC=$(printf '02:00:0a:%02x:00:%02x' "$NET" "$IDX")  # stable MAC: no stale ARP after re-up
INCLUDE=${INCLUDE:-systemd,systemd-sysv,dbus,openssh-server,python3,sudo,iproute2}

log() { printf '%s [%s] %s\n' "$(date +%T.%N | cut -c1-12)" "$NAME" "$*" >&2; }

build() {
  local tmp=$CACHE.d
  mkdir -p "$RUN"
  exec 8>"$CACHE.lock"; flock 8                  # parallel workers: build once
  [ -f "$CACHE" ] && [ "${FORCE:-0}" != 1 ] && { log "cache exists: $CACHE"; exec 8>&-; return 0; }
  rm -rf "$tmp"
  local extra=()
  if [ "$DISTRO" = ubuntu ]; then
    # debootstrap of Debian 12 predates noble; every Ubuntu suite uses the gutsy script.
    ubuntu_keyring "$CACHE.keyring.gpg"
    extra=(--keyring="$CACHE.keyring.gpg")
  fi
  log "debootstrap $SUITE -> $tmp"
  debootstrap --variant=minbase --include="$INCLUDE" "${extra[@]}" "$SUITE" "$tmp" "$MIRROR" \
    $([ "$DISTRO" = ubuntu ] && echo /usr/share/debootstrap/scripts/gutsy) >"$RUN/debootstrap.log" 2>&1 \
    || { tail -20 "$RUN/debootstrap.log" >&2; exit 1; }
  chroot "$tmp" apt-get clean                                  # drop the .debs debootstrap leaves
  find "$tmp/var/lib/apt/lists" -type f ! -name lock -delete   # like a fresh server: apt update first
  : >"$tmp/etc/machine-id"                                     # new machine-id on every boot
  rm -f "$tmp/var/lib/systemd/random-seed" "$tmp"/etc/ssh/ssh_host_*   # host keys: per target
  if [ "$DISTRO" = ubuntu ]; then
    printf 'deb %s noble main universe\ndeb %s noble-updates main universe\ndeb %s noble-security main universe\n' \
      "$MIRROR" "$MIRROR" "$MIRROR" >"$tmp/etc/apt/sources.list"
  else
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' \
      "$MIRROR" "$MIRROR" "$MIRROR" >"$tmp/etc/apt/sources.list"
  fi
  tar --numeric-owner --xattrs --xattrs-include='*' --acls -C "$tmp" -cf "$CACHE.tmp" .
  mv "$CACHE.tmp" "$CACHE"; rm -rf "$tmp"
  exec 8>&-
  log "cache written: $CACHE ($(du -h "$CACHE" | cut -f1))"
}

ubuntu_keyring() {   # $1: where to write Ubuntu's archive keyring, checked against UBUNTU_KEY
  local dir; dir=$(mktemp -d)
  curl -fsS -o "$dir/k.deb" "$MIRROR/$UBUNTU_KEYRING_DEB" || { echo "testhost: cannot fetch $MIRROR/$UBUNTU_KEYRING_DEB" >&2; exit 1; }
  dpkg-deb -x "$dir/k.deb" "$dir/x"
  if ! gpg --no-default-keyring --keyring "$dir/x/usr/share/keyrings/ubuntu-archive-keyring.gpg" \
      --with-colons --fingerprint 2>/dev/null | grep -q "^fpr:::::::::$UBUNTU_KEY:"; then
    echo "testhost: the ubuntu-keyring package does not hold key $UBUNTU_KEY; not trusting it" >&2; exit 1
  fi
  cp "$dir/x/usr/share/keyrings/ubuntu-archive-keyring.gpg" "$1"; rm -rf "$dir"
}

net_up() {
  mkdir -p "$RUN" "$ACNG_CACHE"
  exec 9>"$RUN/net.lock"; flock 9                # parallel test workers may all call net-up
  if ! ip link show "$BR" >/dev/null 2>&1; then
    # Fixed MAC: otherwise the bridge takes the lowest MAC of its ports and changes it
    # when a target's veth goes away; the other targets keep the old gateway MAC in
    # their ARP cache and their open ssh connections stall for 1-2 minutes.
    ip link add "$BR" address "$(printf '02:00:0a:%02x:00:01' "$NET")" type bridge
    ip addr add "$HOST_IP/24" dev "$BR"
    ip link set "$BR" up
  fi
  if ! { [ -s "$RUN/acng.pid" ] && kill -0 "$(cat "$RUN/acng.pid")" 2>/dev/null; }; then
    mkdir -p "$RUN/acng"
    cat >"$RUN/acng/acng.conf" <<EOF
CacheDir: $ACNG_CACHE
LogDir: $RUN/acng
SupportDir: /usr/lib/apt-cacher-ng
Port: $ACNG_PORT
BindAddress: $HOST_IP
ExThreshold: 4
ForeGround: 0
PidFile: $RUN/acng.pid
# allow CONNECT tunnels to :443 (pip/curl https through the same proxy)
PassThroughPattern: .*:443\$
EOF
    /usr/sbin/apt-cacher-ng -c "$RUN/acng" 8>&- 9>&-          # daemons must not inherit the lock fd
    for _ in $(seq 50); do [ -s "$RUN/acng.pid" ] && break; sleep 0.1; done
  fi
  # DNS on the bridge: without a server there, lookups in the targets hit 5 s timeouts
  # whenever the host rate-limits its ICMP port-unreachable replies (sudo after a
  # hostname change, etc.).  Serves testhostN names; forwards elsewhere only if DNS_UPSTREAM.
  if ! { [ -s "$RUN/dnsmasq.pid" ] && kill -0 "$(cat "$RUN/dnsmasq.pid")" 2>/dev/null; }; then
    for i in $(seq 2 254); do echo "10.$NET.0.$i testhost$i"; done >"$RUN/hosts"
    dnsmasq --conf-file=/dev/null --pid-file="$RUN/dnsmasq.pid" --listen-address="$HOST_IP" \
      --bind-interfaces --no-hosts --addn-hosts="$RUN/hosts" --domain-needed --bogus-priv \
      --no-resolv ${DNS_UPSTREAM:+--server=$DNS_UPSTREAM} --log-facility="$RUN/dnsmasq.log" 8>&- 9>&-
  fi
  exec 9>&-                                      # release the lock
  log "network $BR $HOST_IP/24 + apt proxy :$ACNG_PORT + DNS up"
}

net_down() {
  local p
  mkdir -p "$RUN"; exec 9>"$RUN/net.lock"; flock 9
  if [ -s "$RUN/acng.pid" ] && p=$(cat "$RUN/acng.pid") && kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"; for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$RUN/acng.pid"
  if [ -s "$RUN/dnsmasq.pid" ] && p=$(cat "$RUN/dnsmasq.pid") && kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"; for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$RUN/dnsmasq.pid"
  ip link del "$BR" 2>/dev/null || true
  exec 9>&-
  log "network down"
}

customize() {   # per-target identity: hostname, ssh keys, deploy user, apt proxy, resolver
  local r=$ROOT
  echo "$NAME" >"$r/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost ip6-loopback\n' "$NAME" >"$r/etc/hosts"
  ( flock 7; [ -f "$RUN/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "testhost-ci" -f "$RUN/id_ed25519" ) 7>"$RUN/key.lock"
  install -d -m700 "$r/root/.ssh"
  install -m600 "$RUN/id_ed25519.pub" "$r/root/.ssh/authorized_keys"
  chroot "$r" useradd -m -s /bin/bash -G sudo deploy
  install -d -m700 -o 1000 -g 1000 "$r/home/deploy/.ssh"
  install -m600 -o 1000 -g 1000 "$RUN/id_ed25519.pub" "$r/home/deploy/.ssh/authorized_keys"
  echo 'deploy ALL=(ALL) NOPASSWD:ALL' >"$r/etc/sudoers.d/deploy"; chmod 440 "$r/etc/sudoers.d/deploy"
  rm -f "$r"/etc/ssh/ssh_host_*; chroot "$r" ssh-keygen -A >/dev/null   # fresh host keys per target
  echo "Acquire::http::Proxy \"http://$HOST_IP:$ACNG_PORT\";" >"$r/etc/apt/apt.conf.d/01proxy"
  echo "nameserver $HOST_IP" >"$r/etc/resolv.conf"              # dnsmasq from net_up
}

netns_up() {
  ip netns add "$NS"
  ip link add "$VETH" type veth peer name eth0 netns "$NS"
  ip link set "$VETH" master "$BR"; ip link set "$VETH" up
  ip -n "$NS" link set eth0 address "$MAC"
  ip -n "$NS" addr add "$TARGET_IP/24" dev eth0
  ip -n "$NS" link set eth0 up; ip -n "$NS" link set lo up
  ip -n "$NS" route add default via "$HOST_IP"
}

boot() {
  # Own cgroup per target, so parallel containers do not share /system.slice in the
  # host's v1 "name=systemd" and v2 "unified" hierarchies (the host has no systemd).
  for h in systemd unified; do
    [ -d /sys/fs/cgroup/$h ] && mkdir -p /sys/fs/cgroup/$h/nspawn-$NAME
  done
  setsid "$0" _run >"$STATE/console.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$STATE/nspawn.pid"
}

run_container() {  # internal (_run): supervisor in its own session + cgroup
  for h in systemd unified; do
    [ -d /sys/fs/cgroup/$h/nspawn-$NAME ] && echo $$ >/sys/fs/cgroup/$h/nspawn-$NAME/cgroup.procs
  done
  # SIGTERM -> nspawn -> SIGRTMIN+3 to the container's systemd = orderly poweroff.
  # Container reboot = nspawn exits 133 -> start it again (as systemd-nspawn@.service does).
  local child= stop= rc
  trap 'stop=1; [ -n "$child" ] && kill -TERM "$child"' TERM
  while :; do
    # nspawn runs *inside* the netns (nsenter --net) instead of --network-namespace-path:
    # with the latter, systemd 252 mounts the container's /sys from the host netns
    # (/sys/class/net lists the host's NICs -> wrong Ansible interface facts) and drops
    # CAP_NET_ADMIN.  Not "ip netns exec": it remounts /sys and hides the cgroup mounts.
    nsenter --net="/run/netns/$NS" systemd-nspawn --boot --directory="$ROOT" --machine="$NAME" \
      --capability=CAP_NET_ADMIN --resolv-conf=off --timezone=off \
      --register=no --keep-unit --console=passive &
    child=$!; echo "$child" >"$STATE/nspawn-child.pid"
    while :; do wait "$child" && rc=0 || rc=$?; kill -0 "$child" 2>/dev/null || break; done
    echo "nspawn exited rc=$rc"
    if [ "$rc" -eq 133 ] && [ -z "$stop" ]; then continue; fi
    exit "$rc"
  done
}

SSH=(ssh -i "$RUN/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
     -o LogLevel=ERROR -o ConnectTimeout=2 -o BatchMode=yes)
ssh_t() { "${SSH[@]}" root@"$TARGET_IP" "$@"; }

wait_ready() {   # sshd must answer within BOOT_TIMEOUT seconds
  local deadline=$((SECONDS + BOOT_TIMEOUT)) n=0 st
  until timeout 5 "${SSH[@]}" root@"$TARGET_IP" true 2>/dev/null; do
    n=$((n + 1))
    kill -0 "$(cat "$STATE/nspawn.pid")" 2>/dev/null || { log "nspawn died:"; tail -30 "$STATE/console.log" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { log "timeout waiting for sshd"; tail -30 "$STATE/console.log" >&2; exit 1; }
    sleep 0.1
  done
  log "sshd answers (after $n failed tries)"
  st=$(timeout 60 "${SSH[@]}" root@"$TARGET_IP" 'systemctl is-system-running --wait' || true)
  log "target $TARGET_IP up, system state: $st"                # running | degraded
}

up() {
  log "up"
  if ip netns list | grep -qw "$NS" || [ -e "$STATE/nspawn.pid" ] || mountpoint -q "$ROOT"; then
    log "leftovers of an earlier run found, cleaning them first"; down
  fi
  [ -f "$CACHE" ] || build
  [ -s "$RUN/dnsmasq.pid" ] && ip link show "$BR" >/dev/null 2>&1 || net_up
  mkdir -p "$STATE"
  mountpoint -q "$ROOT" && umount "$ROOT"
  rm -rf "$ROOT"; mkdir -p "$ROOT"
  [ "$ROOT_TMPFS" = 1 ] && mount -t tmpfs -o "size=$TMPFS_SIZE,mode=755" "$NAME-root" "$ROOT"
  tar --numeric-owner --xattrs --xattrs-include='*' --acls -C "$ROOT" -xf "$CACHE"; log "rootfs extracted"
  customize; log "customized"
  netns_up
  boot; log "nspawn started"
  wait_ready
}

down() {
  local p; log "down"
  if [ -s "$STATE/nspawn.pid" ] && p=$(cat "$STATE/nspawn.pid") && kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"
    for _ in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then                  # hung shutdown: 2nd SIGTERM = nspawn kills it hard
      [ -s "$STATE/nspawn-child.pid" ] && kill -TERM "$(cat "$STATE/nspawn-child.pid")" 2>/dev/null || true
      for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
    fi
  fi
  rm -f "$STATE/nspawn.pid" "$STATE/nspawn-child.pid"; log "container stopped"
  ip netns del "$NS" 2>/dev/null || true               # also destroys the veth pair
  ip link del "$VETH" 2>/dev/null || true
  for h in systemd unified; do                         # leftover cgroups, children first
    [ -d /sys/fs/cgroup/$h/nspawn-$NAME ] && find /sys/fs/cgroup/$h/nspawn-$NAME -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  rmdir "/run/systemd/nspawn/propagate/$NAME" 2>/dev/null || true
  mountpoint -q "$ROOT" && umount "$ROOT"
  rm -rf "$ROOT"; log "cleaned up"
}

case "${1:-}" in
  check) need_tools ;;
  build) need_tools; FORCE=${FORCE:-1} build ;;
  net-up) need_tools; net_up ;;
  net-down) net_down ;;
  up) need_tools; up ;;
  down) down ;;
  ssh) shift; ssh_t "$@" ;;
  ip) echo "$TARGET_IP" ;;
  key) echo "$RUN/id_ed25519" ;;
  _run) run_container ;;
  *) echo "usage: $0 check|build|net-up|up|ssh CMD|ip|key|down|net-down   (env: IDX, NET, CACHE, ...)" >&2; exit 2 ;;
esac
