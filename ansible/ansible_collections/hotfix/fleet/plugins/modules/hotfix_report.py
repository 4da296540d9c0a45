#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright 2026 The hotfix authors.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hotfix_report
short_description: Report hotfix compliance across a fleet
version_added: "0.1.0"
author: hotfix project
description:
  - Turns what M(hotfix.fleet.hotfix_info) said about each host into one fleet report, a table
    with one row per host and one column per hotfix, and tells whether the fleet is compliant.
  - Hosts that could not be reached, where M(hotfix.fleet.hotfix_info) failed, or that have no
    result at all are reported as such, never left out.
  - With C(dest), writes the report as C(fleet-report.html) (a self-contained page to look at),
    C(fleet-report.json) and C(fleet-report.txt).
  - Runs on the controller, once for the whole play; give the task C(delegate_to) C(localhost)
    and C(run_once) C(true).
options:
  hosts:
    description:
      - The results to report, by inventory hostname.
      - Each value is what C(register) holds for that host after
        M(hotfix.fleet.hotfix_info) ran, including the result Ansible registers when the host
        was unreachable or the module failed.
      - C(null) or an empty mapping means the host has no result; it is reported as
        C(no_result). A result that is not understood is reported as C(error) with the reason.
    type: dict
    required: true
  hotfixes:
    description:
      - The hotfix ids to report, in this order.
      - When not given or empty, every id any host reported, in natural order.
      - An id a host did not report is C(absent) on that host.
    type: list
    elements: str
    required: false
  dest:
    description:
      - A directory to write C(fleet-report.html), C(fleet-report.json) and C(fleet-report.txt)
        in. It is created if it does not exist.
      - Each file is replaced atomically, and only when its content changes. A run that finds
        the fleet as the files already describe it keeps their generation time, so it writes
        nothing and reports no change.
      - When not given, nothing is written and the report is only returned.
    type: path
    required: false
  title:
    description:
      - The heading of the report.
    type: str
    required: false
    default: Hotfix compliance
attributes:
  check_mode:
    support: full
    description: Writes nothing; C(changed) says whether a report file would change.
  diff_mode:
    support: none
    description: Reports no diff.
notes:
  - The fleet is compliant when every host answered, and on every host each reported hotfix is
    C(installed) (intact, no restart pending), C(superseded) or C(not_applicable), as
    M(hotfix.fleet.hotfix_info) judges a single host. C(missing), C(restart_pending), C(damaged),
    C(failed) and C(absent) (not installed, not known not to apply) are not compliant. A host
    that is unreachable, failed, has no result or a result not understood makes the fleet not
    compliant; so does an empty C(hosts).
  - The module never fails because the fleet is not compliant; test C(compliant) for that.
  - All text from the hosts is escaped in the HTML page, and the page loads nothing, neither
    from the network nor from disk.
seealso:
  - module: hotfix.fleet.hotfix_info
"""

EXAMPLES = r"""
- name: Ask every server what it has
  hotfix.fleet.hotfix_info:
  register: hotfix_state
  ignore_unreachable: true
  ignore_errors: true

- name: Report the fleet
  hotfix.fleet.hotfix_report:
    hosts: >-
      {{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all
              | map('extract', hostvars) | map(attribute='hotfix_state', default=None))) }}
    hotfixes:
      - KB967131
    dest: /var/www/compliance
    title: Hotfix compliance, web tier
  delegate_to: localhost
  run_once: true
  register: fleet

- name: Show the table
  ansible.builtin.debug:
    msg: "{{ fleet.text.splitlines() }}"
  run_once: true

- name: Stop when the fleet is not compliant
  ansible.builtin.assert:
    that: fleet.compliant
    fail_msg: "{{ fleet.summary.by_hotfix }}"
  run_once: true
"""

RETURN = r"""
report:
  description:
    - The whole report, as also written to C(fleet-report.json).
    - C(hosts) has one entry per host, sorted in natural order (C(host2) before C(host10)), with
      C(host), C(status) (C(ok), C(unreachable), C(failed), C(no_result) or C(error)),
      C(message), C(architecture), C(product), C(service_pack), C(restart) (C(required), C(kind),
      C(since), C(scheduled_at)), C(compliant) and C(cells).
    - C(cells) maps each hotfix id to C(state), C(revision), C(reason) and C(differing_files)
      (C(path) and C(codes)). On a host that did not answer, every cell has the host's status
      as its state and the host's message as its reason.
  returned: always
  type: dict
  contains:
    title:
      description: The heading.
      type: str
      sample: Hotfix compliance
    generated_at:
      description: When the report was made, UTC ISO 8601.
      type: str
      sample: "2026-12-03T12:00:00Z"
    hotfixes:
      description: The hotfix ids reported, in column order.
      type: list
      elements: str
      sample: [KB967131]
    hosts:
      description: One entry per host.
      type: list
      elements: dict
    summary:
      description: The same as the C(summary) returned beside it.
      type: dict
    compliant:
      description: The same as the C(compliant) returned beside it.
      type: bool
text:
  description:
    - The report as an aligned text table, one row per host with a column per hotfix, the
      restart and the reasons, then summary lines; as also written to C(fleet-report.txt).
  returned: always
  type: str
summary:
  description:
    - Counts. C(hosts), C(ok), C(unreachable), C(failed), C(no_result), C(error) and
      C(compliant_hosts) count hosts.
    - C(by_hotfix) counts, per hotfix, the hosts in each state (the states of hosts that did not
      answer included); C(by_state) counts hotfix states over the hosts that answered.
  returned: always
  type: dict
  sample:
    hosts: 2
    ok: 2
    unreachable: 0
    failed: 0
    no_result: 0
    error: 0
    compliant_hosts: 1
    by_hotfix:
      KB967131: {installed: 1, restart_pending: 1}
    by_state: {installed: 1, restart_pending: 1}
files:
  description:
    - The report files in C(dest), whether this run had to rewrite them or not; in check mode,
      the files it would write. Empty without C(dest).
  returned: always
  type: list
  elements: path
  sample:
    - /var/www/compliance/fleet-report.html
    - /var/www/compliance/fleet-report.json
    - /var/www/compliance/fleet-report.txt
compliant:
  description: Whether the fleet is compliant, as the notes define it.
  returned: always
  type: bool
  sample: false
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.hotfix.fleet.plugins.module_utils.fleet_report import (
    DEFAULT_TITLE,
    build_report,
    render_html,
    render_json,
    render_text,
)

FILES = (
    ("fleet-report.html", render_html),
    ("fleet-report.json", render_json),
    ("fleet-report.txt", render_text),
)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (IOError, OSError):
        return None


def _encode(text):
    # Strings from hosts may hold lone surrogates; a report must still be written.
    return text.encode("utf-8", errors="backslashreplace")


def _render(report, dest):
    return {os.path.join(dest, name): _encode(render(report)) for name, render in FILES}


def _previous_time(dest):
    """The generation time of the JSON report already in dest, if there is one."""
    try:
        previous = json.loads(_read(os.path.join(dest, "fleet-report.json")) or b"null")
    except ValueError:
        return None
    stamp = previous.get("generated_at") if isinstance(previous, dict) else None
    return stamp if isinstance(stamp, str) and stamp else None


def _plan(params, dest):
    """The report and its files: an unchanged fleet keeps the files' generation time."""
    def make(generated_at=None):
        return build_report(params["hosts"], params["hotfixes"], generated_at, params["title"])

    previous = _previous_time(dest)
    if previous:
        report = make(previous)
        contents = _render(report, dest)
        json_path = os.path.join(dest, "fleet-report.json")
        if _read(json_path) == contents[json_path]:
            return report, contents
    report = make()
    return report, _render(report, dest)


def _write_atomically(path, data):
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix=".fleet-report.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file 0600; a report is for people to read.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hosts=dict(type="dict", required=True),
            hotfixes=dict(type="list", elements="str"),
            dest=dict(type="path"),
            title=dict(type="str", default=DEFAULT_TITLE),
        ),
        supports_check_mode=True,
    )
    dest = module.params["dest"]
    if dest and os.path.exists(dest) and not os.path.isdir(dest):
        module.fail_json(msg="dest %s exists and is not a directory" % dest)

    if dest:
        report, contents = _plan(module.params, dest)
    else:
        report, contents = build_report(module.params["hosts"], module.params["hotfixes"],
                                        title=module.params["title"]), {}
    stale = [path for path, data in sorted(contents.items()) if _read(path) != data]

    if stale and not module.check_mode:
        try:
            if not os.path.isdir(dest):
                os.makedirs(dest)
            for path in stale:
                _write_atomically(path, contents[path])
        except (IOError, OSError) as e:
            module.fail_json(msg="cannot write the report in %s: %s" % (dest, to_native(e)))

    module.exit_json(
        changed=bool(stale),
        report=report,
        text=render_text(report),
        summary=report["summary"],
        files=sorted(contents),
        compliant=report["compliant"],
    )


if __name__ == "__main__":
    main()
