#!/usr/bin/python3
"""Benchmark: KB967131 rolled to the fleet lab's servers with the hotfix.fleet module, against
the same files put there with ansible.builtin.copy (checksummed, one task per file) and with
ansible.builtin.unarchive (one tar.gz), all three in every run, taking turns. Prints wall time
of ansible-playbook and bytes sent over loopback (SSH and HTTP alike), medians and ratios.

    fleet_bench.py BUILD_DIR SOURCE_DIR [--runs N] [--out DIR]   # default: 3 runs, /tmp/fleet-bench

Needs root and Debian's ansible-core, openssh-server and nginx (scripts/setup.sh). Uses the
programs of BUILD_DIR; it builds nothing. Runs in a network namespace of its own, whose
loopback carries only the lab's traffic. Raw numbers: OUT/fleet_bench.json.
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fleet"))
from fleet_lab import ANSIBLE_PLAYBOOK, HOTFIX, NGINX, SSHD, FleetLab  # noqa: E402

IP = "/usr/sbin/ip"
UNSHARE = "/usr/bin/unshare"
WAYS = ("module", "copy", "unarchive")
IMAGE = "x64"
PLAYBOOK_TIMEOUT = 900


# ---- what is measured ---------------------------------------------------------------------

def lo_tx_bytes():
    """Bytes the loopback interface transmitted: every byte between two local processes,
    counted once (what one end sends, the other receives)."""
    with open("/proc/net/dev") as f:
        for line in f:
            name, _, counters = line.partition(":")
            if name.strip() == "lo":
                return int(counters.split()[8])
    raise RuntimeError("no lo line in /proc/net/dev")


def nginx_body_bytes(lab, offset):
    """Body bytes nginx logged since `offset` of its access log (the combined format's
    $body_bytes_sent, the field after the status), and the log's new end."""
    log = lab.path("nginx/access.log")
    with open(log, "rb") as f:
        f.seek(offset)
        data = f.read()
    total = sum(int(line.split(b'"')[2].split()[1]) for line in data.splitlines() if line)
    return total, offset + len(data)


def run_playbook(lab, playbook, hosts, log):
    """ansible-playbook of our own playbook (lab.playbook() runs only the collection's), with
    the lab's configuration, bounded; its output goes to `log`. Returns wall seconds."""
    cmd = [ANSIBLE_PLAYBOOK, playbook, "--limit", ",".join(h.name for h in hosts)]
    with open(log, "w") as out:
        t = time.monotonic()
        rc = subprocess.run(cmd, env=lab.ansible_env(), cwd=lab.lab, stdout=out,
                            stderr=subprocess.STDOUT, timeout=PLAYBOOK_TIMEOUT).returncode
        wall = time.monotonic() - t
    if rc != 0:
        with open(log) as f:
            raise RuntimeError("%s: ansible-playbook exited %d\n%s" % (playbook, rc, f.read()[-8000:]))
    return wall


# ---- the three ways -------------------------------------------------------------------------

def write_yaml(path, plays):
    with open(path, "w") as f:
        yaml.safe_dump(plays, f, sort_keys=False, width=1000)
    return path


def play(name, tasks):
    return [{"name": name, "hosts": "all", "gather_facts": False, "tasks": tasks}]


def module_playbook(out):
    task = {"name": "Apply " + HOTFIX, "hotfix.fleet.hotfix": {
        "name": HOTFIX, "root": "{{ hotfix_root }}", "executable": "{{ hotfix_executable }}"}}
    return write_yaml(os.path.join(out, "module.yml"), play("module", [task]))


def copy_playbook(out, drop, files):
    tasks = [{"name": target, "ansible.builtin.copy": {
        "src": os.path.join(drop, rel), "dest": "{{ hotfix_root }}/" + target}}
        for rel, target in files]
    return write_yaml(os.path.join(out, "copy.yml"), play("copy", tasks))


def unarchive_playbook(out, drop, files):
    """The drop as one tar.gz (gzip -6, tar's default), made once here and not timed."""
    archive = os.path.join(out, "drop-%s.tar.gz" % IMAGE)
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        for rel, target in files:
            tar.add(os.path.join(drop, rel), arcname=target)
    task = {"name": "Unarchive the drop", "ansible.builtin.unarchive": {
        "src": archive, "dest": "{{ hotfix_root }}"}}
    return write_yaml(os.path.join(out, "unarchive.yml"), play("unarchive", [task])), archive


def target_names(lab, drop):
    """(drop path, path on the image) for every drop file. The images name files as Windows
    does, case aside (appcmd.exe for the drop's Appcmd.exe); the installer replaces the file
    that is there, so copy and unarchive are given the same names, or they would add files
    beside the old ones instead of replacing them."""
    image = lab.path("sample/roots", IMAGE)
    on_image = {}
    for d, _, names in os.walk(image):
        for n in names:
            rel = os.path.relpath(os.path.join(d, n), image)
            on_image[rel.lower()] = rel
    out = []
    for d, _, names in os.walk(drop):
        for n in sorted(names):
            rel = os.path.relpath(os.path.join(d, n), drop)
            out.append((rel, on_image.get(rel.lower(), rel)))
    return sorted(out)


# ---- checks -----------------------------------------------------------------------------------

def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_files(hosts, drop, files, way):
    for h in hosts:
        wrong = [t for rel, t in files if not os.path.isfile(os.path.join(h.root, t)) or
                 sha256(os.path.join(h.root, t)) != sha256(os.path.join(drop, rel))]
        if wrong:
            raise RuntimeError("%s: %s lacks the drop's content in %d files: %s"
                               % (way, h.name, len(wrong), ", ".join(wrong[:5])))


def check_installed(lab, hosts):
    for h in hosts:
        ids = [x["id"] for x in lab.installer_json("list", "--root", h.root)["data"]["hotfixes"]]
        if ids != [HOTFIX]:
            raise RuntimeError("module: %s lists %s installed, not [%s]" % (h.name, ids, HOTFIX))


# ---- driving ----------------------------------------------------------------------------------

def measure(lab, way, playbook, hosts, log):
    lab.make_roots()  # fresh roots; not timed
    _, offset = nginx_body_bytes(lab, 0)
    before = lo_tx_bytes()
    wall = run_playbook(lab, playbook, hosts, log)
    sent = lo_tx_bytes() - before
    http, _ = nginx_body_bytes(lab, offset)
    return {"way": way, "wall_s": wall, "lo_tx_bytes": sent, "http_body_bytes": http}


def noise_floor(seconds=2.0):
    before = lo_tx_bytes()
    time.sleep(seconds)
    return lo_tx_bytes() - before


def bench(lab, args):
    drop = lab.path("sample/drops", IMAGE)
    files = target_names(lab, drop)
    # The hosts the hotfix applies to and the x64 drop is for: legacy1 (prerequisites) and
    # arm1 (architecture) must get nothing, app1 is x86. Same hosts for every way.
    hosts = [h for h in lab.hosts if h.image == IMAGE and not h.tweak]
    archive_pb, archive = unarchive_playbook(args.out, drop, files)
    playbooks = {"module": module_playbook(args.out), "copy": copy_playbook(args.out, drop, files),
                 "unarchive": archive_pb}
    sizes = {"bundle": os.path.getsize(lab.path("bundles/%s-%s.hotfix" % (HOTFIX, IMAGE))),
             "drop": sum(os.path.getsize(os.path.join(drop, r)) for r, _ in files),
             "drop_files": len(files), "archive": os.path.getsize(archive)}
    print("hosts: %s (%d of %d; forks 8)" % (", ".join(h.name for h in hosts), len(hosts), len(lab.hosts)))
    print("bundle %s-%s.hotfix: %d bytes; drop: %d files, %d bytes; tar.gz: %d bytes (made once, "
          "not timed)" % (HOTFIX, IMAGE, sizes["bundle"], sizes["drop_files"], sizes["drop"], sizes["archive"]))
    idle = noise_floor()
    print("noise floor: lo (this network namespace) sent %d bytes in an idle 2 s window" % idle, flush=True)
    results = []
    for run in range(args.runs):
        order = WAYS[run % 3:] + WAYS[:run % 3]  # who goes first rotates: no position bias
        for way in order:
            r = measure(lab, way, playbooks[way], hosts, os.path.join(args.out, "run%d-%s.log" % (run + 1, way)))
            if way == "module":
                check_installed(lab, hosts)
            check_files(hosts, drop, files, way)
            r["run"] = run + 1
            results.append(r)
            print("run %d %-9s %7.1f s %12d bytes" % (run + 1, way, r["wall_s"], r["lo_tx_bytes"]), flush=True)
    idle_after = noise_floor()
    return {"hosts": [h.name for h in hosts], "sizes": sizes, "noise_floor_bytes": [idle, idle_after],
            "runs": results}


def table(data):
    rows = {w: [r for r in data["runs"] if r["way"] == w] for w in WAYS}
    med = {w: (statistics.median(r["wall_s"] for r in rows[w]),
               statistics.median(r["lo_tx_bytes"] for r in rows[w])) for w in WAYS}
    print("\n%-10s %9s %15s %16s %10s %11s" % ("way", "wall med", "wall min-max", "bytes sent med",
                                              "time/mod", "bytes/mod"))
    for w in WAYS:
        walls = [r["wall_s"] for r in rows[w]]
        print("%-10s %7.1f s %6.1f-%6.1f s %16d %9.2fx %10.2fx" % (
            w, med[w][0], min(walls), max(walls), med[w][1], med[w][0] / med["module"][0],
            med[w][1] / med["module"][1]))
    http = statistics.median(r["http_body_bytes"] for r in rows["module"])
    s = data["sizes"]
    print("module: of its bytes, HTTP bodies served by nginx (median) %d; bundle %d bytes x %d hosts = %d"
          % (http, s["bundle"], len(data["hosts"]), s["bundle"] * len(data["hosts"])))
    print("for scale: drop %d bytes x %d hosts = %d; noise floor (lo, idle 2 s, before / after): %d / %d"
          % (s["drop"], len(data["hosts"]), s["drop"] * len(data["hosts"]), *data["noise_floor_bytes"]))


def own_network():
    """Re-runs this script in a new network namespace (None returned there, after bringing
    its loopback up): the machine's lo also carries other people's tests, which would be
    counted as ours. The lab only uses 127.0.0.0/8, which the new lo serves whole."""
    if os.environ.get("HOTFIX_BENCH_NETNS") == "1":
        subprocess.run([IP, "link", "set", "lo", "up"], check=True, timeout=30)
        return None
    env = dict(os.environ, HOTFIX_BENCH_NETNS="1")
    return subprocess.call([UNSHARE, "--net", sys.executable] + sys.argv, env=env)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("build")
    p.add_argument("source")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", default="/tmp/fleet-bench")
    args = p.parse_args()
    args.out = os.path.abspath(args.out)
    if os.geteuid() != 0:
        sys.exit("fleet_bench: needs root (sshd, logins as root)")
    for tool in (ANSIBLE_PLAYBOOK, SSHD, NGINX, IP, UNSHARE):
        if not os.path.exists(tool):
            sys.exit("fleet_bench: %s is not installed (scripts/setup.sh)" % tool)
    rc = own_network()
    if rc is not None:
        return rc
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    lab = FleetLab(os.path.join(args.out, "lab"), args.build, args.source)
    try:
        lab.start()
        data = bench(lab, args)
    finally:
        lab.stop()
    with open(os.path.join(args.out, "fleet_bench.json"), "w") as f:
        json.dump(data, f, indent=2)
    table(data)
    print("raw numbers: %s" % os.path.join(args.out, "fleet_bench.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
