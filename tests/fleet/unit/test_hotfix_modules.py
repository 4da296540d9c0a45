"""The hotfix and hotfix_info modules' code: the pure parts directly, and each module run as
Ansible runs it (python3 MODULE.py ARGS-FILE) against the real hotfix-installer on sample
roots, with no network and no SSH.

    HOTFIX_BUILD_DIR=build python3 -m unittest discover -s tests/fleet/unit
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
COLLECTION = os.path.join(REPO, "ansible/ansible_collections/hotfix/fleet")
sys.path.insert(0, os.path.join(REPO, "ansible"))

from ansible_collections.hotfix.fleet.plugins.module_utils import hotfix_offers  # noqa: E402
from ansible_collections.hotfix.fleet.plugins.module_utils import hotfix_states  # noqa: E402
from ansible_collections.hotfix.fleet.plugins.module_utils import hotfix_cli  # noqa: E402

BUILD = os.environ.get("HOTFIX_BUILD_DIR", os.path.join(REPO, "build"))
INSTALLER = os.path.join(BUILD, "installer/hotfix-installer")
PACKAGER = os.path.join(BUILD, "packager/hotfix-packager")
STANDINS = os.path.join(BUILD, "samples/make-standins")


def offer(arch, state, reason=None, revision=1, hid="KB967131"):
    return dict(id=hid, architecture=arch, state=state, reason=reason, revision=revision)


class OffersTest(unittest.TestCase):
    def test_this_architecture_decides(self):
        offers = [offer("x86", "not_applicable", "the bundle is for x86; the target is x64"),
                  offer("x64", "applicable")]
        self.assertEqual(hotfix_offers.best_offer(offers, "kb967131", "x64")["state"], "applicable")

    def test_the_highest_revision_of_the_best_state(self):
        offers = [offer("x64", "applicable", revision=1), offer("x64", "applicable", revision=3),
                  offer("x64", "installed", revision=2)]
        best = hotfix_offers.best_offer(offers, "KB967131", "x64")
        self.assertEqual((best["state"], best["revision"]), ("applicable", 3))

    def test_no_bundle_for_this_architecture(self):
        offers = [offer("x86", "not_applicable", "x"), offer("ia64", "not_applicable", "y")]
        best = hotfix_offers.best_offer(offers, "KB967131", "arm64")
        self.assertEqual(best["state"], "not_applicable")
        self.assertEqual(best["reason"], "no bundle for arm64 (offered for ia64, x86)")

    def test_not_offered(self):
        self.assertIsNone(hotfix_offers.best_offer([offer("x64", "applicable")], "KB1", "x64"))


class StatesTest(unittest.TestCase):
    restart_pending = dict(required=True, kind="reboot", since="2026-12-03T10:00:00Z",
                           hotfixes=[dict(id="KB967131", uninstalled=False)])
    installed = dict(id="KB967131", revision=1, installed_at="2026-12-03T10:00:00Z")

    def state(self, installed=None, offer_=None, files=(), restart=None, attempt=None, asked=True):
        return hotfix_states.hotfix_state("KB967131", installed, offer_, list(files),
                                          restart or {}, attempt, asked)

    def test_installed_and_restarted(self):
        self.assertEqual(self.state(self.installed)["state"], "installed")

    def test_restart_pending(self):
        s = self.state(self.installed, restart=self.restart_pending)
        self.assertEqual(s["state"], "restart_pending")
        self.assertIn("reboot it needs is pending since 2026-12-03T10:00:00Z", s["reason"])

    def test_damaged_beats_restart(self):
        s = self.state(self.installed, files=[dict(path="a.dll", codes="S.5..")],
                       restart=self.restart_pending)
        self.assertEqual(s["state"], "damaged")

    def test_missing_failed_not_applicable_absent(self):
        self.assertEqual(self.state(None, offer("x64", "applicable"))["state"], "missing")
        attempt = dict(action="apply", outcome="refused", at="t", detail="no room")
        s = self.state(None, offer("x64", "applicable"), attempt=attempt)
        self.assertEqual((s["state"], s["reason"]), ("failed", "refused at t: no room"))
        s = self.state(None, offer("x64", "not_applicable", "prerequisites"))
        self.assertEqual((s["state"], s["reason"]), ("not_applicable", "prerequisites"))
        self.assertEqual(self.state(None, None)["reason"], "no source offers it")
        self.assertEqual(self.state(None, None, asked=False)["reason"], "not installed")

    def test_bundle_paths_and_ids(self):
        self.assertTrue(hotfix_cli.is_bundle_path("./KB1.hotfix"))
        self.assertTrue(hotfix_cli.is_bundle_path("KB1-x64.hotfix"))
        self.assertFalse(hotfix_cli.is_bundle_path("KB967131"))


@unittest.skipUnless(os.path.exists(INSTALLER) and os.path.exists(STANDINS),
                     "the build (HOTFIX_BUILD_DIR) has no hotfix-installer")
class ModuleRunTest(unittest.TestCase):
    """Each module as Ansible runs it on a managed host."""

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="hotfix-modules-")
        manifest = os.path.join(REPO, "samples/KB967131/hotfix.json")
        subprocess.check_call([STANDINS, "--manifest", manifest, "--out", cls.work],
                              stdout=subprocess.DEVNULL)
        key = os.path.join(cls.work, "release")
        subprocess.check_call([PACKAGER, "keygen", "--out", key], stdout=subprocess.DEVNULL)
        drops = os.path.join(cls.work, "drops")
        subprocess.check_call([PACKAGER, "build", manifest] +
                              ["--drop=%s=%s/%s" % (a, drops, a) for a in ("x86", "x64", "ia64")] +
                              ["--key", key + ".key", "--out", os.path.join(cls.work, "bundles")],
                              stdout=subprocess.DEVNULL)
        cls.pub = key + ".pub"

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="root-", dir=self.work)
        shutil.rmtree(self.root)
        shutil.copytree(os.path.join(self.work, "roots/x64"), self.root, symlinks=True)

    def bundle(self, arch):
        return os.path.join(self.work, "bundles/KB967131-%s.hotfix" % arch)

    def module(self, module_name, check=False, diff=False, **args):
        args.setdefault("root", self.root)
        args.setdefault("executable", INSTALLER)
        args.update(_ansible_check_mode=check, _ansible_diff=diff)
        path = os.path.join(self.work, "args.json")
        with open(path, "w") as f:
            json.dump({"ANSIBLE_MODULE_ARGS": args}, f)
        env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "ansible"))
        r = subprocess.run(["/usr/bin/python3", os.path.join(COLLECTION, "plugins/modules", module_name + ".py"),
                            path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env, timeout=120)
        try:
            return json.loads(r.stdout)
        except ValueError:
            self.fail("%s printed no JSON: %s %s" % (module_name, r.stdout, r.stderr))

    def tree(self):
        out = {}
        for d, _, files in os.walk(self.root):
            for f in files:
                p = os.path.join(d, f)
                if not p.endswith("-shm"):
                    st = os.lstat(p)
                    with open(p, "rb") as fh:
                        out[p] = (fh.read(), st.st_mode, st.st_mtime_ns)
        return out

    def test_check_mode_then_apply_then_idempotent(self):
        before = self.tree()
        r = self.module("hotfix", check=True, diff=True, name=[self.bundle("x64")], trust=[self.pub])
        self.assertFalse(r.get("failed"), r)
        self.assertTrue(r["changed"])
        self.assertEqual(r["results"][0]["outcome"], "dry_run")
        self.assertTrue(r["reboot_required"])
        self.assertIn("replace  Windows/System32/inetsrv/", r["diff"]["after"])
        self.assertEqual(self.tree(), before, "check mode wrote under the root")

        r = self.module("hotfix", name=[self.bundle("x64")], trust=[self.pub])
        self.assertFalse(r["failed"], r)
        self.assertEqual((r["changed"], r["rc"], r["reboot_required"]), (True, 10, True))
        self.assertEqual(r["results"][0]["outcome"], "applied")
        self.assertNotIn("files", r["results"][0])  # only in check or diff mode

        r = self.module("hotfix", name=[self.bundle("x64")], trust=[self.pub])
        self.assertEqual((r["changed"], r["results"][0]["outcome"]), (False, "already_installed"))
        self.assertTrue(r["reboot_required"], "the reboot is still pending: restart truth")

        info = self.module("hotfix_info", hotfixes=["KB967131"], offers=False)
        self.assertEqual(info["hotfixes"]["KB967131"]["state"], "restart_pending")
        self.assertFalse(info["compliant"])
        shutil.rmtree(os.path.join(self.root, "run"))  # as a reboot empties /run
        info = self.module("hotfix_info", hotfixes=["KB967131"], offers=False)
        self.assertEqual(info["restart"]["state"], "done")
        self.assertEqual(info["hotfixes"]["KB967131"]["state"], "installed")
        self.assertTrue(info["compliant"])

    def test_absent_check_mode_then_uninstall(self):
        self.module("hotfix", name=[self.bundle("x64")], trust=[self.pub])
        applied = self.tree()
        r = self.module("hotfix", check=True, diff=True, name=["KB967131"], state="absent")
        self.assertEqual((r["changed"], r["results"][0]["outcome"]), (True, "would_uninstall"))
        self.assertIn("restored", r["diff"]["after"])
        self.assertEqual(self.tree(), applied)
        r = self.module("hotfix", name=["KB967131"], state="absent")
        self.assertEqual((r["changed"], r["results"][0]["outcome"]), (True, "uninstalled"))
        r = self.module("hotfix", name=["KB967131"], state="absent")
        self.assertEqual((r["changed"], r["results"][0]["outcome"]), (False, "not_installed"))

    def test_not_applicable_is_ok_unless_asked_to_fail(self):
        r = self.module("hotfix", name=[self.bundle("x86")], trust=[self.pub])
        self.assertFalse(r["failed"], r)
        self.assertEqual((r["changed"], r["results"][0]["applicable"]), (False, False))
        self.assertIn("x86", r["results"][0]["reason"])
        r = self.module("hotfix", name=[self.bundle("x86")], trust=[self.pub],
                        fail_on_not_applicable=True)
        self.assertTrue(r["failed"])
        self.assertIn("not applicable", r["msg"])

    def test_busy_is_a_failure_that_says_so(self):
        self.module("hotfix_info", offers=False)
        os.makedirs(os.path.join(self.root, "var/lib/hotfix"), exist_ok=True)
        with open(os.path.join(self.root, "var/lib/hotfix/lock"), "a+") as lock:
            fcntl.lockf(lock, fcntl.LOCK_EX)
            r = self.module("hotfix", name=[self.bundle("x64")], trust=[self.pub], lock_timeout=0)
        self.assertTrue(r["failed"])
        self.assertEqual((r["rc"], r["busy"]), (6, True))

    def test_bad_input_fails_with_the_installers_message(self):
        r = self.module("hotfix", name=[os.path.join(self.work, "missing.hotfix")])
        self.assertTrue(r["failed"])
        self.assertEqual(r["rc"], 2)
        self.assertIn("missing.hotfix", r["msg"])
        r = self.module("hotfix", name=["./x.hotfix"], state="absent")
        self.assertIn("state=absent takes hotfix ids", r["msg"])

    def test_not_the_installer(self):
        r = self.module("hotfix_info", executable="/bin/echo")
        self.assertTrue(r["failed"])
        self.assertIn("did not answer with hotfix-installer's JSON", r["msg"])


if __name__ == "__main__":
    unittest.main()
