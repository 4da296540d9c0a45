# Unit tests of the fleet report (plugins/module_utils/fleet_report.py) and, end to end, of the
# hotfix.fleet.hotfix_report module run the way Ansible runs a module: python3 MODULE ARGSFILE.
#
#   /usr/bin/python3 -m unittest discover -s tests/fleet/unit -v

import datetime
import html.parser
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ANSIBLE_DIR = os.path.join(REPO, "ansible")
COLLECTION = os.path.join(ANSIBLE_DIR, "ansible_collections", "hotfix", "fleet")
MODULE = os.path.join(COLLECTION, "plugins", "modules", "hotfix_report.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

# Ours first: another ansible_collections namespace (Debian's ansible package) must not win.
sys.path.insert(0, ANSIBLE_DIR)
import ansible_collections.hotfix.fleet.plugins.module_utils.fleet_report as fleet_report  # noqa: E402

if not os.path.abspath(fleet_report.__file__).startswith(COLLECTION + os.sep):
    raise ImportError("fleet_report was imported from %s, not from %s" % (fleet_report.__file__, COLLECTION))

HOSTILE = '<script>alert("pwned")</script>'
STAMP = "2026-12-03T12:00:00Z"


# ---- inputs, as hotfix_info returns them ----------------------------------------------------

def cell(state, revision=1, reason=None, files=()):
    return {"state": state, "revision": revision, "reason": reason, "differing_files": list(files)}


def info(hotfixes, arch="x64", product="Windows Server 2008", sp=1, restart=None):
    """A registered hotfix_info result."""
    return {
        "changed": False,
        "root": "/",
        "facts": {"architecture": arch, "product": product, "family": "windows",
                  "service_pack": sp, "version": "6.0.6001"},
        "installed": [],
        "restart": restart or {"kind": None, "required": False, "state": "none", "since": None,
                               "scheduled_at": None, "policy": "never", "mechanism": None,
                               "hotfixes": []},
        "verify": {"checked": 30, "failed": 0, "intact": True, "files": []},
        "hotfixes": hotfixes,
        "compliant": False,
    }


PENDING = {"kind": "reboot", "required": True, "state": "pending", "since": "2026-12-03T10:00:00Z",
           "scheduled_at": None, "policy": "never", "mechanism": None,
           "hotfixes": [{"id": "KB967131", "uninstalled": False}]}
DIFFERING = [{"path": "C:/Windows/System32/inetsrv/iiscore.dll", "codes": "S.5....T"}]
UNREACHABLE = {"unreachable": True, "changed": False,
               "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.0.0.9 port 22: "
                      "Connection timed out"}
FAILED = {"failed": True, "msg": "the repository metadata has expired", "rc": 8}


def every_state():
    """One host per hotfix state, for KB967131; the hotfix is called KB1 elsewhere."""
    return {
        "installed": info({"KB967131": cell("installed", reason="revision 1 installed")}),
        "restart": info({"KB967131": cell("restart_pending", reason="a reboot is pending")}, restart=PENDING),
        "damaged": info({"KB967131": cell("damaged", reason="1 file(s) differ", files=DIFFERING)}),
        "superseded": info({"KB967131": cell("superseded", None, "superseded by KB971234")}),
        "missing": info({"KB967131": cell("missing", None, "revision 1 is offered")}),
        "notapp": info({"KB967131": cell("not_applicable", None, "the bundle is for x64; the target is x86")},
                       arch="x86"),
        "failed": info({"KB967131": cell("failed", None, "refused: not enough room on /")}),
        "absent": info({"KB967131": cell("absent", None, "no source offers it")}),
    }


def states(report, hotfix="KB967131"):
    return {row["host"]: row["cells"][hotfix]["state"] for row in report["hosts"]}


def build(hosts, **kw):
    kw.setdefault("generated_at", STAMP)
    return fleet_report.build_report(hosts, **kw)


# ---- build_report ---------------------------------------------------------------------------

class BuildReportTest(unittest.TestCase):

    def test_imports_our_collection(self):
        self.assertTrue(fleet_report.__file__.startswith(COLLECTION))

    def test_every_state(self):
        report = build(every_state())
        self.assertEqual(states(report), {
            "installed": "installed", "restart": "restart_pending", "damaged": "damaged",
            "superseded": "superseded", "missing": "missing", "notapp": "not_applicable",
            "failed": "failed", "absent": "absent"})
        self.assertEqual(report["hotfixes"], ["KB967131"])
        self.assertEqual(report["summary"]["by_hotfix"]["KB967131"], {
            "installed": 1, "restart_pending": 1, "missing": 1, "damaged": 1, "failed": 1,
            "superseded": 1, "not_applicable": 1, "absent": 1})
        self.assertEqual(report["summary"]["by_state"], report["summary"]["by_hotfix"]["KB967131"])
        self.assertEqual(report["summary"]["hosts"], 8)
        self.assertEqual(report["summary"]["ok"], 8)
        self.assertFalse(report["compliant"])

    def test_cell_details(self):
        rows = {row["host"]: row for row in build(every_state())["hosts"]}
        damaged = rows["damaged"]["cells"]["KB967131"]
        self.assertEqual(damaged["differing_files"], DIFFERING)
        self.assertEqual(damaged["revision"], 1)
        self.assertEqual(rows["failed"]["cells"]["KB967131"]["reason"], "refused: not enough room on /")
        restart = rows["restart"]["restart"]
        self.assertEqual(restart, {"required": True, "kind": "reboot", "since": "2026-12-03T10:00:00Z",
                                   "scheduled_at": None})
        self.assertEqual(rows["restart"]["architecture"], "x64")
        self.assertEqual(rows["restart"]["product"], "Windows Server 2008")
        self.assertEqual(rows["notapp"]["architecture"], "x86")

    def test_report_keys(self):
        report = build(every_state(), title="Web tier")
        self.assertEqual(list(report), ["title", "generated_at", "hotfixes", "hosts", "summary", "compliant"])
        self.assertEqual(report["title"], "Web tier")
        for row in report["hosts"]:
            for key in ("host", "status", "message", "architecture", "product", "restart", "cells"):
                self.assertIn(key, row)
            self.assertEqual(set(row["cells"]["KB967131"]), {"state", "revision", "reason", "differing_files"})

    def test_natural_host_order(self):
        ok = info({"KB1": cell("installed")})
        report = build({"host10": ok, "host2": ok, "host1": ok, "db1": ok, "Host3": ok})
        self.assertEqual([r["host"] for r in report["hosts"]], ["db1", "host1", "host2", "Host3", "host10"])

    def test_hotfix_ids_default_to_all_seen_in_natural_order(self):
        report = build({"a": info({"KB10": cell("installed"), "KB9": cell("installed")}),
                        "b": info({"KB100": cell("missing")})})
        self.assertEqual(report["hotfixes"], ["KB9", "KB10", "KB100"])
        self.assertEqual(report["hosts"][1]["cells"]["KB9"]["state"], "absent")
        self.assertEqual(build({"a": info({"KB1": cell("installed")})}, hotfixes=[])["hotfixes"], ["KB1"])

    def test_hotfix_ids_asked_for(self):
        report = build({"a": info({"KB1": cell("installed"), "KB2": cell("missing")})},
                       hotfixes=["KB3", "KB1", "KB3"])
        self.assertEqual(report["hotfixes"], ["KB3", "KB1"])
        cells = report["hosts"][0]["cells"]
        self.assertEqual(set(cells), {"KB3", "KB1"})
        self.assertEqual(cells["KB3"]["state"], "absent")

    def test_unreachable_host(self):
        report = build({"web1": info({"KB1": cell("installed"), "KB2": cell("installed")}),
                        "web2": UNREACHABLE})
        row = report["hosts"][1]
        self.assertEqual((row["host"], row["status"]), ("web2", "unreachable"))
        self.assertIn("Connection timed out", row["message"])
        for hotfix_id in ("KB1", "KB2"):
            self.assertEqual(row["cells"][hotfix_id]["state"], "unreachable")
            self.assertEqual(row["cells"][hotfix_id]["reason"], row["message"])
        self.assertEqual(report["summary"]["unreachable"], 1)
        self.assertEqual(report["summary"]["by_hotfix"]["KB1"], {"installed": 1, "unreachable": 1})
        self.assertEqual(report["summary"]["by_state"], {"installed": 2})
        self.assertFalse(report["compliant"])

    def test_failed_host(self):
        report = build({"web1": info({"KB1": cell("installed")}), "web2": FAILED})
        row = report["hosts"][1]
        self.assertEqual(row["status"], "failed")
        self.assertEqual(row["message"], "the repository metadata has expired (exit code 8)")
        self.assertEqual(row["cells"]["KB1"], {"state": "failed", "revision": None,
                                               "reason": row["message"], "differing_files": []})
        self.assertEqual(report["summary"]["failed"], 1)
        self.assertFalse(report["compliant"])

    def test_host_without_result(self):
        for nothing in (None, {}):
            report = build({"web1": info({"KB1": cell("installed")}), "web2": nothing})
            row = report["hosts"][1]
            self.assertEqual(row["status"], "no_result")
            self.assertEqual(row["cells"]["KB1"]["state"], "no_result")
            self.assertEqual(report["summary"]["no_result"], 1)
            self.assertFalse(report["compliant"], "nothing is known about web2")

    def test_skipped_host(self):
        row = build({"a": {"skipped": True, "changed": False, "skip_reason": "Conditional result was False"}})["hosts"][0]
        self.assertEqual(row["status"], "no_result")
        self.assertIn("Conditional result was False", row["message"])

    def test_odd_input_never_crashes(self):
        odd = {
            "list": [1, 2],
            "string": "ok",
            "number": 7,
            "no_hotfixes": {"changed": False},
            "hotfixes_list": {"hotfixes": ["KB1"]},
            "censored": {"censored": "the output has been hidden due to the fact that 'no_log: true' was specified"},
            "entry_odd": {"hotfixes": {"KB1": "installed", "KB2": {"state": "weird"}, "KB3": {}},
                          "facts": "x64", "restart": ["reboot"]},
            "files_odd": {"hotfixes": {"KB1": {"state": "damaged", "revision": "one", "reason": 5,
                                               "differing_files": ["C:/a.dll", 3, {"codes": 9}]}}},
            "flags_odd": {"unreachable": True, "msg": None},
        }
        report = build(odd)
        rows = {row["host"]: row for row in report["hosts"]}
        for host in ("list", "string", "number", "no_hotfixes", "hotfixes_list", "censored"):
            self.assertEqual(rows[host]["status"], "error", host)
            self.assertTrue(rows[host]["message"], host)
            self.assertTrue(all(c["state"] == "error" for c in rows[host]["cells"].values()), host)
        self.assertIn("no_log", rows["censored"]["message"])
        cells = rows["entry_odd"]["cells"]
        self.assertEqual(rows["entry_odd"]["status"], "ok")
        self.assertEqual(cells["KB1"]["state"], "error")
        self.assertEqual(cells["KB2"]["state"], "error")
        self.assertIn("weird", cells["KB2"]["reason"])
        self.assertEqual(cells["KB3"]["state"], "error")
        self.assertIsNone(rows["entry_odd"]["architecture"])
        self.assertFalse(rows["entry_odd"]["restart"]["required"])
        damaged = rows["files_odd"]["cells"]["KB1"]
        self.assertEqual((damaged["state"], damaged["revision"], damaged["reason"]), ("damaged", None, "5"))
        self.assertEqual(damaged["differing_files"], [{"path": "C:/a.dll", "codes": ""}, {"path": "?", "codes": "9"}])
        self.assertEqual(rows["flags_odd"]["status"], "unreachable")
        self.assertFalse(report["compliant"])
        # Every renderer copes with it too.
        fleet_report.render_text(report)
        fleet_report.render_html(report)
        json.loads(fleet_report.render_json(report))

    def test_hosts_not_a_mapping(self):
        report = build(None)
        self.assertEqual(report["hosts"], [])
        self.assertFalse(report["compliant"], "an empty fleet proves nothing")

    def test_compliant(self):
        fine = {"a": info({"KB1": cell("installed")}),
                "b": info({"KB1": cell("superseded", None, "by KB2")}),
                "c": info({"KB1": cell("not_applicable", None, "for x86")}, arch="x86")}
        report = build(fine)
        self.assertTrue(report["compliant"])
        self.assertEqual(report["summary"]["compliant_hosts"], 3)
        for state in ("restart_pending", "missing", "damaged", "failed", "absent"):
            hosts = dict(fine, d=info({"KB1": cell(state)}))
            self.assertFalse(build(hosts)["compliant"], state)
        for trouble in (UNREACHABLE, FAILED, None, "odd"):
            self.assertFalse(build(dict(fine, d=trouble))["compliant"], trouble)
        # Only the hotfixes reported count: KB2 missing on a does not matter for KB1.
        fine["a"] = info({"KB1": cell("installed"), "KB2": cell("missing")})
        self.assertTrue(build(fine, hotfixes=["KB1"])["compliant"])
        self.assertFalse(build(fine)["compliant"])

    def test_generated_at(self):
        self.assertEqual(build({}, generated_at="2026-01-01T00:00:00Z")["generated_at"], "2026-01-01T00:00:00Z")
        aware = datetime.datetime(2026, 12, 3, 13, 0, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
        self.assertEqual(build({}, generated_at=aware)["generated_at"], "2026-12-03T12:00:05Z")
        naive = datetime.datetime(2026, 12, 3, 12, 0, 5)
        self.assertEqual(build({}, generated_at=naive)["generated_at"], "2026-12-03T12:00:05Z")
        now = fleet_report.build_report({})["generated_at"]
        self.assertRegex(now, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# ---- renderers ------------------------------------------------------------------------------

class RenderTextTest(unittest.TestCase):

    def setUp(self):
        hosts = every_state()
        hosts["web10"] = UNREACHABLE
        hosts["web2"] = dict(FAILED, msg="line one\nline two\x1b[31m")
        self.report = build(hosts)
        self.text = fleet_report.render_text(self.report)
        self.lines = self.text.splitlines()

    def test_header_and_one_row_per_host(self):
        self.assertEqual(self.lines[0], "Hotfix compliance")
        self.assertEqual(self.lines[1], "generated " + STAMP)
        header = self.lines[3]
        self.assertEqual(header.split(), ["host", "KB967131", "restart", "reason"])
        rows = self.lines[4:4 + len(self.report["hosts"])]
        self.assertEqual([r.split()[0] for r in rows], [h["host"] for h in self.report["hosts"]])
        self.assertEqual(self.lines[4 + len(rows)], "")

    def test_columns_are_aligned(self):
        header = self.lines[3]
        rows = self.lines[4:4 + len(self.report["hosts"])]
        for column in ("KB967131", "restart", "reason"):
            start = header.index(column)
            for row in rows:
                if column == "reason" and len(row) <= start:
                    continue  # nothing to say: the line ends after the restart column
                self.assertEqual(row[start - 2:start], "  ", (column, row))
                self.assertNotEqual(row[start], " ", (column, row))

    def test_row_content(self):
        rows = {line.split()[0]: line for line in self.lines[4:4 + len(self.report["hosts"])]}
        self.assertIn("restart_pending", rows["restart"])
        self.assertIn("reboot pending", rows["restart"])
        self.assertIn("KB967131: a reboot is pending", rows["restart"])
        self.assertIn("iiscore.dll S.5....T", rows["damaged"])
        self.assertIn("refused: not enough room", rows["failed"])
        self.assertIn("unreachable", rows["web10"])
        self.assertIn("Connection timed out", rows["web10"])
        self.assertNotIn("revision 1 installed", rows["installed"], "no reason for what is fine")
        # Newlines and terminal escapes from a host do not break the table.
        self.assertIn("line one line two", rows["web2"])
        self.assertNotIn("\x1b", self.text)

    def test_summary_lines(self):
        tail = self.lines[-3:]
        self.assertEqual(tail[0], "hosts: 10 (8 ok, 1 unreachable, 1 failed)")
        self.assertTrue(tail[1].startswith("KB967131: installed 1, restart_pending 1"), tail[1])
        self.assertIn("unreachable 1", tail[1])
        self.assertEqual(tail[2], "compliant: no")


class HtmlParts(html.parser.HTMLParser):
    """Collects what the tests look at: tags, host rows, state cells, text."""

    def __init__(self):
        super().__init__()
        self.tags, self.rows, self.states, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "tr" and "host-row" in (attrs.get("class") or ""):
            self.rows.append(attrs)
        if tag == "td" and "data-state" in attrs:
            self.states.append((attrs["data-state"], attrs.get("class", "")))

    def handle_data(self, data):
        self.text.append(data)


def parse(page):
    parts = HtmlParts()
    parts.feed(page)
    parts.close()
    return parts


class RenderHtmlTest(unittest.TestCase):

    def setUp(self):
        hosts = every_state()
        hosts["web10"] = UNREACHABLE
        hosts["web2"] = FAILED
        hosts["hostile"] = info({"KB967131": cell("failed", None, "refused: " + HOSTILE,
                                                  files=[{"path": '<img src="http://203.0.113.7/x.png">', "codes": "S.5....T"}])})
        self.report = build(hosts, title="Fleet <b>&</b>")
        self.page = fleet_report.render_html(self.report)
        self.parts = parse(self.page)

    def test_hostile_strings_are_escaped(self):
        self.assertNotIn("<script", self.page)
        self.assertNotIn("<img", self.page)
        self.assertNotIn("<b>&</b>", self.page)
        self.assertIn(self._escaped(HOSTILE), self.page)
        self.assertIn("&lt;img src=&quot;http://203.0.113.7/x.png&quot;&gt;", self.page)
        text = "".join(self.parts.text)
        self.assertIn("refused: " + HOSTILE, text, "shown as text, as it was")
        self.assertEqual([t for t, _ in self.parts.tags if t in ("script", "img", "iframe", "object")], [])

    @staticmethod
    def _escaped(s):
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")

    def test_self_contained(self):
        for tag, attrs in self.parts.tags:
            self.assertNotIn(tag, ("link", "script", "img", "iframe"))
            for name in ("src", "href"):
                self.assertNotIn(name, attrs, tag)
        self.assertNotIn("url(", self.page)
        self.assertNotIn("@import", self.page)
        self.assertIn("default-src 'none'", self.page)

    def test_one_row_per_host(self):
        self.assertEqual([r["data-host"] for r in self.parts.rows], [h["host"] for h in self.report["hosts"]])
        statuses = {r["data-host"]: r["data-status"] for r in self.parts.rows}
        self.assertEqual(statuses["web10"], "unreachable")
        self.assertEqual(statuses["web2"], "failed")

    def test_state_colors(self):
        colors = {}
        for state, cls in self.parts.states:
            colors.setdefault(state, set()).add(cls.split()[1])
        expected = {"installed": "green", "restart_pending": "amber", "missing": "amber",
                    "failed": "red", "damaged": "red", "unreachable": "red",
                    "not_applicable": "grey", "superseded": "grey", "absent": "grey"}
        for state, color in expected.items():
            self.assertEqual(colors.get(state), {color}, state)

    def test_heading_time_tiles_reasons(self):
        text = " ".join(" ".join(self.parts.text).split())
        self.assertIn("Fleet <b>&</b> not compliant", text)
        self.assertIn(STAMP, text)
        tiles = {a["data-count"]: a for t, a in self.parts.tags if t == "div" and "data-count" in a}
        self.assertEqual(set(tiles) >= {"hosts", "compliant_hosts", "hosts_unreachable", "hosts_failed",
                                        "installed", "restart_pending", "damaged", "missing"}, True, tiles)
        for reason in ("the bundle is for x64; the target is x86", "superseded by KB971234",
                       "C:/Windows/System32/inetsrv/iiscore.dll", "S.5....T", "Connection timed out",
                       "the repository metadata has expired (exit code 8)"):
            self.assertIn(reason, text)

    def test_many_differing_files_are_cut(self):
        files = [{"path": "C:/f%d.dll" % i, "codes": "S......."} for i in range(50)]
        page = fleet_report.render_html(build({"a": info({"KB1": cell("damaged", files=files)})}))
        self.assertIn("C:/f19.dll", page)
        self.assertNotIn("C:/f20.dll", page)
        self.assertIn("and 30 more", page)


class RenderJsonTest(unittest.TestCase):

    def test_round_trip(self):
        report = build(dict(every_state(), web9=UNREACHABLE, web8=None))
        self.assertEqual(json.loads(fleet_report.render_json(report)), report)

    def test_stable(self):
        report = build(every_state())
        self.assertEqual(fleet_report.render_json(report), fleet_report.render_json(build(every_state())))


# ---- the module, end to end -----------------------------------------------------------------

def ansible_available():
    return subprocess.call([PYTHON, "-c", "import ansible.module_utils.basic"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0


@unittest.skipUnless(ansible_available(), "ansible-core is not installed for %s" % PYTHON)
class ModuleTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dest = os.path.join(self.tmp.name, "reports")

    def tearDown(self):
        self.tmp.cleanup()

    def run_module(self, check_mode=False, **args):
        path = os.path.join(self.tmp.name, "args.json")
        with open(path, "w") as f:
            json.dump({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=check_mode)}, f)
        env = dict(os.environ, PYTHONPATH=ANSIBLE_DIR)
        proc = subprocess.run([PYTHON, MODULE, path], env=env, cwd=self.tmp.name,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        try:
            return proc.returncode, json.loads(proc.stdout)
        except ValueError:
            self.fail("the module printed no JSON (rc %d): %s %s" % (proc.returncode, proc.stdout, proc.stderr))

    def ok(self, **args):
        rc, out = self.run_module(**args)
        self.assertEqual(rc, 0, out)
        self.assertFalse(out.get("failed"), out)
        return out

    def snapshot(self):
        """{name: (mtime, content)} of what dest holds, or None when there is no dest."""
        if not os.path.isdir(self.dest):
            return None
        files = {}
        for name in sorted(os.listdir(self.dest)):
            path = os.path.join(self.dest, name)
            with open(path, "rb") as f:
                files[name] = (os.stat(path).st_mtime_ns, f.read())
        return files

    def test_returns_the_report(self):
        out = self.ok(hosts=dict(every_state(), web9=UNREACHABLE, web8=FAILED, web7=None))
        self.assertFalse(out["changed"])
        self.assertEqual(out["files"], [])
        self.assertEqual(len(out["report"]["hosts"]), 11)
        self.assertEqual(out["summary"], out["report"]["summary"])
        self.assertEqual(out["summary"]["unreachable"], 1)
        self.assertEqual(out["summary"]["failed"], 1)
        self.assertEqual(out["summary"]["no_result"], 1)
        self.assertEqual(states(out["report"])["web7"], "no_result")
        self.assertIn("restart_pending", out["text"])
        self.assertEqual(out["report"]["title"], "Hotfix compliance")
        self.assertIs(out["compliant"], False)

    def test_compliant(self):
        fine = {"a": info({"KB1": cell("installed")}), "b": info({"KB1": cell("not_applicable")})}
        self.assertIs(self.ok(hosts=fine)["compliant"], True)
        self.assertIs(self.ok(hosts=dict(fine, c=UNREACHABLE))["compliant"], False)
        self.assertIs(self.ok(hosts=dict(fine, c=info({"KB1": cell("missing")})))["compliant"], False)

    def test_writes_files_then_changes_nothing(self):
        hosts = dict(every_state(), web9=UNREACHABLE)
        first = self.ok(hosts=hosts, dest=self.dest, title="Web tier")
        self.assertTrue(first["changed"])
        names = ["fleet-report.html", "fleet-report.json", "fleet-report.txt"]
        self.assertEqual(first["files"], [os.path.join(self.dest, n) for n in names])
        before = self.snapshot()
        self.assertEqual(sorted(before), names, "no temporary file left behind")
        with open(os.path.join(self.dest, "fleet-report.json")) as f:
            self.assertEqual(json.load(f), first["report"])
        with open(os.path.join(self.dest, "fleet-report.txt")) as f:
            self.assertEqual(f.read(), first["text"])
        for name in names:
            mode = stat.S_IMODE(os.stat(os.path.join(self.dest, name)).st_mode)
            self.assertTrue(mode & stat.S_IRUSR and not mode & stat.S_IWOTH, oct(mode))

        second = self.ok(hosts=hosts, dest=self.dest, title="Web tier")
        self.assertFalse(second["changed"])
        self.assertEqual(second["report"]["generated_at"], first["report"]["generated_at"])
        self.assertEqual(second["files"], first["files"])
        self.assertEqual(self.snapshot(), before, "nothing rewritten")

        hosts["web9"] = info({"KB967131": cell("installed")})
        third = self.ok(hosts=hosts, dest=self.dest, title="Web tier")
        self.assertTrue(third["changed"])
        self.assertNotEqual(self.snapshot(), before)

    def test_rewrites_a_file_that_was_changed(self):
        self.ok(hosts=every_state(), dest=self.dest)
        path = os.path.join(self.dest, "fleet-report.txt")
        with open(path, "w") as f:
            f.write("edited\n")
        out = self.ok(hosts=every_state(), dest=self.dest)
        self.assertTrue(out["changed"])
        with open(path) as f:
            self.assertEqual(f.read(), out["text"])

    def test_check_mode_writes_nothing(self):
        out = self.ok(hosts=every_state(), dest=self.dest, check_mode=True)
        self.assertTrue(out["changed"], "it would write the files")
        self.assertEqual(len(out["files"]), 3)
        self.assertFalse(os.path.exists(self.dest))

        self.ok(hosts=every_state(), dest=self.dest)
        before = self.snapshot()
        same = self.ok(hosts=every_state(), dest=self.dest, check_mode=True)
        self.assertFalse(same["changed"])
        other = self.ok(hosts=dict(every_state(), web9=UNREACHABLE), dest=self.dest, check_mode=True)
        self.assertTrue(other["changed"])
        self.assertEqual(self.snapshot(), before)

    def test_html_escapes_hostile_reasons(self):
        hosts = {"web1": info({"KB967131": cell("failed", None, "refused: " + HOSTILE)}),
                 "web2": dict(UNREACHABLE, msg="ssh: " + HOSTILE)}
        out = self.ok(hosts=hosts, dest=self.dest)
        with open(os.path.join(self.dest, "fleet-report.html")) as f:
            page = f.read()
        self.assertNotIn("<script", page)
        self.assertIn("refused: &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;", page)
        self.assertIn("ssh: &lt;script&gt;", page)
        self.assertEqual(out["report"]["hosts"][0]["cells"]["KB967131"]["reason"], "refused: " + HOSTILE)

    def test_hotfixes_option(self):
        hosts = {"a": info({"KB1": cell("installed"), "KB2": cell("missing")})}
        out = self.ok(hosts=hosts, hotfixes=["KB1"])
        self.assertEqual(out["report"]["hotfixes"], ["KB1"])
        self.assertTrue(out["compliant"])

    def test_dest_that_is_a_file_fails(self):
        with open(self.dest, "w") as f:
            f.write("x")
        rc, out = self.run_module(hosts={}, dest=self.dest)
        self.assertNotEqual(rc, 0)
        self.assertTrue(out["failed"])
        self.assertIn("not a directory", out["msg"])

    def test_hosts_is_required(self):
        rc, out = self.run_module()
        self.assertNotEqual(rc, 0)
        self.assertIn("hosts", out["msg"])


if __name__ == "__main__":
    unittest.main()
