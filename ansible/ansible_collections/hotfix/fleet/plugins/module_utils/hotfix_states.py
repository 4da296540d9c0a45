# -*- coding: utf-8 -*-
# One state per hotfix and server, the words a fleet's compliance is told in (docs/fleet.md):
# installed, restart_pending, damaged, superseded, missing, not_applicable, failed, absent.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Outcomes of an apply that left the hotfix not installed (docs/json.md, "Outcomes").
FAILED_OUTCOMES = ("refused", "rolled_back")


def hotfix_state(hotfix_id, installed, offer, differing_files, restart, last_attempt, asked):
    """The state of one hotfix on one server.

    installed: its entry in `list`, or None; offer: what the sources offer this server
    (hotfix_offers.best_offer), or None; differing_files: its files that verify found not
    as promised; restart: the restart object; last_attempt: its last apply or uninstall in
    the history, or None; asked: whether the sources were asked at all."""
    state = dict(state="absent", revision=None, reason=None, differing_files=differing_files,
                 last_attempt=last_attempt)
    if installed:
        state["revision"] = installed.get("revision")
        state.update(installed_state(hotfix_id, installed, differing_files, restart))
    elif offer and offer["state"] in ("superseded", "not_applicable"):
        state.update(state=offer["state"], reason=offer["reason"])
    elif offer and offer["state"] == "applicable":
        state["revision"] = offer.get("revision")
        if last_attempt and last_attempt["action"] == "apply" and \
                last_attempt["outcome"] in FAILED_OUTCOMES:
            state.update(state="failed", reason="%s at %s: %s" % (
                last_attempt["outcome"], last_attempt["at"], last_attempt["detail"]))
        else:
            state.update(state="missing", reason="revision %s is offered" % offer.get("revision"))
    else:
        state["reason"] = "no source offers it" if asked else "not installed"
    return state


def installed_state(hotfix_id, installed, differing_files, restart):
    if differing_files:
        return dict(state="damaged", reason="%d file(s) differ from what it promised"
                    % len(differing_files))
    needs = [h.get("id", "").lower() for h in restart.get("hotfixes", [])]
    if restart.get("required") and hotfix_id.lower() in needs:
        return dict(state="restart_pending", reason="installed; the %s it needs is pending since %s"
                    % (restart.get("kind"), restart.get("since")))
    return dict(state="installed", reason="revision %s installed at %s"
                % (installed.get("revision"), installed.get("installed_at")))
