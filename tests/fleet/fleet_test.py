#!/usr/bin/python3
"""The fleet test: the hotfix.fleet collection, installed from its built tarball, rolls
KB967131 across eight servers reached over real SSH (one sshd each on 127.0.0.2-9), from a
signed repository served by nginx on 127.0.0.1, and every scenario is asserted on what
Ansible reports and on every server's root afterwards (docs/fleet.md).

    fleet_test.py BUILD_DIR SOURCE_DIR [--keep DIR]

Needs root and Debian's ansible-core, openssh-server and nginx (scripts/setup.sh); runs in
a private mount namespace of its own (the full disk is a small tmpfs).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet_lab import ANSIBLE_PLAYBOOK, HOTFIX, NGINX, SSHD, FleetLab  # noqa: E402
import report_browser_test  # noqa: E402

IDS = {"hotfix_ids": [HOTFIX]}
WAVES = {"hotfix_waves": [1, 3, 4], "hotfix_max_fail_percentage": 25}
APPLICABLE = ["web1", "web2", "web3", "web4", "web5", "app1"]
NOT_APPLICABLE = {"legacy1": "Windows Vista SP1 or Windows Server 2008", "arm1": "arm64"}
FULL = "web3"  # in the second wave; its root is on a tmpfs too small for the hotfix
FULL_SIZE = "9M"


APPLY = "Sync the sources, download and apply (throttled, for the repository's sake)"
REBOOT = "Reboot where a hotfix needs it (the module itself never reboots)"
INFO = "Check what the server says now"


class Failure(Exception):
    pass


def check(condition, what, detail=""):
    if not condition:
        raise Failure("%s\n%s" % (what, detail))


def snapshot(root, content_only=False):
    """Every file's hash, mode and mtime, and every directory's mode, under the root; the
    installer's state left out with content_only. SQLite's shared-memory index (-shm),
    which every reader touches, is never compared."""
    out = {}
    for d, dirs, files in os.walk(root):
        rel_d = os.path.relpath(d, root)
        if content_only and (rel_d == "var" or rel_d.startswith("var/") or rel_d.startswith("run")):
            dirs[:] = []
            continue
        out["dir " + rel_d] = oct(os.lstat(d).st_mode)
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if rel.endswith("state.db-shm"):
                continue
            st = os.lstat(p)
            with open(p, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            out[rel] = (digest, oct(st.st_mode), st.st_mtime_ns)
    return out


def differences(a, b):
    keys = sorted(set(a) | set(b))
    return "\n".join("%s: %s -> %s" % (k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k))[:4000]


class FleetTest(object):
    def __init__(self, lab):
        self.lab = lab
        self.originals = {}

    def installed(self, host):
        data = self.lab.installer_json("list", "--root", self.lab.host(host).root)["data"]
        return [h["id"] for h in data["hotfixes"]]

    def all_snapshots(self, content_only=False):
        return dict((h.name, snapshot(h.root, content_only)) for h in self.lab.hosts)

    def expect_unchanged(self, before, content_only=False, what=""):
        after = self.all_snapshots(content_only)
        for h in self.lab.hosts:
            check(before[h.name] == after[h.name], "%s: %s's root changed" % (what, h.name),
                  differences(before[h.name], after[h.name]))

    def rollout(self, **kw):
        extra = dict(IDS, **WAVES)
        extra.update(kw.pop("extra", {}))
        return self.lab.playbook("rollout", extra, **kw)

    # ---- scenarios ------------------------------------------------------------------

    def check_mode_first(self):
        before = self.all_snapshots()
        r = self.rollout(check=True, diff=True)
        check(r.rc == 0, "check mode failed", r.describe())
        waves = [sorted(b) for b in r.batches()]
        check(waves == [["web1"], ["web2", "web3", "web4"], ["app1", "arm1", "legacy1", "web5"]],
              "three waves, in inventory order", waves)
        applied = r.results(APPLY)
        for h in APPLICABLE:
            res = applied[h]
            check(res["changed"] and res["results"][0]["outcome"] == "dry_run",
                  "%s: check mode says it would apply" % h, res)
            check(res["reboot_required"], "%s: the plan needs a reboot" % h, res)
            check(any(f["decision"] == "replace" for f in res["results"][0]["files"]),
                  "%s: the plan lists files replaced" % h, res)
            check("KB967131: revision 1" in res["diff"]["after"], "%s: diff mode" % h, res)
        for h, why in NOT_APPLICABLE.items():
            res = applied[h]
            check(not res["changed"] and res["results"][0]["applicable"] is False and
                  why in res["results"][0]["reason"], "%s: not applicable, ok" % h, res)
        self.expect_unchanged(before, what="check mode")

    def expired_metadata(self):
        self.lab.refresh(timestamp_expiry="1s")
        time.sleep(2.2)
        before = self.all_snapshots()
        r = self.rollout()
        check(r.rc != 0, "expired metadata must fail the rollout", r.describe())
        res = r.results(APPLY)
        check(list(res) == ["web1"], "the first wave failed, no later wave ran", list(res))
        check(res["web1"]["rc"] == 8 and "expired" in res["web1"]["msg"],
              "exit 8, expired, reported", res["web1"])
        self.expect_unchanged(before, what="expired metadata")
        self.lab.refresh()

    def full_disk_stops_later_waves(self):
        before = self.all_snapshots()
        r = self.rollout()
        check(r.rc != 0, "a failed wave must fail the rollout", r.describe())
        res = r.results(APPLY)
        check(sorted(res) == ["web1", "web2", "web3", "web4"],
              "the third wave did not run after the second failed", sorted(res))
        check(res[FULL].get("failed") and res[FULL]["rc"] == 7,
              "%s: the full disk is a system error (exit 7)" % FULL, res[FULL])
        check("space" in res[FULL]["msg"] or "room" in res[FULL]["msg"],
              "%s: the message says the disk is full" % FULL, res[FULL]["msg"])
        for h in ("web1", "web2", "web4"):
            check(self.installed(h) == [HOTFIX], "%s: applied in waves 1 and 2" % h)
        after = self.all_snapshots(content_only=True)
        check(after[FULL] == self.originals[FULL], "%s: its files are as they were" % FULL,
              differences(self.originals[FULL], after[FULL]))
        now = self.all_snapshots()
        for h in ("web5", "app1", "legacy1", "arm1"):
            check(now[h] == before[h], "%s (wave 3) was not touched" % h)
        reboots = r.results(REBOOT)
        check(reboots["web1"].get("rebooted"), "web1 was rebooted (simulated)", reboots)
        cells = self.report_cells()
        check(cells[FULL]["state"] == "failed", "the report: %s failed, and why" % FULL, cells[FULL])
        check(cells["web5"]["state"] == "missing", "the report: web5 still lacks it", cells["web5"])

    def unreachable_mid_rollout(self):
        subprocess.check_call(["mount", "-o", "remount,size=64M", self.lab.path("full-disk")])
        gone = self.lab.host("app1")

        def stop_app1_once_wave_2_applied():
            if self.installed(FULL) == [HOTFIX]:
                self.lab.stop_host(gone)
                return True
            return False

        before_gone = snapshot(gone.root)
        r = self.rollout(during=stop_app1_once_wave_2_applied)
        check(r.rc != 0, "an unreachable host makes ansible-playbook exit non-zero", r.describe())
        check(r.stats["app1"]["unreachable"] == 1, "app1 is unreachable in the recap", r.stats)
        check(snapshot(gone.root) == before_gone, "app1's root was not touched")
        res = r.results(APPLY)
        check(res["web1"]["changed"] is False and res["web1"]["results"][0]["outcome"] ==
              "already_installed", "wave 1 again: nothing to do", res["web1"])
        for h in (FULL, "web5"):
            check(res[h]["changed"] and res[h]["rc"] == 10, "%s applied, exit 10" % h, res[h])
        for h in NOT_APPLICABLE:
            check(not res[h].get("failed") and not res[h]["changed"], "%s: ok, not applicable" % h)
        info = r.results(INFO)
        for h in ("web1", "web2", "web3", "web4", "web5"):
            check(info[h]["restart"]["state"] == "done" and info[h]["verify"]["intact"],
                  "%s: rebooted, and every file verifies" % h, info[h].get("restart"))
        cells = self.report_cells()
        check(cells["app1"]["state"] == "unreachable", "the report: app1 unreachable", cells["app1"])
        self.lab.start_host(gone)

    def last_host_and_rerun(self):
        r = self.rollout()
        check(r.rc == 0, "with app1 back, the rollout completes", r.describe())
        res = r.results(APPLY)
        check(res["app1"]["changed"] and [h for h in res if res[h]["changed"]] == ["app1"],
              "only app1 changed", dict((h, res[h]["changed"]) for h in res))
        before = self.all_snapshots(content_only=True)
        r = self.rollout()
        check(r.rc == 0, "the rerun succeeds", r.describe())
        changed = [h for h, s in r.stats.items() if s["changed"]]
        check(changed == [], "a rerun changes nothing (idempotent)", r.stats)
        self.expect_unchanged(before, content_only=True, what="the idempotent rerun")

    def report_cells(self):
        """host -> the report's cell for the hotfix, from the compliance playbook."""
        report = self.compliance()
        return dict((h["host"], h["cells"][HOTFIX]) for h in report["hosts"])

    def compliance(self):
        out = self.lab.path("report")
        r = self.lab.playbook("compliance", dict(IDS, hotfix_report_dir=out))
        check(r.rc == 0, "the compliance playbook", r.describe())
        with open(os.path.join(out, "fleet-report.json")) as f:
            return json.load(f)

    def compliance_report(self):
        report = self.compliance()
        out = self.lab.path("report")
        states = dict((h["host"], h["cells"][HOTFIX]["state"]) for h in report["hosts"])
        expected = dict((h, "installed") for h in APPLICABLE)
        expected.update((h, "not_applicable") for h in NOT_APPLICABLE)
        check(states == expected, "the report's states", states)
        check(report["compliant"] is True, "the fleet is compliant", report["summary"])
        self.look_at(os.path.join(out, "fleet-report.html"), report)

    def look_at(self, page, report):
        """The real fleet's page in headless Chromium: every host in the DOM, a screenshot
        kept in the build directory for people to look at."""
        if not os.path.exists(report_browser_test.CHROMIUM):
            print("(no chromium: the page was not looked at)")
            return
        dom, _ = report_browser_test.chromium("file://" + page, "--dump-dom")
        for h in report["hosts"]:
            check(h["host"] in dom, "the page shows %s" % h["host"])
        shot = os.path.join(self.lab.build, "fleet-test-report.png")
        report_browser_test.chromium("file://" + page, "--screenshot=" + shot, "--window-size=1400,900")
        report_browser_test.check_screenshot(shot)

    def rollback_wave(self):
        r = self.lab.playbook("rollback", dict(IDS, **WAVES))
        check(r.rc == 0, "the rollback", r.describe())
        res = r.results("Uninstall")
        for h in APPLICABLE:
            check(res[h]["changed"] and res[h]["results"][0]["outcome"] == "uninstalled",
                  "%s: uninstalled" % h, res[h])
            check(res[h]["reboot_required"], "%s: the uninstall needs a reboot" % h, res[h])
        after = self.all_snapshots(content_only=True)
        for h in self.lab.hosts:
            check(after[h.name] == self.originals[h.name],
                  "%s: byte-identical to before the rollout" % h.name,
                  differences(self.originals[h.name], after[h.name]))
            check(self.installed(h.name) == [], "%s: nothing installed" % h.name)
        for h in APPLICABLE:
            status = self.lab.installer_json("status", "--root", self.lab.host(h).root)["data"]
            check(status["restart"]["state"] == "done", "%s: the reboot after the uninstall "
                  "happened (restart truth)" % h, status)

    def run_all(self):
        self.originals = self.all_snapshots(content_only=True)
        scenario("check mode first: the exact plan everywhere, nothing written", self.check_mode_first)
        scenario("expired metadata: exit 8 reported, nothing changed", self.expired_metadata)
        scenario("a full disk in wave 2 stops the rollout before wave 3",
                 self.full_disk_stops_later_waves)
        scenario("a host unreachable mid-rollout; the others rebooted and verified",
                 self.unreachable_mid_rollout)
        scenario("the host back, then a rerun that changes nothing", self.last_host_and_rerun)
        scenario("the compliance report", self.compliance_report)
        scenario("a rollback wave gives back every root as it was", self.rollback_wave)

    # ---- driving --------------------------------------------------------------------


def scenario(name, fn):
    t = time.monotonic()
    fn()
    print("ok: %s (%.1f s)" % (name, time.monotonic() - t), flush=True)


def main():
    if os.geteuid() != 0:
        print("SKIPPED: the fleet test needs root (sshd, logins as root, a tmpfs)")
        return 0
    for tool in (ANSIBLE_PLAYBOOK, SSHD, NGINX):
        if not os.path.exists(tool):
            print("SKIPPED: %s is not installed (scripts/setup.sh)" % tool)
            return 0
    if os.environ.get("HOTFIX_FLEET_NAMESPACE") != "1":
        env = dict(os.environ, HOTFIX_FLEET_NAMESPACE="1")
        return subprocess.call(["unshare", "--mount", "--propagation", "private", sys.executable]
                               + sys.argv, env=env)
    build, source = sys.argv[1], sys.argv[2]
    keep = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--keep" else None
    work = keep or tempfile.mkdtemp(prefix="hotfix-fleet-")
    if keep and os.path.exists(keep):
        shutil.rmtree(keep)
    lab = FleetLab(work, build, source)
    test = FleetTest(lab)
    try:
        lab.publish()
        lab.start_nginx()
        full = lab.path("full-disk")
        os.makedirs(full)
        subprocess.check_call(["mount", "-t", "tmpfs", "-o", "size=" + FULL_SIZE, "tmpfs", full])
        lab.make_roots(place=lambda h: full if h.name == FULL else lab.path("hosts"))
        lab.start_sshd()
        lab.write_ansible_files()
        lab.install_collection()
        print("fleet: %d hosts over ssh, repository at %s" % (len(lab.hosts), lab.repo_url))
        test.run_all()
    except Failure as e:
        print("FAILED: %s" % e)
        return 1
    finally:
        lab.stop()
        if not keep:
            subprocess.call(["umount", "-l", lab.path("full-disk")])
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
