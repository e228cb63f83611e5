"""The agents' desk: one set of use cases behind three faces (the JSON API ``/agent/...``, the web inbox
``/inbox`` and the terminal inbox ``python -m tools.inbox``).

Who an agent is, their teams and whether they lead, come from their sign-in token (``AgentDirectory.verify``),
never from the request. Agents act while one of their teams is on shift, on the desks their teams cover:

- ``claims.next_ticket`` claims the next waiting ticket (urgent first, then oldest first contact) with a
  conditional write, so two agents never hold one ticket; the claim lasts until the end of the agent's shift or the
  idle limit (``CLAIM_IDLE_MINUTES``), whichever is first, and every action by the holder renews the idle limit;
- ``claims.claim`` one named ticket (the same conditional write);
- ``views.show`` the whole story; ``actions.reply`` on the customer's own channel through the outbox;
  ``actions.note`` (internal); ``actions.transfer`` to another desk; ``claims.release``; ``actions.resolve``;
  ``actions.reopen``; ``actions.link`` two identities as one customer;
- ``actions.label`` what the first message really was (intent, urgent): the ticket follows it, and leads export the
  labels (``oversight.labels``) in the triage report's format, to measure triage on the brand's own traffic.

The modules, by responsibility:

- ``commands``: what an agent asks, validated once from a JSON body or a web form (``Reply``, ``Note`` …), and
  ``Action``, the name of every action on a ticket, which the API, the web inbox and the terminal share;
- ``access``: sign-in, the token, shifts, covered desks, who may act on or oversee a ticket;
- ``claims``: taking and giving back tickets, and claims that run out;
- ``actions``: the actions on a ticket, each returning a small typed outcome (``results``), and ``ACTIONS``, the one
  table from an ``Action`` to its use case;
- ``views``: what the faces show (typed, ``to_json()`` for the API);
- ``oversight``: the leads' overview and the labels' export.

Refusals say why, for a person: ``NotAuthenticated`` (no or bad token), ``Forbidden`` (off shift, a desk the
team does not cover, a ticket the agent does not hold), ``Conflict`` (resolved, merged), ``Invalid`` (a reply
longer than the channel allows — before anything is queued).

This package imports nothing on its own: ``tools.inbox`` reads ``commands.Action`` without loading the services.
"""
