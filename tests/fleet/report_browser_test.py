#!/usr/bin/python3
# The fleet report's HTML page in a real browser: headless Chromium renders the report of an
# eight-server fleet; the test reads back the DOM it built and takes a screenshot.
#
#   /usr/bin/python3 tests/fleet/report_browser_test.py [--out DIR]
#
# The page must be self-contained: Chromium is started so that it has nothing to ask the
# network for, and the page gives it nothing to fetch either.

import argparse
import html.parser
import os
import shutil
import signal
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_DIR = os.path.join(REPO, "ansible")
COLLECTION = os.path.join(ANSIBLE_DIR, "ansible_collections", "hotfix", "fleet")
CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 60
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HOSTILE = '<script>alert("pwned")</script>'
HOSTILE_IMG = '<img src="http://203.0.113.7/beacon.png">'

sys.path.insert(0, ANSIBLE_DIR)
from ansible_collections.hotfix.fleet.plugins.module_utils import fleet_report  # noqa: E402


class CheckFailed(Exception):
    pass


def check(ok, what):
    if not ok:
        raise CheckFailed(what)
    print("ok: %s" % what)


# ---- the fleet ------------------------------------------------------------------------------

def facts(arch="x64", sp=1, product="Windows Server 2008"):
    return {"architecture": arch, "product": product, "family": "windows", "service_pack": sp,
            "version": "6.0.6001" if sp else "6.0.6000"}


def restart(pending=False, scheduled_at=None):
    return {"kind": "reboot" if pending else None, "required": pending,
            "state": "pending" if pending else "none",
            "since": "2026-12-03T10:00:00Z" if pending else None, "scheduled_at": scheduled_at,
            "policy": "never", "mechanism": None,
            "hotfixes": [{"id": "KB967131", "uninstalled": False}] if pending else []}


def cell(state, revision=None, reason=None, files=()):
    return {"state": state, "revision": revision, "reason": reason, "differing_files": list(files)}


def host(hotfixes, **kw):
    return {"changed": False, "root": "/", "facts": facts(**kw.pop("facts", {})),
            "restart": kw.pop("restart", restart()), "installed": [],
            "verify": {"checked": 30, "failed": 0, "intact": True, "files": []},
            "hotfixes": hotfixes, "sources": [{"name": "corp", "expires": "2026-12-10T00:00:00Z"}],
            "compliant": False}


def fleet():
    """Eight servers: every state, one unreachable, one where hotfix_info failed, hostile text."""
    installed = cell("installed", 1, "revision 1 installed at 2026-12-02T09:00:00Z")
    return {
        "web1": host({"KB967131": cell("restart_pending", 1, "a reboot is pending since 2026-12-03T10:00:00Z"),
                      "KB971234": installed, "KB958644": cell("superseded", None, "superseded by KB971234")},
                     restart=restart(pending=True)),
        "web2": host({"KB967131": installed, "KB971234": installed,
                      "KB958644": cell("superseded", None, "superseded by KB971234")}),
        "web10": host({"KB967131": cell("damaged", 1, "2 file(s) differ from what it promised", files=[
            {"path": "C:/Windows/System32/inetsrv/iiscore.dll", "codes": "S.5....T"},
            {"path": "C:/Windows/System32/inetsrv/w3dt.dll", "codes": "..5....."}]),
            "KB971234": installed, "KB958644": cell("absent", None, "no source offers it")}),
        "db1": host({"KB967131": cell("not_applicable", None, "the bundle is for x64; the target is x86"),
                     "KB971234": cell("missing", 2, "revision 2 is offered"),
                     "KB958644": cell("absent", None, "no source offers it")}, facts={"arch": "x86"}),
        "app1": host({"KB967131": cell("failed", 1, "refused at 2026-12-03T09:12:00Z: not enough room on / "
                                                    "(needs 48 MiB, 12 MiB free) " + HOSTILE),
                      "KB971234": installed, "KB958644": cell("superseded", None, "superseded by KB971234")}),
        "legacy1": host({"KB967131": cell("not_applicable", None,
                                          "prerequisites not met: needs Windows Server 2008 SP1"),
                         "KB971234": cell("not_applicable", None,
                                          "prerequisites not met: needs Windows Server 2008 SP1"),
                         "KB958644": installed}, facts={"sp": 0}),
        "edge1": {"unreachable": True, "changed": False,
                  "msg": "Failed to connect to the host via ssh: ssh: connect to host 10.20.0.31 port 22: "
                         "Connection timed out"},
        "edge2": {"failed": True, "rc": 8,
                  "msg": "the metadata of source corp expired at 2026-12-01T00:00:00Z " + HOSTILE_IMG},
    }


# ---- Chromium -------------------------------------------------------------------------------

def chromium(url, *mode):
    """Run headless Chromium once with a fresh profile; (stdout, stderr) as text."""
    profile = tempfile.mkdtemp(prefix="report-chromium-")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-default-apps",
               # Chromium resolves Google's hosts at start even so: no name resolves here.
               "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + profile] + list(mode) + [url]
    # A session of its own, so a timeout kills Chromium's helper processes with it.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise CheckFailed("chromium %s did not finish within %d s" % (" ".join(mode), TIMEOUT))
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode != 0:
        raise CheckFailed("chromium %s exited with %d: %s" % (" ".join(mode), proc.returncode,
                                                              err.decode(errors="replace")[-2000:]))
    return out.decode("utf-8", errors="replace"), err.decode(errors="replace")


class Dom(html.parser.HTMLParser):
    """What the checks need from the DOM Chromium serialized."""

    def __init__(self):
        super().__init__()
        self.tags, self.rows, self.tiles, self.text = [], [], {}, []
        self._tile = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "tr" and "host-row" in (attrs.get("class") or "").split():
            self.rows.append(attrs)
        if tag == "div" and "data-count" in attrs:
            self._tile = attrs["data-count"]
        if tag == "span" and self._tile and attrs.get("class") == "n":
            self.tiles[self._tile] = ""

    def handle_endtag(self, tag):
        if tag == "div":
            self._tile = None

    def handle_data(self, data):
        self.text.append(data)
        if self._tile in self.tiles and not self.tiles[self._tile]:
            self.tiles[self._tile] = data.strip()


def check_dom(dom_text, report):
    dom = Dom()
    dom.feed(dom_text)
    dom.close()
    text = " ".join(" ".join(dom.text).split())

    names = [row["host"] for row in report["hosts"]]
    check([r.get("data-host") for r in dom.rows] == names,
          "the DOM has one row per host, in natural order: %s" % ", ".join(names))
    for word in ("installed", "restart pending", "damaged", "superseded", "missing",
                 "not applicable", "failed", "absent", "unreachable"):
        check(word in text, "the state %r is shown" % word)
    summary = report["summary"]
    expected = {"hosts": summary["hosts"], "compliant_hosts": summary["compliant_hosts"],
                "hosts_unreachable": summary["unreachable"], "hosts_failed": summary["failed"]}
    expected.update(summary["by_state"])
    shown = dict((key, dom.tiles.get(key)) for key in expected)
    check(shown == dict((k, str(v)) for k, v in expected.items()),
          "the summary tiles show the counts %s" % expected)
    check("not compliant" in text, "the page says the fleet is not compliant")
    check(report["generated_at"] in text, "the generation time is shown")
    check("<script" not in dom_text.lower() and "script" not in dom.tags,
          "no <script> in the DOM, though a reason holds one")
    check("img" not in dom.tags, "no <img> in the DOM, though a message holds one")
    check(HOSTILE in text and HOSTILE_IMG in text, "the hostile strings are shown as text")
    for reason in ("needs Windows Server 2008 SP1", "the bundle is for x64; the target is x86",
                   "C:/Windows/System32/inetsrv/iiscore.dll", "S.5....T", "Connection timed out"):
        check(reason in text, "reasons and differing files are shown: %r" % reason)


def check_screenshot(path):
    check(os.path.isfile(path), "the screenshot exists")
    with open(path, "rb") as f:
        data = f.read()
    check(data.startswith(PNG_SIGNATURE), "the screenshot is a PNG")
    check(len(data) > 10 * 1024, "the screenshot is larger than 10 KB (%d bytes)" % len(data))
    print("screenshot: %s" % path)


def main():
    parser = argparse.ArgumentParser(description="Render the fleet report in headless Chromium and check it.")
    parser.add_argument("--out", help="write the page and the screenshot here (default: a new temporary directory)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print("SKIPPED: chromium is not installed")
        return 0
    if not os.path.abspath(fleet_report.__file__).startswith(COLLECTION + os.sep):
        print("FAILED: fleet_report was imported from %s" % fleet_report.__file__)
        return 1

    out = os.path.abspath(args.out) if args.out else tempfile.mkdtemp(prefix="report-browser-")
    os.makedirs(out, exist_ok=True)
    report = fleet_report.build_report(fleet(), title="Hotfix compliance, web tier")
    page = os.path.join(out, "fleet-report.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write(fleet_report.render_html(report))
    url = "file://" + page
    screenshot = os.path.join(out, "fleet-report.png")
    if os.path.exists(screenshot):
        os.unlink(screenshot)
    try:
        dom, _ = chromium(url, "--dump-dom")
        check_dom(dom, report)
        chromium(url, "--screenshot=" + screenshot, "--window-size=1400,900")
        check_screenshot(screenshot)
    except CheckFailed as e:
        print("FAILED: %s" % e)
        print("page: %s" % page)
        return 1
    print("page: %s" % page)
    print("PASSED: the fleet report renders in Chromium")
    return 0


if __name__ == "__main__":
    sys.exit(main())
