# Read in one call what a role decides on, so that a deploy which changes nothing costs one
# module call per role instead of one or two per file, folder, package and service (a no-op
# deploy's time is mostly its number of module calls, about 0.3 s each). Run by the roles with
# the server's python3 (standard library only, as root); argv[1] is a JSON object whose keys
# are all optional; prints one JSON object with the same keys:
#   paths:    [path]  -> {path: "missing" | "link TARGET" | "dir OWNER GROUP MODE"
#                                | "file SHA1 OWNER GROUP MODE" | "other"}
#   read:     [path]  -> {path: text, "" when missing}
#   packages: [name]  -> [names not installed]
#   units:    [unit]  -> {unit: "ENABLED ACTIVE"}, as systemctl is-enabled / is-active say
#   users:    [name]  -> {name: "COMMENT:HOME:SHELL" | "missing"}
#   free:     [path]  -> [[MiB available, mount point]]
#   sshd_ports: true  -> [ports sshd listens on, from sshd -T]
# A role skips a task only when this shows the task's end state already holds.
import grp
import hashlib
import json
import os
import pwd
import stat
import subprocess
import sys

want = json.loads(sys.argv[1])
out = {}


def owner(st):
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return f"{user} {group} {stat.S_IMODE(st.st_mode):04o}"


def describe(path):
    try:
        st = os.lstat(path)
    except OSError:
        return "missing"
    if stat.S_ISLNK(st.st_mode):
        return "link " + os.readlink(path)
    if stat.S_ISDIR(st.st_mode):
        return "dir " + owner(st)
    if stat.S_ISREG(st.st_mode):
        digest = hashlib.sha1()  # noqa: S324 - compared with Ansible's hash('sha1'), not a security check
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                digest.update(chunk)
        return f"file {digest.hexdigest()} {owner(st)}"
    return "other"


def text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return ""


def lines(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.stdout.splitlines()


def mount_point(path):
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


if "paths" in want:
    out["paths"] = {p: describe(p) for p in want["paths"]}
if "read" in want:
    out["read"] = {p: text(p) for p in want["read"]}
if want.get("packages"):
    status = dict(
        line.split("\t", 1)
        for line in lines(["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Abbrev}\n", *want["packages"]])
        if "\t" in line
    )
    out["packages"] = [p for p in want["packages"] if not status.get(p, "").startswith("ii")]
elif "packages" in want:
    out["packages"] = []
if want.get("units"):
    units = want["units"]
    enabled = lines(["systemctl", "is-enabled", *units])
    active = lines(["systemctl", "is-active", *units])
    # systemctl prints one line per unit, or nothing at all for units it has never heard of.
    out["units"] = {
        u: f"{enabled[i] if len(enabled) == len(units) else 'unknown'} {active[i] if len(active) == len(units) else 'unknown'}"
        for i, u in enumerate(units)
    }
if "users" in want:
    out["users"] = {}
    for name in want["users"]:
        try:
            entry = pwd.getpwnam(name)
            out["users"][name] = f"{entry.pw_gecos}:{entry.pw_dir}:{entry.pw_shell}"
        except KeyError:
            out["users"][name] = "missing"
if "free" in want:
    out["free"] = []
    for path in want["free"]:
        fs = os.statvfs(path)
        out["free"].append([fs.f_bavail * fs.f_frsize // (1024 * 1024), mount_point(path)])
if want.get("sshd_ports"):
    sshd = next((p for p in ("/usr/sbin/sshd", "/usr/bin/sshd") if os.path.exists(p)), "sshd")
    proc = subprocess.run([sshd, "-T"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"sshd -T failed, so the ports sshd listens on are unknown: {proc.stderr.strip()}")
    out["sshd_ports"] = sorted({int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("port ")})

print(json.dumps(out))
