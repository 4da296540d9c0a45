# -*- coding: utf-8 -*-
# The fleet report: what hotfix.fleet.hotfix_info said about every host, as one table.
# Pure Python 3 and the standard library only, so it can be used and tested without Ansible.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import html
import json
import re

# Per-hotfix states as hotfix_info reports them, in the order reports show them.
HOTFIX_STATES = (
    "installed", "restart_pending", "missing", "damaged", "failed",
    "superseded", "not_applicable", "absent",
)
# States a cell takes when the host itself could not be read.
HOST_CELL_STATES = ("unreachable", "no_result", "error")
STATE_ORDER = HOTFIX_STATES + HOST_CELL_STATES
HOST_STATUSES = ("ok", "unreachable", "failed", "no_result", "error")
DEFAULT_TITLE = "Hotfix compliance"

# States that keep a host compliant: the hotfix is in place, or has nothing to do there. As in
# hotfix_info, "absent" is not among them: nobody has shown that the hotfix does not apply.
COMPLIANT_STATES = frozenset(("installed", "superseded", "not_applicable"))

COLORS = {
    "installed": "green",
    "restart_pending": "amber", "missing": "amber",
    "failed": "red", "damaged": "red", "unreachable": "red", "error": "red",
    "not_applicable": "grey", "superseded": "grey", "absent": "grey", "no_result": "grey",
}

# The text table shows only the first few differing files per hotfix; the JSON has them all.
TEXT_FILES_SHOWN = 3
HTML_FILES_SHOWN = 20


# ---- building -------------------------------------------------------------------------------

def build_report(hosts, hotfixes=None, generated_at=None, title=DEFAULT_TITLE):
    """Turn {inventory name: registered hotfix_info result} into the report dict."""
    hosts = hosts if isinstance(hosts, dict) else {}
    results = {str(name): result for name, result in hosts.items()}
    ids = _hotfix_ids(results, hotfixes)
    rows = [_host_row(name, results[name], ids) for name in sorted(results, key=natural_key)]
    return {
        "title": str(title),
        "generated_at": _timestamp(generated_at),
        "hotfixes": ids,
        "hosts": rows,
        "summary": _summary(rows, ids),
        # An empty fleet proves nothing, so it is not called compliant.
        "compliant": bool(rows) and all(row["compliant"] for row in rows),
    }


def natural_key(text):
    """Sort key that puts host2 before host10: digit runs compare as numbers."""
    parts = re.split(r"(\d+)", str(text))
    # re.split alternates text and digits, so parts at odd positions are always digits.
    return [int(part) if i % 2 else part.lower() for i, part in enumerate(parts)], str(text)


def _timestamp(value):
    if isinstance(value, str) and value:
        return value
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.now(datetime.timezone.utc)
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hotfix_ids(results, wanted):
    if isinstance(wanted, str):
        wanted = [wanted]
    if wanted:
        # Keep the order asked for, without repeats. An empty list means all, as in hotfix_info.
        return list(dict.fromkeys(str(i) for i in wanted))
    seen = set()
    for result in results.values():
        if isinstance(result, dict) and isinstance(result.get("hotfixes"), dict):
            seen.update(str(i) for i in result["hotfixes"])
    return sorted(seen, key=natural_key)


def classify(result):
    """(status, message) of one registered result."""
    if result is None or result == {}:
        return "no_result", "no result was registered for this host"
    if not isinstance(result, dict):
        return "error", "the result is a %s, not a mapping" % type(result).__name__
    if result.get("unreachable"):
        return "unreachable", _text(result.get("msg")) or "the host could not be reached"
    if result.get("skipped"):
        return "no_result", "skipped: %s" % (_text(result.get("skip_reason")) or "no reason given")
    if result.get("failed"):
        return "failed", _failure_message(result)
    if "censored" in result:
        return "error", _text(result["censored"])
    if not isinstance(result.get("hotfixes"), dict):
        return "error", "the result has no 'hotfixes' mapping; is it from hotfix.fleet.hotfix_info?"
    return "ok", ""


def _failure_message(result):
    message = _text(result.get("msg")) or "the module failed without a message"
    rc = result.get("rc")
    if isinstance(rc, int) and not isinstance(rc, bool):
        message = "%s (exit code %d)" % (message, rc)
    return message


def _host_row(name, result, ids):
    status, message = classify(result)
    facts = _mapping(result, "facts")
    row = {
        "host": name,
        "status": status,
        "message": message,
        "architecture": _text(facts.get("architecture")),
        "product": _text(facts.get("product")),
        "service_pack": _int(facts.get("service_pack")),
        "restart": _restart(_mapping(result, "restart")),
        "cells": {},
    }
    if status == "ok":
        states = result["hotfixes"]
        row["cells"] = {i: _cell(states.get(i)) for i in ids}
    else:
        # Every cell says why the host could not be read.
        row["cells"] = {i: _blank_cell(status, message) for i in ids}
    row["compliant"] = status == "ok" and all(
        cell["state"] in COMPLIANT_STATES for cell in row["cells"].values())
    return row


def _restart(restart):
    return {
        "required": restart.get("required") is True,
        "kind": _text(restart.get("kind")),
        "since": _text(restart.get("since")),
        "scheduled_at": _text(restart.get("scheduled_at")),
    }


def _cell(entry):
    if entry is None:
        return _blank_cell("absent", "not reported for this host")
    if not isinstance(entry, dict):
        return _blank_cell("error", "the hotfix entry is a %s, not a mapping" % type(entry).__name__)
    state = entry.get("state")
    cell = {
        "state": state,
        "revision": _int(entry.get("revision")),
        "reason": _text(entry.get("reason")),
        "differing_files": _files(entry.get("differing_files")),
    }
    if state not in HOTFIX_STATES:
        cell["state"] = "error"
        cell["reason"] = "unknown state %s" % json.dumps(state, ensure_ascii=False)
    return cell


def _blank_cell(state, reason):
    return {"state": state, "revision": None, "reason": reason, "differing_files": []}


def _files(value):
    files = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            files.append({"path": _text(item.get("path")) or "?", "codes": _text(item.get("codes")) or ""})
        elif isinstance(item, str):
            files.append({"path": item, "codes": ""})
    return files


def _summary(rows, ids):
    by_status = {status: 0 for status in HOST_STATUSES}
    by_hotfix = {i: {} for i in ids}
    by_state = {}
    for row in rows:
        by_status[row["status"]] += 1
        for hotfix_id, cell in row["cells"].items():
            _count(by_hotfix[hotfix_id], cell["state"])
            # by_state counts hotfixes on hosts that answered; host trouble is counted by host.
            if row["status"] == "ok":
                _count(by_state, cell["state"])
    return {
        "hosts": len(rows),
        "ok": by_status["ok"],
        "unreachable": by_status["unreachable"],
        "failed": by_status["failed"],
        "no_result": by_status["no_result"],
        "error": by_status["error"],
        "compliant_hosts": sum(1 for row in rows if row["compliant"]),
        "by_hotfix": {i: _ordered(counts) for i, counts in by_hotfix.items()},
        "by_state": _ordered(by_state),
    }


def _count(counts, state):
    counts[state] = counts.get(state, 0) + 1


def _ordered(counts):
    return {state: counts[state] for state in STATE_ORDER if state in counts}


def _mapping(result, key):
    value = result.get(key) if isinstance(result, dict) else None
    return value if isinstance(value, dict) else {}


def _text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ---- shared by the renderers ------------------------------------------------------------------

def platform(row):
    """'x64, Windows Server 2008 SP1', or '' when the host said nothing about itself."""
    product = row.get("product") or ""
    if product and row.get("service_pack"):
        product = "%s SP%d" % (product, row["service_pack"])
    return ", ".join(part for part in (row.get("architecture"), product) if part)


def restart_words(row):
    if row["status"] != "ok":
        return "-"
    restart = row["restart"]
    if not restart["required"]:
        return "none"
    kind = restart["kind"] or "restart"
    if restart["scheduled_at"]:
        return "%s at %s" % (kind, restart["scheduled_at"])
    return "%s pending" % kind


def reasons(row):
    """[(hotfix id or None, reason, differing files)] worth showing for a host."""
    if row["status"] != "ok":
        return [(None, row["message"], [])]
    shown = []
    for hotfix_id, cell in row["cells"].items():
        reason = cell["reason"] if cell["state"] != "installed" else None
        if reason or cell["differing_files"]:
            shown.append((hotfix_id, reason, cell["differing_files"]))
    return shown


def state_words(state):
    return str(state).replace("_", " ")


def _oneline(value):
    # Reasons and ssh messages may hold newlines or terminal escapes; a table row cannot.
    text = "".join(ch if ch.isprintable() else " " for ch in str(value or ""))
    return " ".join(text.split())


# ---- text -------------------------------------------------------------------------------------

def render_text(report):
    header = ["host"] + list(report["hotfixes"]) + ["restart", "reason"]
    rows = [header] + [_text_row(row, report["hotfixes"]) for row in report["hosts"]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = [_oneline(report["title"]), "generated " + _oneline(report["generated_at"]), ""]
    for r in rows:
        padded = [cell.ljust(width) for cell, width in zip(r, widths)]
        lines.append("  ".join(padded + [r[-1]]).rstrip())
    return "\n".join(lines + [""] + _summary_lines(report)) + "\n"


def _text_row(row, ids):
    cells = [row["cells"][i]["state"] for i in ids]
    return [_oneline(row["host"])] + cells + [restart_words(row), _text_reasons(row)]


def _text_reasons(row):
    parts = []
    for hotfix_id, reason, files in reasons(row):
        prefix = "%s: " % hotfix_id if hotfix_id else ""
        if reason:
            parts.append(prefix + _oneline(reason))
        if files:
            listed = ", ".join(_oneline("%s %s" % (f["path"], f["codes"])) for f in files[:TEXT_FILES_SHOWN])
            more = len(files) - TEXT_FILES_SHOWN
            parts.append("%sfiles differ: %s%s" % (prefix, listed, " and %d more" % more if more > 0 else ""))
    return "; ".join(parts)


def _summary_lines(report):
    summary = report["summary"]
    hosts = "hosts: %d (%d ok" % (summary["hosts"], summary["ok"])
    for status in HOST_STATUSES[1:]:
        if summary[status]:
            hosts += ", %d %s" % (summary[status], state_words(status))
    lines = [hosts + ")"]
    for hotfix_id, counts in summary["by_hotfix"].items():
        counted = ", ".join("%s %d" % (state, n) for state, n in counts.items())
        lines.append("%s: %s" % (hotfix_id, counted or "no hosts"))
    lines.append("compliant: %s" % ("yes" if report["compliant"] else "no"))
    return lines


# ---- JSON -------------------------------------------------------------------------------------

def render_json(report):
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


# ---- HTML -------------------------------------------------------------------------------------

def _e(value):
    return html.escape(str(value if value is not None else ""), quote=True)


# Inline and self-contained: the page must load nothing, from the network or from disk.
CSS = """
*{box-sizing:border-box}
body{margin:0;padding:28px 36px;background:#f6f8fa;color:#1f2328;
 font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:16px;margin:24px 0 8px}
code,.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:13px}
.meta{color:#57606a;margin:0 0 18px}
.verdict{display:inline-block;padding:4px 14px;border-radius:999px;font-weight:700;margin-left:10px;font-size:14px;vertical-align:middle}
.verdict.yes{background:#1a7f37;color:#fff}.verdict.no{background:#cf222e;color:#fff}
#summary{display:flex;flex-wrap:wrap;gap:10px 36px;margin:0 0 22px}
#summary h2{margin:0 0 6px;font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:#57606a}
.tiles{display:flex;flex-wrap:wrap;gap:8px}
.tile{display:flex;align-items:baseline;gap:7px;padding:5px 12px;border-radius:6px;background:#fff;
 border:1px solid #d0d7de;border-left-width:5px}
.tile .n{font-size:22px;font-weight:700;line-height:1.2}
.tile .l{color:#57606a;white-space:nowrap}
.tile.hosts{border-left-color:#0969da}
.tile.green{border-left-color:#1a7f37}.tile.amber{border-left-color:#bf8700}
.tile.red{border-left-color:#cf222e}.tile.grey{border-left-color:#8c959f}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de}
th,td{padding:8px 10px;border-bottom:1px solid #d8dee4;text-align:left;vertical-align:top}
th{background:#eaeef2;font-weight:600}
td.host{white-space:nowrap;border-left:5px solid #cf222e}
td.host.ok{border-left-color:#1a7f37}
td.host b{font-size:15px}
.sub{display:block;color:#57606a;font-size:12px}
td.state{white-space:nowrap;font-weight:600;text-align:center}
td.state .sub{font-weight:400}
.green{background:#dafbe1;color:#116329}
.amber{background:#fff1c2;color:#7d4e00}
.red{background:#ffebe9;color:#a40e26}
.grey{background:#eff1f3;color:#57606a}
.tile.green,.tile.amber,.tile.red,.tile.grey{background:#fff;color:inherit}
.chip{display:inline-block;padding:1px 8px;border-radius:10px;margin:0 6px 4px 0;font-size:13px}
td.restart{white-space:nowrap}
td.reasons{width:45%}
#by-hotfix th{width:1%;white-space:nowrap;padding-right:24px}
ul{margin:0;padding-left:18px}
ul.files{padding-left:14px;list-style:square}
.more{color:#57606a;font-style:italic}
footer{margin-top:18px;color:#57606a;font-size:12px}
"""


def render_html(report):
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Even if something slipped past escaping, the browser would fetch and run nothing.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>%s</title><style>%s</style></head><body>" % (_e(report["title"]), CSS),
        _html_heading(report),
        _html_tiles(report),
        _html_table(report),
        _html_by_hotfix(report),
        "<footer>hotfix.fleet.hotfix_report &middot; fleet-report.json has every detail</footer>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _html_heading(report):
    verdict = ('<span class="verdict yes">compliant</span>' if report["compliant"]
               else '<span class="verdict no">not compliant</span>')
    return '<h1>%s %s</h1><p class="meta">Generated <time>%s</time> &middot; %d hosts &middot; %d hotfixes</p>' % (
        _e(report["title"]), verdict, _e(report["generated_at"]),
        report["summary"]["hosts"], len(report["hotfixes"]))


def _tile(cls, count, label, key):
    return ('<div class="tile %s" data-count="%s"><span class="n">%d</span><span class="l">%s</span></div>'
            % (cls, _e(key), count, _e(label)))


def _html_tiles(report):
    summary = report["summary"]
    hosts = [_tile("hosts", summary["hosts"], "hosts", "hosts"),
             _tile("green" if report["compliant"] else "red", summary["compliant_hosts"],
                   "compliant", "compliant_hosts")]
    for status in HOST_STATUSES[1:]:
        if summary[status]:
            hosts.append(_tile(COLORS[status], summary[status], state_words(status), "hosts_" + status))
    states = [_tile(COLORS.get(state, "grey"), count, state_words(state), state)
              for state, count in summary["by_state"].items()]
    return ('<section id="summary"><div><h2>Hosts</h2><div class="tiles">%s</div></div>'
            '<div><h2>Hotfixes on the hosts that answered</h2><div class="tiles">%s</div></div></section>'
            % ("".join(hosts), "".join(states) or '<span class="more">none</span>'))


def _html_by_hotfix(report):
    rows = []
    for hotfix_id, counts in report["summary"]["by_hotfix"].items():
        chips = "".join('<span class="chip %s">%s %d</span>' % (COLORS.get(s, "grey"), _e(state_words(s)), n)
                        for s, n in counts.items())
        rows.append('<tr><th class="id">%s</th><td>%s</td></tr>' % (_e(hotfix_id), chips))
    return '<h2>By hotfix</h2><table id="by-hotfix"><tbody>%s</tbody></table>' % "".join(rows)


def _html_table(report):
    head = "".join('<th class="id">%s</th>' % _e(i) for i in report["hotfixes"])
    body = "".join(_html_row(row, report["hotfixes"]) for row in report["hosts"])
    return ('<table id="hosts"><thead><tr><th>Host</th>%s<th>Restart</th>'
            "<th>Reasons and differing files</th></tr></thead><tbody>%s</tbody></table>" % (head, body))


def _html_row(row, ids):
    sub = platform(row) if row["status"] == "ok" else state_words(row["status"])
    host = '<td class="host%s"><b>%s</b><span class="sub">%s</span></td>' % (
        " ok" if row["compliant"] else "", _e(row["host"]), _e(sub))
    cells = "".join(_html_cell(row["cells"][i]) for i in ids)
    restart = '<td class="restart">%s</td>' % _e(restart_words(row))
    return '<tr class="host-row" data-host="%s" data-status="%s">%s%s%s%s</tr>' % (
        _e(row["host"]), _e(row["status"]), host, cells, restart, _html_reasons(row))


def _html_cell(cell):
    revision = '<span class="sub">revision %d</span>' % cell["revision"] if cell["revision"] is not None else ""
    return '<td class="state %s" data-state="%s">%s%s</td>' % (
        COLORS.get(cell["state"], "grey"), _e(cell["state"]), _e(state_words(cell["state"])), revision)


def _html_reasons(row):
    items = []
    for hotfix_id, reason, files in reasons(row):
        label = '<b class="id">%s</b> ' % _e(hotfix_id) if hotfix_id else ""
        text = _e(reason) if reason else "files differ:"
        items.append("<li>%s%s%s</li>" % (label, text, _html_files(files)))
    return '<td class="reasons">%s</td>' % ("<ul>%s</ul>" % "".join(items) if items else "")


def _html_files(files):
    if not files:
        return ""
    items = ["<li><code>%s</code> <code>%s</code></li>" % (_e(f["codes"]), _e(f["path"]))
             for f in files[:HTML_FILES_SHOWN]]
    if len(files) > HTML_FILES_SHOWN:
        items.append('<li class="more">and %d more</li>' % (len(files) - HTML_FILES_SHOWN))
    return '<ul class="files">%s</ul>' % "".join(items)
