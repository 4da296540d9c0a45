#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright 2026 The hotfix authors. All rights reserved.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hotfix_info
short_description: What a server's hotfixes are, and whether it is compliant
version_added: "0.1.0"
description:
  - Reads, without changing anything, what C(hotfix-installer) knows of a server; the
    hotfixes installed, whether every installed file is what its hotfix promised
    (C(verify)), the restart still pending and since when, the sources and when their
    metadata expires, and what the sources offer this server that it lacks.
  - For each hotfix of interest it gives one state, the compliance answer of a fleet,
    C(installed), C(restart_pending), C(damaged), C(superseded), C(missing),
    C(not_applicable), C(failed) or C(absent), with the reason.
  - The sources are asked with C(sync --dry-run), which fetches and checks their signed
    metadata and stores nothing; I(offers=false) asks nothing over the network.
author:
  - The hotfix authors
extends_documentation_fragment:
  - hotfix.fleet.installer
attributes:
  check_mode:
    support: full
    description: The module never changes anything; it runs the same in check mode.
  diff_mode:
    support: none
options:
  hotfixes:
    description:
      - The hotfix ids to give a state for. Default, every id installed or offered by a
        source.
    type: list
    elements: str
    default: []
  offers:
    description:
      - Ask the sources what they offer (C(sync --dry-run)), so that a hotfix not installed
        is told C(missing) or C(not_applicable). A source that cannot be read is reported in
        C(offers_error), not as a failure of the module.
    type: bool
    default: true
  verify:
    description:
      - Check every installed file against what its hotfix promised (C(hotfix-installer
        verify)). Without it, no hotfix is told C(damaged).
    type: bool
    default: true
seealso:
  - module: hotfix.fleet.hotfix
  - module: hotfix.fleet.hotfix_report
"""

EXAMPLES = r"""
- name: Is every server compliant with KB967131?
  hotfix.fleet.hotfix_info:
    hotfixes: [KB967131]
  register: info

- name: Fail where it is not installed, intact and restarted
  ansible.builtin.assert:
    that: info.compliant
    fail_msg: "{{ info.hotfixes.KB967131.state }}: {{ info.hotfixes.KB967131.reason }}"

- name: The reboot the hotfix asked for has happened (restart truth)
  ansible.builtin.assert:
    that: not info.restart.required
"""

RETURN = r"""
facts:
  description: What the installer knows of the target (family, product, version, service_pack, architecture).
  returned: always
  type: dict
installed:
  description: The hotfixes installed (C(id), C(title), C(revision), C(architecture), C(installed_at), ...).
  returned: always
  type: list
  elements: dict
restart:
  description:
    - The restart need (C(kind), C(required), C(state) C(none|pending|done), C(since),
      C(scheduled_at), C(policy), C(hotfixes)); C(state=done) once the server has started
      since the need was recorded.
  returned: always
  type: dict
interrupted_transaction:
  description: A transaction was interrupted and waits for C(hotfix-installer recover).
  returned: always
  type: bool
verify:
  description:
    - C(checked), C(failed), C(intact) and C(files), the files that are not as promised
      (C(hotfix), C(path), C(codes) in rpm -V style, C(detail)). None without I(verify).
  returned: always
  type: dict
sources:
  description: The sources (C(name), C(urls), C(expires), the earliest expiry of their trusted metadata).
  returned: always
  type: list
  elements: dict
metadata_expires:
  description: The earliest expiry of any source's trusted metadata, or null.
  returned: always
  type: str
offers:
  description: What the sources offer (C(source), C(id), C(revision), C(architecture), C(state), C(reason)).
  returned: when I(offers) and a source is configured
  type: list
  elements: dict
offers_error:
  description: Why the sources could not be read (C(rc), C(msg)), when they could not.
  returned: when a source could not be read
  type: dict
hotfixes:
  description:
    - By id, C(state), C(revision), C(reason), C(differing_files) and C(last_attempt) (the
      last apply or uninstall in the history).
  returned: always
  type: dict
  sample:
    KB967131:
      state: restart_pending
      revision: 1
      reason: "installed; the reboot it needs is pending since 2026-12-03T10:00:00Z"
      differing_files: []
missing:
  description: The ids a source offers this server that it does not have.
  returned: always
  type: list
  elements: str
compliant:
  description:
    - Every hotfix of interest is installed and intact, superseded or not applicable; no
      restart is pending and no transaction is interrupted.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hotfix.fleet.plugins.module_utils.hotfix_cli import (
    EXIT_OK,
    Installer,
    by_id,
    installer_argument_spec,
)
from ansible_collections.hotfix.fleet.plugins.module_utils.hotfix_offers import best_offer
from ansible_collections.hotfix.fleet.plugins.module_utils.hotfix_states import hotfix_state

VERIFY_CODES = (0, 4, 6)  # intact; files differ; files being changed right now
STATUS_CODES = (0, 6, 10)  # nothing pending; an interrupted transaction; a restart pending


class Facts(object):
    def __init__(self, module):
        self.module = module
        self.installer = Installer(module)

    def read(self, command, codes):
        return self.installer.expect(self.installer.run(*command), codes).data

    def gather(self):
        p = self.module.params
        out = dict(changed=False, root=p["root"])
        out["facts"] = self.read(["facts"], (EXIT_OK,))
        out["installed"] = self.read(["list"], (EXIT_OK,)).get("hotfixes", [])
        status = self.read(["status"], STATUS_CODES)
        out["restart"] = status.get("restart") or {}
        out["interrupted_transaction"] = bool(status.get("interrupted_transaction"))
        out["verify"] = self.verify() if p["verify"] else None
        out["sources"], out["metadata_expires"] = self.sources()
        if p["offers"] and out["sources"]:
            out["offers"], error = self.offers()
            if error:
                out["offers_error"] = error
        history = self.read(["history"], (EXIT_OK,)).get("entries", [])
        out["hotfixes"] = self.states(out, last_attempts(history))
        out["missing"] = sorted(i for i, h in out["hotfixes"].items() if h["state"] == "missing")
        out["compliant"] = compliant(out)
        return out

    def verify(self):
        data = self.read(["verify"], VERIFY_CODES)
        return dict(checked=data.get("checked", 0), failed=data.get("failed", 0),
                    intact=bool(data.get("intact")),
                    files=[f for f in data.get("files", []) if not f.get("ok")])

    def sources(self):
        listed = self.read(["source", "list"], (EXIT_OK,)).get("sources", [])
        out = []
        for s in listed:
            expiries = [m.get("expires") for m in (s.get("metadata") or {}).values()
                        if m and m.get("expires")]
            out.append(dict(name=s.get("name"), urls=s.get("urls"),
                            expires=min(expiries) if expiries else None))
        expiries = [s["expires"] for s in out if s["expires"]]
        return out, (min(expiries) if expiries else None)

    def offers(self):
        reply = self.installer.run("sync", "--dry-run")
        offers = []
        for s in reply.data.get("sources", []) if reply.data else []:
            for o in s.get("offers", []):
                offers.append(dict(source=s.get("source"), id=o.get("id"),
                                   revision=o.get("revision"),
                                   architecture=o.get("architecture"), state=o.get("state"),
                                   reason=o.get("reason")))
        error = None if reply.rc == EXIT_OK else dict(rc=reply.rc, msg=reply.message())
        return offers, error

    def states(self, out, attempts):
        ids = list(self.module.params["hotfixes"])
        if not ids:
            seen = [h["id"] for h in out["installed"]] + [o["id"] for o in out.get("offers", [])]
            ids = sorted(set(seen), key=lambda i: i.lower())
        installed = by_id(out["installed"])
        arch = out["facts"].get("architecture")
        differing = (out["verify"] or {}).get("files", [])
        result = {}
        for hid in ids:
            offer = best_offer(out.get("offers", []), hid, arch) if "offers" in out else None
            files = [dict(path=f.get("path"), codes=f.get("codes"), detail=f.get("detail"))
                     for f in differing if str(f.get("hotfix", "")).lower() == hid.lower()]
            result[hid] = hotfix_state(hid, installed.get(hid.lower()), offer, files,
                                       out["restart"], attempts.get(hid.lower()),
                                       "offers" in out)
        return result


def last_attempts(entries):
    """The last apply or uninstall of each hotfix id, from the history."""
    last = {}
    for e in entries:
        if e.get("action") in ("apply", "uninstall") and e.get("hotfix"):
            last[e["hotfix"].lower()] = dict(at=e.get("at"), action=e.get("action"),
                                            outcome=e.get("outcome"), detail=e.get("detail"))
    return last


def compliant(out):
    good = ("installed", "superseded", "not_applicable")
    return (all(h["state"] in good for h in out["hotfixes"].values())
            and not out["restart"].get("required")
            and not out["interrupted_transaction"]
            and (out["verify"] is None or out["verify"]["failed"] == 0))


def main():
    spec = installer_argument_spec()
    spec.update(
        hotfixes=dict(type="list", elements="str", default=[]),
        offers=dict(type="bool", default=True),
        verify=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    module.exit_json(**Facts(module).gather())


if __name__ == "__main__":
    main()
