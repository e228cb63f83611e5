"""What triage decided about answering a message, as a value: the intent it gave, whether the customer is answered
automatically and why, in which tone and how sure. ``triage()`` produces it (``Triage.decision``); the ticket keeps it
(``Ticket.decision``, and an agent's label as ``Ticket.relabel``); closing time, the busy acknowledgement and the
agents' view read it. ``Ticket.reasons`` stays the explanation for people and is never read back for the decision.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.jsonvalue import JsonObject
from chalicelib.domain.vocabulary import Intent, MaybeTone, maybe_tone

__all__ = ["TriageDecision"]


@dataclass(frozen=True)
class TriageDecision:
    intent: Intent  # the intent given (by triage, or by the agent's label)
    answered: bool  # whether the customer gets an automatic acknowledgement
    why: str = ""  # why (or why not), for people: "complaint", "praise is never acknowledged", "labelled praise"
    tone: MaybeTone = ""  # how the reply reads; empty when not answered
    confidence: float | None = None  # the learned scorer's probability of what decided it (None: rules alone)

    def __post_init__(self) -> None:
        object.__setattr__(self, "intent", Intent(self.intent))
        object.__setattr__(self, "tone", maybe_tone(self.tone))
        object.__setattr__(self, "answered", bool(self.answered))
        if self.confidence is not None:
            object.__setattr__(self, "confidence", float(self.confidence))

    @property
    def lines(self) -> tuple[str, ...]:
        """The decision as the explanation words it (``Triage.reasons``): ``acknowledge: yes (why)``, then
        ``tone neutral (confidence 0.84)`` when there is a tone."""
        said = [f"acknowledge: {'yes' if self.answered else 'no'} ({self.why})"]
        if self.tone:
            said.append(f"tone {self.tone}" + (f" (confidence {self.confidence:.2f})"
                                               if self.confidence is not None else ""))
        return tuple(said)

    def to_dict(self) -> dict[str, object]:
        return {"intent": str(self.intent), "answered": self.answered, "why": self.why, "tone": str(self.tone),
                "confidence": self.confidence}

    @classmethod
    def from_dict(cls, data: JsonObject) -> TriageDecision:
        confidence = data.get("confidence")
        return cls(intent=Intent(str(data["intent"])), answered=bool(data["answered"]),
                   why=str(data.get("why") or ""), tone=maybe_tone(str(data.get("tone") or "")),
                   confidence=float(confidence) if isinstance(confidence, (int, float, str)) else None)
