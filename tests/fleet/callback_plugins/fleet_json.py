# A stdout callback for the fleet tests: the whole run as one JSON object at the end, with
# one entry per play as run (with serial, one per wave) and each task's result per host,
# unreachable and failed ones included. (ansible-core 2.14 ships no json callback: that one
# is in ansible.posix, which the tests do not need.)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_json
type: stdout
short_description: The run as one JSON object, for the fleet tests
description: Plays (one per wave), tasks, per-host results and the recap, printed at the end.
"""

import json

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "fleet_json"

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name()}, "tasks": []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.plays[-1]["tasks"].append({"task": {"name": task.get_name()}, "hosts": {}})

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def _record(self, result, **flags):
        r = dict(result._result)
        r.update(flags)
        self.plays[-1]["tasks"][-1]["hosts"][result._host.get_name()] = r

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_playbook_on_stats(self, stats):
        recap = {}
        for h in sorted(stats.processed.keys()):
            recap[h] = stats.summarize(h)
        print(json.dumps({"plays": self.plays, "stats": recap}, default=str))
