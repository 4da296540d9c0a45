#!/usr/bin/python3
"""The end of the demo: KB967131 rolled to four local servers with the hotfix.fleet
collection, over real SSH (sshd on 127.0.0.2-5), from a signed repository (nginx on
127.0.0.1), then the fleet report. Everything is started here and stopped at the end.

    fleet_demo.py BUILD_DIR SOURCE_DIR OUT_DIR
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fleet"))
from fleet_lab import HOTFIX, FleetLab, default_hosts  # noqa: E402


def show(run, what):
    print(run.out, end="")
    if run.rc != 0:
        print(run.err, file=sys.stderr)
        sys.exit("%s failed: ansible-playbook exited %d" % (what, run.rc))


def main():
    build, source, out = sys.argv[1:4]
    if os.path.exists(out):
        shutil.rmtree(out)
    lab = FleetLab(out, build, source, hosts=default_hosts(4))
    try:
        tarball = lab.start()
        print("collection %s installed into %s" % (os.path.basename(tarball), lab.collections))
        print("servers: " + ", ".join("%s (%s, %s)" % (h.name, h.address, h.image) for h in lab.hosts))
        ids = {"hotfix_ids": [HOTFIX], "hotfix_waves": [1, "50%"]}
        print("\n--- ansible-playbook hotfix.fleet.rollout --check (the plan; nothing written)")
        show(lab.playbook("rollout", ids, check=True, json_output=False), "the check")
        print("\n--- ansible-playbook hotfix.fleet.rollout (waves of 1, then 50%)")
        show(lab.playbook("rollout", ids, json_output=False), "the rollout")
        report = lab.path("report")
        print("\n--- ansible-playbook hotfix.fleet.compliance")
        run = lab.playbook("compliance", dict(ids, hotfix_report_dir=report), json_output=False)
        if run.rc != 0:
            show(run, "the report")
        with open(os.path.join(report, "fleet-report.txt")) as f:
            print(f.read(), end="")
        print("\nthe fleet report: %s (and .json, .txt)" % os.path.join(report, "fleet-report.html"))
    finally:
        lab.stop()
    return 0


if __name__ == "__main__":
    if os.geteuid() != 0 or not os.path.exists("/usr/bin/ansible-playbook"):
        print("skipped: the fleet demo needs root and ansible-core (scripts/setup.sh)")
        sys.exit(0)
    sys.exit(main())
