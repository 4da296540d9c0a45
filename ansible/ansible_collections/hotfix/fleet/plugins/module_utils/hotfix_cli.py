# -*- coding: utf-8 -*-
# Runs hotfix-installer with --json and reads its one JSON object (docs/json.md): the only
# interface the modules use, so that what they report is what the installer said.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# Exit codes of hotfix-installer (docs/exit-codes.md).
EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_NOT_APPLICABLE = 5
EXIT_BUSY = 6
EXIT_STATE_OR_METADATA = 8
EXIT_UNREACHABLE = 9
EXIT_RESTART_REQUIRED = 10

SCHEMA_VERSION = "v1"


def installer_argument_spec():
    """The options of the installer doc fragment."""
    return dict(
        executable=dict(type="path", default="hotfix-installer"),
        root=dict(type="path", default="/"),
    )


def is_bundle_path(name):
    """A bundle is named by a path (a '/') or its extension; anything else is a hotfix id,
    as the installer itself tells them apart."""
    return "/" in name or name.endswith(".hotfix")


class Reply(object):
    """One run of the installer: its exit code and the envelope it printed."""

    def __init__(self, cmd, rc, envelope, stderr):
        self.cmd = cmd
        self.rc = rc
        self.envelope = envelope
        self.stderr = stderr

    @property
    def data(self):
        return self.envelope.get("data") or {}

    @property
    def errors(self):
        return self.envelope.get("errors") or []

    @property
    def warnings(self):
        return self.envelope.get("warnings") or []

    @property
    def ok(self):
        return bool(self.envelope.get("ok"))

    def error_kinds(self):
        return [e.get("kind") for e in self.errors]

    def message(self):
        """The installer's errors as one line each, 'where: message', as it prints them."""
        lines = []
        for e in self.errors:
            where = e.get("where")
            lines.append("%s: %s" % (where, e.get("message")) if where else e.get("message"))
        return "; ".join(lines) or "exit code %d" % self.rc


class Installer(object):
    """hotfix-installer on the managed host, for one root."""

    def __init__(self, module):
        self.module = module
        exe = module.params["executable"]
        self.executable = exe if "/" in exe else module.get_bin_path(exe, required=True)
        self.root = module.params["root"]
        self.commands = []  # every command run, in order

    def run(self, *args):
        """Runs one command with --root and --json. Returns its Reply; fails the module
        when the output is not the installer's JSON (another program, a crash)."""
        cmd = [self.executable] + list(args) + ["--root", self.root, "--json"]
        rc, out, err = self.module.run_command(cmd, environ_update={"LC_ALL": "C.UTF-8"})
        self.commands.append(cmd)
        envelope = self._parse(cmd, rc, out, err)
        for w in envelope.get("warnings") or []:
            self.module.warn("hotfix-installer: %s" % w)
        return Reply(cmd, rc, envelope, err)

    def _parse(self, cmd, rc, out, err):
        try:
            envelope = json.loads(out)
        except ValueError:
            envelope = None
        schema = envelope.get("schema", "") if isinstance(envelope, dict) else ""
        if not schema.startswith("hotfix-installer.") or not schema.endswith("." + SCHEMA_VERSION):
            self.module.fail_json(
                msg="%s did not answer with hotfix-installer's JSON (schema %s): exit code %d: %s"
                % (self.executable, SCHEMA_VERSION, rc, (err or out).strip()[:2000]),
                rc=rc,
                cmd=command_line(cmd),
                stdout=out,
                stderr=err,
            )
        return envelope

    def fail(self, reply, msg=None, **extra):
        """Fails the module with what the installer said, its exit code and command."""
        result = dict(
            msg=msg or reply.message(),
            rc=reply.rc,
            cmd=command_line(reply.cmd),
            errors=reply.errors,
            stderr_lines=reply.stderr.splitlines(),
        )
        if reply.rc == EXIT_BUSY:
            result["busy"] = True
        result.update(extra)
        self.module.fail_json(**result)

    def expect(self, reply, codes):
        """The reply when its exit code is one of `codes`; else the module fails with it."""
        if reply.rc not in codes:
            self.fail(reply)
        return reply


def lock_options(timeout):
    """How long a writing command waits for another installer (None: as long as it takes)."""
    return [] if timeout is None else ["--lock-timeout", str(timeout)]


def command_line(cmd):
    try:
        from shlex import quote
    except ImportError:  # pragma: no cover - Python 2 is not supported by the installer
        from pipes import quote
    return " ".join(quote(c) for c in cmd)


def by_id(items, key="id"):
    """Items keyed by hotfix id, ignoring ASCII case as the installer does."""
    return dict((str(i.get(key, "")).lower(), i) for i in items)
