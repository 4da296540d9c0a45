# -*- coding: utf-8 -*-
# What the sources offer one server for a hotfix id, from `sync --json`'s offers: the
# installer classifies each published bundle (applicable, installed, superseded,
# not_applicable, with the reason); this picks the one that speaks for this server.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The better an offer's state, the more it says about the server.
RANK = {"applicable": 0, "installed": 1, "superseded": 2, "not_applicable": 3}


def best_offer(offers, hotfix_id, architecture):
    """The offer for `hotfix_id` (ASCII case ignored) that decides what it is to a server of
    `architecture`, as a dict with id, revision, state and reason; None when no source
    offers the id at all."""
    mine = [o for o in offers if str(o.get("id", "")).lower() == hotfix_id.lower()]
    if not mine:
        return None
    here = [o for o in mine if o.get("architecture") == architecture]
    if not here:
        archs = sorted(set(str(o.get("architecture")) for o in mine))
        return dict(id=mine[0].get("id"), revision=None, state="not_applicable",
                    reason="no bundle for %s (offered for %s)" % (architecture, ", ".join(archs)))
    here.sort(key=lambda o: (RANK.get(o.get("state"), 9), -int(o.get("revision") or 0)))
    o = here[0]
    return dict(id=o.get("id"), revision=o.get("revision"), state=o.get("state"),
                reason=o.get("reason") or ("revision %s is offered" % o.get("revision")))
