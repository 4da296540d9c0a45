# -*- coding: utf-8 -*-
# Options every module of hotfix.fleet shares: the program it runs and the root it acts on.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  executable:
    description:
      - The C(hotfix-installer) program to run, as a path or a name looked up in C(PATH).
    type: path
    default: hotfix-installer
  root:
    description:
      - The target root. C(/) is the server itself; any other directory is an offline image
        (a mounted disk, a chroot), which the installer treats as a server of its own.
    type: path
    default: /
requirements:
  - C(hotfix-installer) 0.1.0 or later on the managed host (its C(--json) interface,
    schema version 1).
notes:
  - The module runs C(hotfix-installer --json) and reports what it said; the installer's
    own messages are in C(msg) and, one per line, in C(stderr_lines).
"""
