#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright 2026 The hotfix authors. All rights reserved.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hotfix
short_description: Apply or remove signed hotfixes with hotfix-installer
version_added: "0.1.0"
description:
  - Applies hotfixes by id, from the repositories the server takes as sources
    (C(hotfix-installer source add)), or from bundle files already on the server; or
    uninstalls them. Each hotfix is one transaction of the installer; all of its files or
    none, even across a crash.
  - The module never restarts the server. It says whether a reboot is required
    (C(reboot_required)), so that a play can pair it with M(ansible.builtin.reboot); the
    installer schedules a restart only when I(restart) asks it to.
  - The module wraps C(hotfix-installer --json), the pattern of community.general's
    flatpak and snap modules. Check mode is the installer's own dry run (C(apply --dry-run),
    C(uninstall --dry-run), C(sync --dry-run)); the exact plan, and nothing written under the
    root.
author:
  - The hotfix authors
extends_documentation_fragment:
  - hotfix.fleet.installer
attributes:
  check_mode:
    support: full
    description: The installer's dry run, which writes nothing under the root.
  diff_mode:
    support: full
    description: Each hotfix's revision before and after, and each file's action.
options:
  name:
    description:
      - Hotfix ids (C(KB967131)), or paths of bundle files on the managed host
        (C(/srv/KB967131-x64.hotfix)). A name with a C(/) or ending in C(.hotfix) is a
        bundle; any other is an id, fetched from the sources for this server's
        architecture.
      - With I(state=present) and I(state=latest), ids and bundles are applied in one run
        of the installer, in dependency order.
      - With I(state=absent), only ids; they are uninstalled one after another in the order
        given.
    type: list
    elements: str
    required: true
    aliases: [id]
  state:
    description:
      - C(present) applies what is not installed at any revision; C(latest) also applies a
        higher revision than the one installed; C(absent) uninstalls.
    type: str
    choices: [present, absent, latest]
    default: present
  source:
    description:
      - Fetch ids from this source only. Default, every source the server has, in the order
        of their names.
    type: str
  restart:
    description:
      - When the installer restarts the server if a hotfix needs it; C(never) records the
        need and reports it in C(reboot_required). C(now), C(at=HH:MM) (local time) or
        C(delay=MINUTES) schedule it (systemd or shutdown on C(/); only recorded on another
        root), once, after every hotfix of the task.
    type: str
    default: never
  restart_command:
    description:
      - A command that schedules the restart instead of systemd or shutdown, given as the
        installer's C(--restart-command).
    type: str
  trust:
    description:
      - Public key files or directories trusted for bundle files, besides the root's
        C(etc/hotfix/trusted.d). Bundles fetched from a source are checked against the
        source's signed metadata and need none.
    type: list
    elements: path
    default: []
  force:
    description:
      - Replace files even where the installed version is newer or the same.
    type: bool
    default: false
  lock_timeout:
    description:
      - Seconds to wait for another installer working on the same root; then the task fails
        with C(busy=true) (exit code 6), which C(retries) and C(until) can wait out. C(0)
        fails at once.
    type: int
    default: 300
  fail_on_not_applicable:
    description:
      - Fail when a hotfix does not apply to this server (another architecture, prerequisites
        not met, superseded, no source offers it). By default such a hotfix is reported
        with C(applicable=false) and the task is C(ok).
    type: bool
    default: false
  accept_expired_metadata:
    description:
      - Accept a source's expired metadata, for an air-gapped site that cannot refresh it in
        time. Said loudly and recorded in the server's history.
    type: bool
    default: false
notes:
  - Exit code 10 of the installer (applied, restart required) is C(changed) with
    C(reboot_required=true) for a reboot (C(restart_required=true) for a services restart);
    not applicable (5) is C(ok) with C(applicable=false) unless I(fail_on_not_applicable);
    busy (6), metadata not to be trusted (8) and unreachable sources (9) fail with the
    installer's message and C(rc).
  - A reboot still pending from an earlier run is reported in C(reboot_required) too, until
    the server has started since the need was recorded (restart truth).
seealso:
  - module: hotfix.fleet.hotfix_info
  - module: hotfix.fleet.hotfix_report
  - module: ansible.builtin.reboot
"""

EXAMPLES = r"""
- name: Apply KB967131 from the server's sources
  hotfix.fleet.hotfix:
    name: KB967131
  register: hotfix

- name: Reboot where the hotfix needs it
  ansible.builtin.reboot:
  when: hotfix.reboot_required

- name: Apply a bundle copied to the server, with its release key
  hotfix.fleet.hotfix:
    name: /srv/hotfix/KB967131-x64.hotfix
    trust: [/srv/hotfix/release.pub]

- name: Bring every listed hotfix to the latest revision the sources offer
  hotfix.fleet.hotfix:
    name: [KB967131, KB971234]
    state: latest

- name: Roll back
  hotfix.fleet.hotfix:
    name: KB967131
    state: absent

- name: Wait out another installer at work on the same server
  hotfix.fleet.hotfix:
    name: KB967131
    lock_timeout: 0
  register: result
  until: not result.busy | default(false)
  retries: 10
  delay: 30

- name: Patch an offline image, rebooted by its own command
  hotfix.fleet.hotfix:
    name: KB967131
    root: /mnt/image
    restart: now
    restart_command: /usr/local/sbin/image-restart
"""

RETURN = r"""
changed:
  description: A hotfix was applied or uninstalled (in check mode, would be).
  returned: always
  type: bool
reboot_required:
  description:
    - The server needs a reboot that has not happened; one a hotfix of this task needs, or
      one still pending from before. In check mode, whether the plan would need one.
  returned: always
  type: bool
  sample: true
restart_required:
  description: A restart (services or reboot) is needed and has not happened.
  returned: always
  type: bool
restart:
  description:
    - The restart need as the task leaves it (the installer's restart object, docs/json.md).
  returned: always
  type: dict
  sample:
    kind: reboot
    required: true
    state: pending
    since: "2026-12-03T10:00:00Z"
    scheduled_at: null
    policy: never
    mechanism: null
    hotfixes: [{id: KB967131, uninstalled: false}]
results:
  description: One per name, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The name as given.
      type: str
    id:
      description: The hotfix id, as the bundle or the installed state spells it.
      type: str
    bundle:
      description: The bundle file applied (for an id, the one fetched into the cache).
      type: str
    revision:
      description: The revision applied, installed or uninstalled.
      type: int
    outcome:
      description:
        - C(applied), C(already_installed), C(repaired), C(dry_run) (check mode; would be
          applied), C(not_applicable), C(uninstalled), C(would_uninstall) (check mode),
          C(not_installed).
      type: str
    applicable:
      description: The hotfix applies to this server.
      type: bool
    reason:
      description: Why it does not apply, what was done, or what is installed.
      type: str
    counts:
      description: Files by decision (C(install), C(replace), C(skip), C(keep), C(not_applicable)).
      type: dict
    restart_required:
      description: This hotfix needs (in check mode, would need) a restart.
      type: bool
    files:
      description:
        - In check and diff mode, each file with its action (C(path), C(decision),
          C(installed_version), C(new_version)), or for an uninstall C(path) and C(result).
      type: list
      elements: dict
      returned: in check mode or diff mode
processes:
  description:
    - Running processes that still use the files replaced (C(pid), C(command), C(unit),
      C(how), C(files)); restart them, or their unit, to use the new files.
  returned: always
  type: list
  elements: dict
rc:
  description: The exit code of the installer's last command (10 is success, restart required).
  returned: always
  type: int
cmd:
  description: The installer's last command, as a shell would run it.
  returned: always
  type: str
busy:
  description: Another installer held the root's lock for longer than I(lock_timeout).
  returned: failure
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hotfix.fleet.plugins.module_utils.hotfix_cli import (
    EXIT_NOT_APPLICABLE,
    EXIT_OK,
    EXIT_RESTART_REQUIRED,
    Installer,
    by_id,
    command_line,
    installer_argument_spec,
    is_bundle_path,
    lock_options,
)
from ansible_collections.hotfix.fleet.plugins.module_utils.hotfix_offers import best_offer

CHANGING_OUTCOMES = ("applied", "repaired", "dry_run", "uninstalled", "would_uninstall")


def argument_spec():
    spec = installer_argument_spec()
    spec.update(
        name=dict(type="list", elements="str", required=True, aliases=["id"]),
        state=dict(type="str", choices=["present", "absent", "latest"], default="present"),
        source=dict(type="str"),
        restart=dict(type="str", default="never"),
        restart_command=dict(type="str"),
        trust=dict(type="list", elements="path", default=[]),
        force=dict(type="bool", default=False),
        lock_timeout=dict(type="int", default=300),
        fail_on_not_applicable=dict(type="bool", default=False),
        accept_expired_metadata=dict(type="bool", default=False),
    )
    return spec


class HotfixTask(object):
    """One task: what is installed, what the sources offer, then one apply (or the
    uninstalls), and what to report."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.installer = Installer(module)
        self.results = []
        self.last = None  # the last Reply
        self.restart = None
        self.processes = []

    # ---- common options -------------------------------------------------------------

    def source_options(self):
        opts = ["--source", self.p["source"]] if self.p["source"] else []
        return opts + (["--accept-expired-metadata"] if self.p["accept_expired_metadata"] else [])

    def restart_options(self, policy):
        opts = ["--restart", policy]
        if self.p["restart_command"]:
            opts += ["--restart-command", self.p["restart_command"]]
        return opts

    def run(self, *args):
        self.last = self.installer.run(*args)
        return self.last

    def installed(self):
        reply = self.installer.expect(self.run("list"), (EXIT_OK,))
        return by_id(reply.data.get("hotfixes", []))

    # ---- present and latest -----------------------------------------------------------

    def apply(self):
        names = self.p["name"]
        installed = self.installed()
        wanted = {}  # name -> the result, for the names that need the installer's apply
        for name in names:
            result = self.decide(name, installed)
            self.results.append(result)
            if result is None:
                wanted[name] = True
        ids = [n for n in names if n in wanted and not is_bundle_path(n)]
        offers = self.offers(ids) if ids else {}
        arguments = []
        for i, name in enumerate(names):
            if name not in wanted:
                continue
            if is_bundle_path(name):
                arguments.append(name)
                continue
            verdict = offers.get(name.lower())
            if verdict is None or verdict["state"] != "applicable":
                self.results[i] = self.unapplied(name, installed, verdict)
            else:
                arguments.append(name)
        if arguments:
            self.apply_arguments(arguments)
        self.results = [r for r in self.results if r is not None]

    def decide(self, name, installed):
        """The result for a name nothing needs to be done for, or None."""
        if is_bundle_path(name) or self.p["state"] == "latest":
            return None
        have = installed.get(name.lower())
        if not have:
            return None
        return dict(
            name=name,
            id=have["id"],
            bundle=None,
            revision=have["revision"],
            outcome="already_installed",
            applicable=True,
            reason="revision %d is installed" % have["revision"],
            counts=None,
            restart_required=False,
        )

    def unapplied(self, name, installed, verdict):
        """An id that is not applied: installed at the newest revision offered, superseded,
        not applicable here, or not offered at all."""
        have = installed.get(name.lower())
        if verdict and verdict["state"] == "installed":
            outcome, applicable = "already_installed", True
        else:
            outcome, applicable = "not_applicable", False
        reason = verdict["reason"] if verdict else "no source offers it"
        return dict(
            name=name,
            id=(verdict or {}).get("id") or (have or {}).get("id") or name,
            bundle=None,
            revision=(verdict or {}).get("revision") or (have or {}).get("revision"),
            outcome=outcome,
            applicable=applicable,
            reason=reason,
            counts=None,
            restart_required=False,
        )

    def offers(self, ids):
        """What the sources offer this server for each id: a sync (check mode: a dry run
        that stores nothing), then the best offer per id."""
        args = ["sync"] + self.source_options() + lock_options(self.p["lock_timeout"])
        if self.module.check_mode:
            args.append("--dry-run")
        reply = self.installer.expect(self.run(*args), (EXIT_OK,))
        facts = self.installer.expect(self.run("facts"), (EXIT_OK,)).data
        offered = []
        for source in reply.data.get("sources", []):
            offered += source.get("offers", [])
        return dict((i.lower(), best_offer(offered, i, facts.get("architecture"))) for i in ids)

    def apply_arguments(self, arguments):
        args = ["apply"] + arguments + self.restart_options(self.p["restart"])
        for key in self.p["trust"]:
            args += ["--trust", key]
        if self.p["force"]:
            args.append("--force")
        if self.module.check_mode:
            args.append("--dry-run")
        args += self.source_options() + lock_options(self.p["lock_timeout"])
        reply = self.run(*args)
        data = reply.data
        if reply.rc not in (EXIT_OK, EXIT_RESTART_REQUIRED, EXIT_NOT_APPLICABLE) or (
            reply.rc == EXIT_NOT_APPLICABLE and not data.get("results")
        ):
            self.fail_with(reply)
        self.restart = data.get("restart")
        self.processes = data.get("processes_using_old_files") or []
        self.merge(data.get("results") or [])

    def merge(self, applied):
        """Puts the installer's result for each argument in the place of its name. The
        installer applies in dependency order and names fetched bundles by their cache
        file, so results are matched by id (ids) or by bundle path (files)."""
        for i, result in enumerate(self.results):
            if result is not None:
                continue
            name = self.p["name"][i]
            mine = [a for a in applied if matches(name, a)]
            self.results[i] = self.apply_result(name, mine[0] if mine else None)

    def apply_result(self, name, a):
        if a is None:
            return dict(name=name, id=None, bundle=None, revision=None, outcome="not_applicable",
                        applicable=False, reason="the installer reported nothing for it",
                        counts=None, restart_required=False)
        outcome = a.get("outcome")
        result = dict(
            name=name,
            id=a.get("id"),
            bundle=a.get("bundle"),
            revision=a.get("revision"),
            outcome="not_applicable" if outcome == "refused" else outcome,
            applicable=outcome != "refused",
            reason=a.get("reason"),
            counts=a.get("counts"),
            restart_required=bool(a.get("restart_required")),
            restart_kind=a.get("restart_kind"),
        )
        if self.module.check_mode or self.module._diff:
            result["files"] = a.get("files", [])
        return result

    # ---- absent -----------------------------------------------------------------------

    def uninstall(self):
        for name in self.p["name"]:
            if is_bundle_path(name):
                self.module.fail_json(msg="%s: state=absent takes hotfix ids, not bundle files"
                                      % name)
        installed = self.installed()
        present = [n for n in self.p["name"] if n.lower() in installed]
        for name in self.p["name"]:
            have = installed.get(name.lower())
            if not have:
                self.results.append(dict(name=name, id=name, revision=None,
                                         outcome="not_installed", applicable=True,
                                         reason="not installed: nothing to uninstall",
                                         restart_required=False))
                continue
            # The restart policy on the last uninstall only: 'now' must not come first.
            policy = self.p["restart"] if name == present[-1] else "never"
            self.results.append(self.uninstall_one(name, have, policy))

    def uninstall_one(self, name, have, policy):
        args = ["uninstall", have["id"], "--missing-ok"] + self.restart_options(policy)
        if self.module.check_mode:
            args.append("--dry-run")
        reply = self.run(*(args + lock_options(self.p["lock_timeout"])))
        if reply.rc not in (EXIT_OK, EXIT_RESTART_REQUIRED):
            self.fail_with(reply)
        data = reply.data
        self.restart = data.get("restart")
        outcome = {"dry_run": "would_uninstall"}.get(data.get("outcome"), data.get("outcome"))
        result = dict(name=name, id=data.get("id"), revision=have["revision"], outcome=outcome,
                      applicable=True, reason="%d files handled" % len(data.get("files", [])),
                      restart_required=reply.rc == EXIT_RESTART_REQUIRED)
        if self.module.check_mode or self.module._diff:
            result["files"] = data.get("files", [])
        return result

    # ---- reporting --------------------------------------------------------------------

    def current_restart(self):
        if self.restart is None:
            self.restart = self.installer.run("status").data.get("restart")
        return self.restart or {}

    def report(self):
        restart = self.current_restart()
        changed = any(r["outcome"] in CHANGING_OUTCOMES for r in self.results)
        pending = bool(restart.get("required"))
        reboot = pending and restart.get("kind") == "reboot"
        if self.module.check_mode:  # what the plan would need, or what is pending already
            would = [r for r in self.results if r.get("restart_required")]
            reboot = reboot or any(r.get("restart_kind") == "reboot" for r in would)
            pending = pending or bool(would)
        out = dict(
            failed=False,  # rc 10 is success: Ansible would take a non-zero rc for failure
            changed=changed,
            reboot_required=reboot,
            restart_required=pending,
            restart=restart,
            results=self.results,
            processes=self.processes,
            rc=self.last.rc if self.last else 0,
            cmd=command_line(self.last.cmd) if self.last else "",
        )
        if self.module._diff:
            out["diff"] = diff_of(self.results)
        refused = [r for r in self.results if not r["applicable"]]
        if refused and self.p["fail_on_not_applicable"]:
            out["msg"] = "; ".join("%s: not applicable: %s" % (r["name"], r["reason"])
                                   for r in refused)
            del out["failed"]
            self.module.fail_json(**out)
        self.module.exit_json(**out)

    def fail_with(self, reply):
        self.installer.fail(reply, results=[r for r in self.results if r is not None],
                            changed=any(r and r["outcome"] in CHANGING_OUTCOMES
                                        for r in self.results))


def matches(name, applied):
    if is_bundle_path(name):
        return applied.get("bundle") == name
    return str(applied.get("id", "")).lower() == name.lower()


def diff_of(results):
    """Each hotfix's revision before and after, and each file's action."""
    before, after = [], []
    for r in results:
        hid, rev = r.get("id") or r["name"], r.get("revision")
        if r["outcome"] in ("applied", "dry_run", "repaired"):
            before.append("%s: not installed\n" % hid)
            after.append("%s: revision %s\n" % (hid, rev))
            for f in r.get("files", []):
                after.append("  %-8s %s  %s -> %s\n" % (
                    f.get("decision"), f.get("path"), f.get("installed_version") or "-",
                    f.get("new_version") or "-"))
        elif r["outcome"] in ("uninstalled", "would_uninstall"):
            before.append("%s: revision %s\n" % (hid, rev))
            after.append("%s: not installed\n" % hid)
            for f in r.get("files", []):
                after.append("  %s: %s\n" % (f.get("path"), f.get("result")))
    return dict(before="".join(before), after="".join(after),
                before_header="hotfixes before", after_header="hotfixes after")


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    task = HotfixTask(module)
    if module.params["state"] == "absent":
        task.uninstall()
    else:
        task.apply()
    task.report()


if __name__ == "__main__":
    main()
